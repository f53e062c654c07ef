"""Answer spans inside generated predictions, for the confidence of the answer alone."""

from __future__ import annotations


def stripped_span(prediction: str) -> tuple[int, int] | None:
    """The span of ``prediction`` without surrounding whitespace; ``None`` when nothing is left."""
    stripped = prediction.strip()
    if not stripped:
        return None
    start = prediction.index(stripped)
    return start, start + len(stripped)
