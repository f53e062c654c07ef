"""The report in a real browser (headless Chromium): no console errors, every figure decodes, a screenshot is saved."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from synthmix.report.html import write_report

pytestmark = pytest.mark.slow

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars"]
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message || (e.target && e.target.alt) || e.type)), true);
const origError = console.error; console.error = (...a) => { window.__errors.push(a.join(' ')); origError(...a); };
window.addEventListener('load', () => {
  document.body.setAttribute('data-images', JSON.stringify([...document.images].map(
    i => [i.alt, i.naturalWidth, i.naturalHeight, i.complete])));
  document.body.setAttribute('data-errors', JSON.stringify(window.__errors));
});
</script>"""


def _chromium() -> str:
    """Debian's chromium (installed by the test set-up: apt-get install -y chromium)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed; run `apt-get install -y chromium` (the CI set-up does)")
    return exe


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    """Run headless chromium with a fresh profile; returns stdout (the DOM) and stderr (the console log)."""
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def _report(tmp_path: Path, study_builder) -> Path:
    """The quickstart's report when its study has run here, else the hand-built study's."""
    quickstart = Path(os.environ.get("SYNTHMIX_QUICKSTART_REPORT", ""))
    if quickstart.is_file():
        return quickstart
    return write_report(study_builder(tmp_path / "db"))


def test_report_renders_in_chromium_without_errors_and_every_figure_decodes(tmp_path, study_builder):
    report = _report(tmp_path, study_builder)
    page = report.read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    dom = _run(["--virtual-time-budget=10000", "--dump-dom", probe.as_uri()], tmp_path / "profile1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    images = json.loads(re.search(r'data-images="([^"]*)"', dom.stdout).group(1).replace("&quot;", '"'))
    errors = json.loads(re.search(r'data-errors="([^"]*)"', dom.stdout).group(1).replace("&quot;", '"'))
    assert errors == []
    assert len(images) == page.count("<img ") >= 1
    for alt, width, height, complete in images:
        assert complete and width > 100 and height > 100, alt

    shot = tmp_path / "report.png"
    run = _run([f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri()], tmp_path / "profile2")
    assert run.returncode == 0, run.stderr[-2000:]
    console = [ln for ln in run.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln or "Failed to load" in ln]
    assert console == []
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("SYNTHMIX_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report.png")
