"""Named pause and fail points for crash trials: a process reaching the point named in ``SYNTHMIX_PAUSE_AT`` stops there.

It touches the file named by ``SYNTHMIX_PAUSE_FILE`` and sleeps until killed, so a test can ``kill -9``
the driver at an exact phase (after a manifest is written but before the rename; in the middle of an
ingest transaction). With the variable unset, ``pause_point`` is a dictionary lookup and nothing else. ``fail_point`` raises the
error named in ``SYNTHMIX_FAIL_AT`` (``NAME:ENOSPC``) at the point ``NAME``, e.g. a full disk while committing.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path


def pause_point(name: str) -> None:
    """Stop here forever if the environment asks to (crash trials); otherwise return at once."""
    if os.environ.get("SYNTHMIX_PAUSE_AT") != name:
        return
    marker = os.environ.get("SYNTHMIX_PAUSE_FILE")
    if marker:
        Path(marker).write_text(f"{name} {os.getpid()}\n")
    while True:
        time.sleep(3600)


def fail_point(name: str) -> None:
    """Raise the OSError ``SYNTHMIX_FAIL_AT=name:ERRNO`` asks for (e.g. ``commit:write-manifest:ENOSPC``); else return."""
    point, _, code = os.environ.get("SYNTHMIX_FAIL_AT", "").rpartition(":")
    if point == name:
        number = getattr(errno, code)
        raise OSError(number, os.strerror(number), f"failpoint {name}")
