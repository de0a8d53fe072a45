"""The proposals section in the reports: real units of the report fixture run, classified by
the shipped stance model on real e5 embeddings, listed by build_proposals and rendered by
`consult report` (HTML escaped, Markdown, Excel sheets without formulas)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from pipeline import rundir
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.embed import embed_texts
from pipeline.jsonio import to_json
from pipeline.stance.proposals import build_proposals
from pipeline.stance.stage import classify_units
from pipeline.units import analysed_units, best_theme_per_unit

HOSTILE = "<script>alert(1)</script>=HYPERLINK(\"http://x\")應該"


def add_stance_outputs(run_dir: Path) -> dict:
    cfg = load_config()
    analysed = analysed_units(pd.read_parquet(run_dir / rundir.UNITS))
    emb, _ = embed_texts(analysed["text"].astype(str).tolist(), cfg.embed, cfg.segment,
                         kind="query")
    table, note = classify_units(analysed, emb, cfg)
    assert note is None
    scores = pd.read_parquet(run_dir / rundir.UNIT_AREAS)
    best = scores.sort_values("score", ascending=False, kind="stable").drop_duplicates("unit_id")
    areas = best.rename(columns={"area_id": "key_area"})[["unit_id", "key_area"]]
    themes = best_theme_per_unit(pd.read_parquet(run_dir / rundir.UNIT_THEMES))
    data = build_proposals(analysed, emb, table, areas, themes, cfg)
    table.to_parquet(run_dir / rundir.UNIT_STANCE, index=False)
    return data


def test_proposals_section_in_every_format(report_run: Path,
                                           capsys) -> None:
    data = add_stance_outputs(report_run)
    assert data["areas"], "the fixture run has participants' proposals in some area"
    # A proposal whose text could act in HTML or in a spreadsheet.
    first = data["areas"][0]["proposals"][0]
    first["text"] = HOSTILE
    (report_run / rundir.PROPOSALS).write_text(to_json(data), encoding="utf-8")
    assert main(["report", str(report_run)]) == 0
    capsys.readouterr()
    html = (report_run / rundir.REPORT_HTML).read_text(encoding="utf-8")
    md = (report_run / rundir.REPORT_MD).read_text(encoding="utf-8")
    assert '<section id="proposals">' in html and "具體建議與立場" in md
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "依場次類型" in html and "依戰略領域" in md
    listed = sum(len(a["proposals"]) for a in data["areas"])
    wb = load_workbook(report_run / rundir.REPORT_XLSX)
    rows = list(wb["具體建議"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == listed
    cell = next(c for row in wb["具體建議"].iter_rows(min_row=2) for c in row
                if c.value == HOSTILE)
    assert cell.data_type == "s"  # text, not a formula
    shares = list(wb["立場分布"].iter_rows(min_row=2, values_only=True))
    assert shares and all(abs(sum(r[3:]) - 1.0) < 0.01 for r in shares)
    # Every source of a listed proposal is a participant's unit of this run.
    units = pd.read_parquet(report_run / rundir.UNITS).set_index("unit_id")
    for a in json.loads((report_run / rundir.PROPOSALS).read_text(encoding="utf-8"))["areas"]:
        for p in a["proposals"]:
            for s in p["sources"]:
                assert units.at[s["unit_id"], "role"] not in ("official", "moderator")
