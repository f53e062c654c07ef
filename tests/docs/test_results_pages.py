"""docs/results/*.md: each published results page is what its committed snapshot renders today, byte for byte.

A page whose numbers drift from its data (a hand edit, or an engine change that moves a number) fails here;
the fix is to regenerate it (`synthmix publish STUDY --out PAGE --from-snapshot`) and read the diff.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from synthmix.config import load_study
from synthmix.report.results_page import publish

ROOT = Path(__file__).resolve().parents[2]
PAGES = {"paper-mini": "studies/paper-mini.yaml", "paper-mini-horizon": "studies/paper-mini-horizon.yaml"}


def _published() -> list[str]:
    return [name for name in PAGES if (ROOT / "docs" / "results" / name / "data").is_dir()]


@pytest.mark.parametrize("name", _published())
def test_results_page_regenerates_from_its_snapshot(name: str, tmp_path: Path) -> None:
    page = ROOT / "docs" / "results" / f"{name}.md"
    study = load_study(ROOT / PAGES[name])
    shutil.copytree(page.parent / name / "data", tmp_path / name / "data")
    command = f"synthmix publish {PAGES[name]} --out docs/results/{name}.md"
    fresh = publish(study, tmp_path / f"{name}.md", from_snapshot=True, command=command)
    assert fresh.read_text(encoding="utf-8") == page.read_text(encoding="utf-8"), (
        f"docs/results/{name}.md differs from what its snapshot renders; run `{command} --from-snapshot`")
    committed = {p.name for p in (page.parent / name).glob("*.png")}
    assert committed == {p.name for p in (tmp_path / name).glob("*.png")}
    for png in committed:
        assert (page.parent / name / png).stat().st_size < 400_000, f"{png} is too large for the repository"
    assert f"]({name}/" in page.read_text(encoding="utf-8")


def test_every_results_page_has_its_study() -> None:
    for page in (ROOT / "docs" / "results").glob("*.md"):
        if (page.parent / page.stem / "data").is_dir():
            assert page.stem in PAGES, f"{page} has a snapshot but no study in PAGES"
