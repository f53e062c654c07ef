"""Whether a study's report is current: it records the database fingerprint it was made from.

Checked before anything heavy is imported, so re-running a finished study does not redraw its report
(rendering imports scipy and matplotlib and fits every curve; the check is one query).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STAMP = "fingerprint"


def database_fingerprint(study: Any) -> str:
    """The fingerprint of the study's results database."""
    from synthmix.driver import open_db

    db = open_db(study)
    try:
        return db.fingerprint()
    finally:
        db.close()


def current_report(study: Any, fingerprint: str) -> Path | None:
    """The default report's path if it was made from exactly this database, else None."""
    out = study.study_dir / "report"
    path, stamp = out / "report.html", out / STAMP
    if path.is_file() and stamp.is_file() and stamp.read_text() == fingerprint:
        return path
    return None


def write_current_report(study: Any) -> tuple[Path, bool]:
    """Write the default report unless the one on disk is current; returns (path, written)."""
    fingerprint = database_fingerprint(study)
    path = current_report(study, fingerprint)
    if path is not None:
        return path, False
    from synthmix.report.html import write_report

    path = write_report(study)
    (path.parent / STAMP).write_text(fingerprint)
    return path, True
