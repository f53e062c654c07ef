"""One self-contained HTML report of a study: findings, warnings, tables, figures, pools, config and provenance.

Figures are embedded as PNG data URIs and the page holds no script and no external link, so it opens
offline and in any browser. Tables, figures (PNG + SVG) and table exports (CSV, Markdown, LaTeX) are
also written beside it. ``write_report(study)`` is what ``synthmix run`` and ``synthmix report`` call.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from synthmix.analysis.stats import ECE_MIN_EXAMPLES, TEST_SET_NOISE_ONLY
from synthmix.report.early_warning import early_warning_tables, warning_finding
from synthmix.report.findings import headline_findings
from synthmix.report.grid_model import grid_finding, table_grid_model
from synthmix.report.tables import (
    LOW_PARSE_RATE,
    Omitted,
    ReportTable,
    StudyFrames,
    build_tables,
    condition_status,
    export_table,
    load_frames,
)

SAMPLES_SHOWN = 25  # samples per pool in the browsable listing
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1200px;
 padding:0 1rem;color:#1a1a1a;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f2f6fa;border-bottom:2px solid #999}
.caption{font-size:.85rem;color:#444;max-width:70rem}.note{font-size:.8rem;color:#555}
.summary li{margin:.35rem 0}.warnings li{margin:.25rem 0;color:#8a4b00}
td.bad{color:#b00020;font-weight:600}td.wait{color:#8a6d00}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85rem;color:#444}
pre{background:#f7f7f7;padding:.6rem;overflow:auto;font-size:.78rem;max-height:30rem}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
.sample{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.75rem;max-width:50rem}
"""


def _e(value: Any) -> str:
    """HTML-escaped text of a value."""
    return html.escape("" if value is None else str(value))


def _cell_class(text: str) -> str:
    """CSS class marking failed and missing cells."""
    if text.startswith("✗"):
        return ' class="bad"'
    return ' class="wait"' if text.startswith("…") else ""


def frame_html(df: pd.DataFrame, table_id: str = "") -> str:
    """An HTML table of a frame of formatted cells; failed cells and pending cells get their own classes."""
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    rows = []
    for row in df.itertuples(index=False):
        cells = [str(v) for v in row]
        rows.append("<tr>" + "".join(f"<td{_cell_class(v)}>{_e(v)}</td>" for v in cells) + "</tr>")
    ident = f' id="{_e(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _table_section(t: ReportTable) -> str:
    """A table with its caption, notes and links to its exports."""
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in t.notes)
    links = " · ".join(f'<a href="tables/{t.key}.{ext}">{ext}</a>' for ext in ("csv", "md", "tex"))
    return (f'<section id="{t.key}"><h3>{_e(t.title)}</h3><p class="caption">{_e(t.caption)}</p>'
            f"{frame_html(t.display, t.key + '-table')}{notes}<p class=\"note\">exports: {links}</p></section>")


def _figure_html(fig: Any) -> str:
    """A figure embedded as a PNG data URI."""
    data = base64.b64encode(fig.png.read_bytes()).decode("ascii")
    svg = f" (SVG: figures/{fig.key}.svg)" if fig.svg else ""
    return (f'<figure id="fig-{fig.key}"><img alt="{_e(fig.title)}" src="data:image/png;base64,{data}">'
            f"<figcaption><b>{_e(fig.title)}.</b> {_e(fig.caption)}{svg}</figcaption></figure>")


def _omitted_html(items: list[Omitted]) -> str:
    """The list of tables and figures left out, each with its reason."""
    if not items:
        return ""
    lis = "".join(f"<li><b>{_e(o.title)}</b>: {_e(o.reason)}</li>" for o in items)
    return f"<h3>Not shown for this study</h3><ul>{lis}</ul>"


