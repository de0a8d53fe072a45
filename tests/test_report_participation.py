"""The collaboration map (協力地圖) in the reports of a real run of the sample round, whose
manifest names the organisations of every session."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.runner import run

SAMPLE = Path(__file__).resolve().parents[1] / "corpora" / "sample-round"
REPEATED = ["台灣淨零公民陣線", "青年綠領行動網絡"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    html = run("run", SAMPLE, load_config(None, ["participation.max_sessions=3"]),
               tmp_path_factory.mktemp("reports"), quiet=True)
    return html.parent


def manifest_sessions(org: str) -> int:
    data = yaml.safe_load((SAMPLE / "round.yaml").read_text(encoding="utf-8"))
    return sum(org in (s.get("organisations") or []) for s in data["sessions"])


def test_repeated_organisations_are_flagged_in_every_format(run_dir: Path):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert '<section id="participation">' in html and "協力地圖與參與負荷" in md
    for org in REPEATED:
        n = manifest_sessions(org)
        assert n == 4
        assert f"{org}：出席 {n} 場（上限 3）" in html
        assert f"- {org}：出席 {n} 場（上限 3）" in md
    # The organiser attends more sessions than anyone but is there by design.
    assert manifest_sessions("國家發展委員會") == 5
    assert "國家發展委員會：出席" not in html
    ws = load_workbook(run_dir / "themes.xlsx")["參與"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["國家發展委員會"][1] == 5 and rows["國家發展委員會"][7] is None
    for org in REPEATED:
        # Both introduce their speakers (「我是…」): themes by who said what.
        assert rows[org][5] == "依發言者"
        assert rows[org][1] == 4 and rows[org][7] == "出席 4 場（上限 3）"
        # Presence columns (one per session) add up to the session count.
        assert sum(v for v in rows[org][8:]) == 4


def test_limit_is_a_report_setting(run_dir: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["report", str(run_dir), "--set", "participation.max_sessions=4"]) == 0
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "沒有團體出席超過 4 場。" in html
    assert not any(f"{org}：出席" in html for org in REPEATED)
    # The settings section shows the limit the report was drawn with, and says so.
    assert "max_sessions: 4" in html and "重新產生" in html
    capsys.readouterr()


def test_participation_is_a_stage_file_and_older_runs_still_render(run_dir: Path,
                                                                    tmp_path: Path):
    """`consult run` writes participation.json (codes, no words); the report reads it, and
    renders the same section for a run folder made before that stage (no file: computed)."""
    import json
    import shutil

    from pipeline.report import render_report

    doc = json.loads((run_dir / "participation.json").read_text(encoding="utf-8"))
    reasons = {o["organisation"]: o["reason"] for o in doc["organisations"]}
    assert all(reasons[org] == "max_sessions" for org in REPEATED)
    assert doc["max_sessions"] == 3 and set(REPEATED) <= set(doc["flagged"])
    cfg = load_config(None, ["participation.max_sessions=3"])
    with_file = Path(shutil.copytree(run_dir, tmp_path / "with"))
    older = Path(shutil.copytree(run_dir, tmp_path / "older"))
    (older / "participation.json").unlink()
    render_report(with_file, cfg)
    render_report(older, cfg)

    def section(d: Path) -> str:
        md = (d / "report.md").read_text(encoding="utf-8")
        return md[md.index("協力地圖與參與負荷"):]

    assert section(with_file) == section(older)
    assert f"- {REPEATED[0]}：出席 4 場（上限 3）" in section(older)
