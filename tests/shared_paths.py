"""Where the benchmarks' original files are: ``shared/`` beside the checkout (CI's layout), else /work/shared.

Tests read real evaluation rows from there and never copy them into the repo.
"""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = [Path(os.environ["SYNTHMIX_SHARED"])] if "SYNTHMIX_SHARED" in os.environ else []
_CANDIDATES += [Path(__file__).resolve().parents[2] / "shared", Path("/work/shared")]
SHARED = next((p for p in _CANDIDATES if (p / "data").is_dir()), _CANDIDATES[-1])
DATA = SHARED / "data"
TOKENIZER_FILE = SHARED / "models" / "pythia-tokenizer" / "20B_tokenizer.json"
