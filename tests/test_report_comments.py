"""The report's written-comments section (report/comments.py): rows, campaigns, breakdowns and
agreement, in HTML, Markdown and themes.xlsx, on the report fixture run with the files a
comments round adds (campaigns.json, the ingest summary's rows and breakdowns, votes)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from pipeline.config import load_config
from pipeline.report import render_report

HOSTILE = "<script>alert(1)</script>=HYPERLINK(\"http://x\")"


def make_comments_run(run_dir: Path) -> None:
    units = pd.read_parquet(run_dir / "units.parquet")
    ids = units.loc[units["analysed"], "unit_id"].tolist()[:4]
    (run_dir / "campaigns.json").write_text(json.dumps({
        "settings": {"threshold": 0.6, "min_size": 3, "min_chars": 10},
        "units_considered": 30, "units_in_campaigns": 4,
        "campaigns": [{"id": 1, "size": 4, "representative": ids[0], "unit_ids": ids,
                       "example": HOSTILE, "similarity": 0.91, "distinct_texts": 2,
                       "sessions": ["s01"]}]}, ensure_ascii=False), encoding="utf-8")
    summary = json.loads((run_dir / "ingest_summary.json").read_text(encoding="utf-8"))
    summary.update(rows=60, rows_with_text=42, rows_blank=18, rows_duplicate=3,
                   breakdowns={"session_location": "縣市"},
                   rows_blank_by={"session_location": {"台南": 11, "澎湖": 7}})
    (run_dir / "ingest_summary.json").write_text(json.dumps(summary, ensure_ascii=False),
                                                 encoding="utf-8")
    themes = json.loads((run_dir / "themes.json").read_text(encoding="utf-8"))
    themes["themes"][0]["agreement"] = {"comments": 6, "comments_voted": 6, "agree": 30,
                                        "disagree": 6, "pass": 4, "votes": 40,
                                        "agree_share": 0.75, "broadly_agreed": 2,
                                        "comments_in_groups": 5}
    (run_dir / "themes.json").write_text(json.dumps(themes, ensure_ascii=False),
                                         encoding="utf-8")


def test_comments_section_in_every_format(report_run: Path) -> None:
    make_comments_run(report_run)
    out = render_report(report_run, load_config())
    html = out["html"].read_text(encoding="utf-8")
    section = html[html.index('<section id="comments">'):]
    section = section[:section.index("</section>")]
    assert "共讀入 60 列：42 列有意見內容，18 列空白（沒有意見文字" in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "<script>alert" not in section
    assert 'id="breakdown-session_location"' in section and "依「縣市」分項" in section
    # A value with only blank rows (澎湖) is still a row: its endorsements count.
    assert '<th scope="row">澎湖</th><td class="n">7</td><td class="n">0</td>' in section
    assert 'id="agreement-table"' in section and "30／6／4" in section and "75.0%" in section
    assert "2 / 5" in section
    assert 'href="#comments"' in html
    # The votes also sit on the theme's card, beside how often its points were said.
    card = html[html.index('<article class="theme-card"'):]
    card = card[:card.index("</article>")]
    assert "投票：贊成 30、反對 6、略過 4（贊成比例 75%）；各群多數贊同 2 / 5 則" in card

    md = out["md"].read_text(encoding="utf-8")
    assert "書面意見：範本、分項與贊同" in md and "| 縣市 | 空白列 |" in md
    assert "<script>" not in md.split("書面意見：")[1]

    wb = load_workbook(out["xlsx"])
    assert {"範本意見", "依縣市", "贊同程度"} <= set(wb.sheetnames)
    example = wb["範本意見"]["D2"].value
    assert example.startswith("<script>") and wb["範本意見"]["D2"].data_type == "s"
    by = {r[0]: r for r in wb["依縣市"].iter_rows(min_row=2, values_only=True)}
    assert by["台南"][1] == 11 and by["澎湖"][1:3] == (7, 0)
    assert sum(r[2] for r in by.values()) == 42  # every unit once


def test_transcript_run_has_no_comments_section(report_run: Path) -> None:
    out = render_report(report_run, load_config())
    assert 'id="comments"' not in out["html"].read_text(encoding="utf-8")
    assert "範本意見" not in load_workbook(out["xlsx"]).sheetnames