def study_warnings(frames: StudyFrames, cells: pd.DataFrame, tables: dict[str, ReportTable]) -> list[str]:
    """Warnings a reader must see before trusting the numbers."""
    out = []
    if not cells.empty and cells["n_seeds"].max() < 2:
        out.append(f"Single training seed: intervals and tests cover {TEST_SET_NOISE_ONLY}, not training variance.")
    status = condition_status(frames)
    for state in ("failed", "skipped", "pending", "missing"):
        n = int((status["status"] == state).sum())
        if n:
            out.append(f"{n} planned condition(s) {state}; their cells are marked in the tables.")
    for aid, err in frames.failures.items():
        last = (err or "").strip().splitlines()[-1] if err and err.strip() else "no message"
        out.append(f"Step {aid[:12]} failed: {last}")
    ex = frames.examples
    if not ex.empty:
        n = ex.groupby(["model", "task", "share", "iteration", "seed", "regime"]).size()
        small = n.loc[n < ECE_MIN_EXAMPLES]
        if len(small):
            out.append(f"{len(small)} condition(s) have fewer than {ECE_MIN_EXAMPLES} test examples "
                       f"(smallest: {int(small.min())}); 10-bin ECE is unreliable there (HELM's rule of thumb).")
    if (frames.scores["task"].astype(str).str.contains("code")).any() and frames.has_metric("ece"):
        out.append("Code tasks: confidence of generated programs is near 0, so their ECE is marked unreliable.")
    pools = tables.get("pools")
    if pools is not None:
        low = pools.data.loc[pools.data["parse_rate"] < LOW_PARSE_RATE]
        for r in low.itertuples():
            out.append(f"Low parse rate {r.parse_rate:.3f} in pool {r.artifact_id[:12]} ({r.model}, {r.task}, seed {r.seed}).")
        if "test_matches" in pools.data:
            hit = pools.data.loc[pools.data["test_matches"].fillna(0) > 0]
            for r in hit.itertuples():
                out.append(f"Contamination: the writer of pool {r.artifact_id[:12]} ({r.model}, {r.task}) wrote "
                           f"{int(r.test_matches)} eval item(s) verbatim (normalised hash); they were kept out of the pool.")
    return out + floor_warnings(tables.get("baselines"))


def floor_warnings(baselines: ReportTable | None) -> list[str]:
    """One warning per iteration-0 model that does not beat its task's trivial baseline: its share effects sit on a floor."""
    if baselines is None:
        return []
    return [f"{r.model} on {r.task} does not beat the trivial baseline {r.baseline} at iteration 0 ({r.score:.3f} "
            f"against {r.baseline_score:.3f}, difference CI [{r.ci_low:.3f}, {r.ci_high:.3f}]): it has not learned the "
            "task, so changes with the synthetic share are not evidence about synthetic data."
            for r in baselines.data.loc[~baselines.data["beats"].astype(bool)].itertuples()]


def _pools_html(frames: StudyFrames) -> str:
    """A browsable sample of each synthetic pool: parsed or not, verified, and the reason."""
    s = frames.samples
    if s.empty:
        return "<p>No synthetic pools.</p>"
    parts = []
    for aid, g in s.groupby("artifact_id", sort=False):
        first = g.iloc[0]
        shown = g.head(SAMPLES_SHOWN)
        rows = "".join(
            f"<tr><td>{_e(r.sample_id)}</td><td>{'yes' if r.parsed_ok else 'no'}</td>"
            f"<td>{'—' if pd.isna(r.verified) else ('yes' if r.verified else 'no')}</td><td>{_e(r.reason or '')}</td>"
            f'<td class="sample">{_e(r.text)}</td></tr>' for r in shown.itertuples())
        parsed = int(g["parsed_ok"].sum())
        parts.append(
            f"<details><summary>pool {_e(aid[:12])} · {_e(first['model'])} · {_e(first['task'])} · seed "
            f"{_e(first['seed'])} · {parsed}/{len(g)} parsed (first {len(shown)} shown)</summary>"
            f"<table><thead><tr><th>sample</th><th>parsed</th><th>verified</th><th>reason</th><th>text</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></details>")
    return "".join(parts)


def provenance_frame(frames: StudyFrames) -> pd.DataFrame:
    """Every artifact behind a number: id, kind, label, code and library versions, wall time, device, host."""
    a = frames.artifacts
    if a.empty:
        return pd.DataFrame()
    versions = []
    for m in a["manifest"]:
        man = json.loads(m) if m else {}
        v = man.get("versions") or {}
        versions.append(", ".join(f"{k} {val}" for k, val in sorted(v.items())) if isinstance(v, dict) else str(v))
    return pd.DataFrame({
        "artifact": a["artifact_id"], "kind": a["kind"], "label": a["label"], "code version": a["code_version"],
        "versions": versions, "wall (s)": a["wall_s"].map(lambda x: "—" if pd.isna(x) else f"{x:.1f}"),
        "device": a["device"], "host": a["host"], "finished": a["finished"],
    }).sort_values(["kind", "label"])


def _conditions_html(frames: StudyFrames) -> str:
    """Every planned condition's evaluation artifact and status."""
    st = condition_status(frames)
    if st.empty:
        return "<p>No conditions.</p>"
    shown = st.assign(artifact_id=st["artifact_id"].fillna("—"),
                      status=st["status"].map(lambda s: s if s == "done" else ("✗ " if s in ("failed", "skipped") else "… ") + s))
    return frame_html(shown, "conditions")


