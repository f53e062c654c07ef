"""Tiny real step modules for cluster tests: the five step kinds in milliseconds, importable by workers via PYTHONPATH."""
