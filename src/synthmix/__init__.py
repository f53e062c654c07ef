"""synthmix: run, analyse and monitor synthetic-data mixing studies on language models."""

__version__ = "0.1.0"
