"""tasks/mini."""