def _config_html(study: Any) -> str:
    """The study's configuration as YAML."""
    import yaml

    data = json.loads(study.model_dump_json())
    return f"<pre>{_e(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))}</pre>"


def failed_pool_notes(study: Any, failures: dict[str, str]) -> list[str]:
    """For each failed writer whose attempt the store kept: the folder, parse reasons and suggestion (pool_failures)."""
    from synthmix.pool_failures import describe_failed_pool

    kept = [Path(study.store) / "generate" / ".failed" / aid for aid in failures]
    return [" ".join(describe_failed_pool(folder, study.generation.n_shots, study.mixing.attempt_cap))
            for folder in kept if (folder / "failure.json").is_file()]


def report_tables(study: Any, frames: StudyFrames) -> tuple[list[ReportTable], list[Omitted], pd.DataFrame, list[str]]:
    """The tables every report format shows (omitted ones with reasons), the cell summary and the headline findings."""
    from synthmix.analysis.trivial_baselines import study_baselines

    tables, omitted, cells = build_tables(frames, study_baselines(study))
    for extra in (*early_warning_tables(frames), table_grid_model(frames)):
        (tables if isinstance(extra, ReportTable) else omitted).append(extra)
    by_key = {t.key: t for t in tables}
    findings = (headline_findings(cells, by_key) + grid_finding(by_key.get("grid_model"))
                + warning_finding(by_key.get("early_warning"), by_key.get("warning_scores")))
    return tables, omitted, cells, findings


def render_html(study: Any, frames: StudyFrames, out: Path, svg: bool = True) -> str:
    """Build tables and figures into ``out`` and return the report page."""
    from synthmix.report.figures import build_figures, save_figure
    from synthmix.report.horizon import figure_horizon, table_horizon, table_regime_contrasts

    tables, omitted, cells, findings = report_tables(study, frames)
    for extra in (table_horizon(frames, cells), table_regime_contrasts(frames)):
        (tables if isinstance(extra, ReportTable) else omitted).append(extra)
    by_key = {t.key: t for t in tables}
    for t in tables:
        export_table(t, out / "tables")
    figures, fig_omitted = build_figures(frames, cells, out / "figures", svg)
    horizon = figure_horizon(frames, functools.partial(save_figure, out=out / "figures", svg=svg))
    (figures if not isinstance(horizon, Omitted) else fig_omitted).append(horizon)
    warnings = study_warnings(frames, cells, by_key) + failed_pool_notes(study, frames.failures)
    prov = provenance_frame(frames)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"<h1>{_e(study.name)}</h1><p class=\"note\">synthmix report · generated {when} · database "
        f"{_e(study.study_dir / 'results.sqlite')}</p>",
        f"<p>{_e(study.description)}</p>" if study.description else "",
        '<h2 id="summary">Summary</h2><ul class="summary">' + "".join(f"<li>{_e(s)}</li>" for s in findings) + "</ul>",
        '<h2 id="warnings">Warnings</h2>' + ('<ul class="warnings">' + "".join(f"<li>{_e(w)}</li>" for w in warnings)
                                            + "</ul>" if warnings else "<p>None.</p>"),
        '<h2 id="tables">Tables</h2>' + "".join(_table_section(t) for t in tables) + _omitted_html(omitted),
        '<h2 id="figures">Figures</h2>' + "".join(_figure_html(f) for f in figures) + _omitted_html(fig_omitted),
        '<h2 id="pools">Synthetic pools</h2>' + _pools_html(frames),
        '<h2 id="conditions">Conditions</h2>' + _conditions_html(frames),
        '<h2 id="config">Study configuration</h2>' + _config_html(study),
        '<h2 id="provenance">Provenance</h2><p class="caption">Every number above comes from the evaluation, '
        "fine-tune, mix and generate artifacts listed here (ids are content hashes of code, params, inputs and data).</p>"
        + (frame_html(prov, "provenance") if not prov.empty else "<p>No artifacts.</p>"),
    ]
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_e(study.name)} · synthmix report</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def write_report(study: Any, out: Path | None = None, *, svg: bool = True) -> Path:
    """Write the study's report (``report.html`` plus tables/ and figures/) into ``out``; returns the HTML path.

    ``out`` defaults to ``<study_dir>/report``; ``svg=False`` skips the SVG copies of the figures (faster).
    """
    assert study.study_dir is not None
    out = Path(out) if out is not None else study.study_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    from synthmix.exports import current_frames

    page = render_html(study, current_frames(load_frames(study)), out, svg)
    path = out / "report.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path



