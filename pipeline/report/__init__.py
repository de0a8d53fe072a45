"""Report stage: a finished run folder becomes report.html, report.md, themes.xlsx and
report.docx (and
theme_tracking.svg when the run was compared with earlier rounds).

Reads only the run folder's files (run.json, units.parquet, themes.json, mapping outputs),
so `consult report RUN_DIR` re-renders an old run without recomputing anything.

    model.py     the view model (dataclasses) shared by all three writers
    data.py      run folder -> view model: run record, sessions, themes, participation
    areas.py     strategy areas: themes per area, shares, quotes, areas × themes matrix
    sections/    one module per report section (its view, HTML, Markdown, sheets), in order
    html.py      report.html: the page (templates/report.html.j2) around the sections
    markdown.py  report.md: the sections' Markdown put together (text pieces: mdtext.py)
    display.py   shared display helpers: Taiwan time, the config listing, theme numbers
    xlsx.py      themes.xlsx: the sections' sheets, written safely
    docx.py      report.docx: the sections' Markdown as a Word document, charts as pictures
    chart_images.py  the charts as PNG (for report.docx)
    charts.py    chart layouts (inline SVG bars, heatmap tables)
    labels.py    interface text per language
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.atomic import write_atomic
from pipeline.config import Config
from pipeline.report.data import load_run
from pipeline.report.labels import labels_for
from pipeline.report.model import RunData
from pipeline.rundir import REPORT_DOCX, REPORT_HTML, REPORT_MD, REPORT_XLSX, TRACKING_CHART

OUTPUTS = {"html": REPORT_HTML, "md": REPORT_MD, "xlsx": REPORT_XLSX, "docx": REPORT_DOCX}


def render_report(run_dir: Path, cfg: Config, *,
                  run_info: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write the configured reports into `run_dir` (each atomically); returns format -> path.

    `run_info` stands in for run.json when the runner calls this before run.json exists
    (inside `consult run` the record is written only when the folder is committed).
    """
    from pipeline.report.docx import render_docx
    from pipeline.report.html import render_html
    from pipeline.report.markdown import render_markdown
    from pipeline.report.xlsx import render_xlsx

    run_dir = Path(run_dir)
    labels = labels_for(cfg.report)
    run = load_run(run_dir, cfg, run_info)
    writers = {"html": render_html, "md": render_markdown, "xlsx": render_xlsx,
               "docx": render_docx}
    out: dict[str, Path] = {}
    for fmt in dict.fromkeys(cfg.report.formats):  # in order, once each
        path = run_dir / OUTPUTS[fmt]
        write_atomic(path, writers[fmt](run, cfg, labels))
        out[fmt] = path
    if run.tracking:
        from pipeline.report.tracking_chart import status_names, tracking_svg

        # The chart of tracking.json as a file of its own, for slides and documents.
        svg = tracking_svg(run.tracking, labels["tracking_chart"], status_names(labels))
        if svg:
            write_atomic(run_dir / TRACKING_CHART, svg)
            out["svg"] = run_dir / TRACKING_CHART
    return out


__all__ = ["OUTPUTS", "RunData", "load_run", "render_report"]
