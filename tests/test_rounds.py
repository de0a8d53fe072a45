"""Rounds over time: `consult run` on several rounds, compare_with, theme tracking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from rounds import successive_rounds

from pipeline.cli import main
from pipeline.compare.rounds import history, previous_run, round_dirs
from pipeline.source import InputError

# --- round order --------------------------------------------------------------------------


def _round(tmp: Path, name: str) -> Path:
    d = tmp / name
    d.mkdir()
    return d


def test_rounds_yaml_lists_folders_in_order(tmp_path: Path):
    a, b = _round(tmp_path, "2023-r1"), _round(tmp_path, "2024-r1")
    (tmp_path / "rounds.yaml").write_text("rounds:\n  - 2023-r1\n  - path: 2024-r1\n",
                                          encoding="utf-8")
    assert round_dirs([tmp_path / "rounds.yaml"]) == [a.resolve(), b.resolve()]
    assert round_dirs([b, a]) == [b, a]  # folders given on the command line keep their order


@pytest.mark.parametrize("text, message", [
    ("rounds:\n  - 2023-r1\n  - nowhere\n", "round #2: folder 'nowhere' not found"),
    ("rounds: []\n", "expected `rounds:`"),
    ("rounds:\n  - [unclosed\n", "not valid YAML"),
    ("rounds:\n  - 2023-r1\n  - ./2023-r1\n", "listed twice"),
])
def test_bad_rounds_yaml_names_the_file(tmp_path: Path, text: str, message: str):
    _round(tmp_path, "2023-r1")
    (tmp_path / "rounds.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as e:
        round_dirs([tmp_path / "rounds.yaml"])
    assert message in str(e.value) and "rounds.yaml" in str(e.value)


def _finished(root: Path, name: str, run_id: str, compared_with: Path | None = None) -> Path:
    d = root / name / run_id
    d.mkdir(parents=True)
    (d / "run.json").write_text(json.dumps(
        {"round_name": name, "run_id": run_id,
         "compared_with": str(compared_with) if compared_with else None}), encoding="utf-8")
    (d / "themes.json").write_text('{"themes": []}', encoding="utf-8")
    return d


def test_previous_run_follows_rounds_yaml_then_names(tmp_path: Path):
    rounds = tmp_path / "rounds"
    rounds.mkdir()
    for n in ("b-first", "a-second"):
        _round(rounds, n)
    reports = tmp_path / "reports"
    old = _finished(reports, "b-first", "20240101T000000-aaaa")
    new = _finished(reports, "b-first", "20240301T000000-aaaa")
    _finished(reports, "a-second", "20240401T000000-aaaa")

    def name_of(d: Path) -> str:
        return d.name

    # Without a listing, names sort: nothing comes before "a-second".
    assert previous_run(rounds / "a-second", "a-second", reports, name_of) is None
    assert previous_run(rounds / "b-first", "b-first", reports, name_of).name.startswith(
        "20240401")
    # A rounds.yaml next to the rounds says b-first comes first; its LATEST run is taken.
    (rounds / "rounds.yaml").write_text("rounds: [b-first, a-second]\n", encoding="utf-8")
    assert previous_run(rounds / "a-second", "a-second", reports, name_of) == new
    assert old != new


def test_history_follows_compared_with_back(tmp_path: Path):
    r1 = _finished(tmp_path, "r1", "1")
    r2 = _finished(tmp_path, "r2", "2", compared_with=r1)
    r3 = _finished(tmp_path, "r3", "3", compared_with=r2)
    assert history(r3) == [r1, r2, r3]
    # A deleted earlier run ends the history there instead of failing the run.
    (r1 / "themes.json").unlink()
    assert history(r3) == [r2, r3]


# --- end to end ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    tmp = tmp_path_factory.mktemp("rounds")
    listing = successive_rounds(tmp / "rounds", [2, 2])
    out = tmp / "reports"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["run", str(listing), "--out", str(out), "--quiet"]) == 0
    printed = [Path(line) for line in buf.getvalue().splitlines()]
    return listing, printed


@pytest.mark.slow
def test_run_over_rounds_compares_each_with_the_one_before(two_rounds):
    _, printed = two_rounds
    assert [p.name for p in printed] == ["report.html", "report.html"]
    r1, r2 = (p.parent for p in printed)
    assert r1.parent.name == "roadshow-r1" and r2.parent.name == "roadshow-r2"
    rec1 = json.loads((r1 / "run.json").read_text(encoding="utf-8"))
    rec2 = json.loads((r2 / "run.json").read_text(encoding="utf-8"))
    assert rec1["compared_with"] is None and not (r1 / "diff.json").exists()
    assert rec2["compared_with"] == str(r1.resolve())
    assert rec2["stages"]["compare"]["rounds_tracked"] == 2

    diff = json.loads((r2 / "diff.json").read_text(encoding="utf-8"))
    tracking = json.loads((r2 / "tracking.json").read_text(encoding="utf-8"))
    themes = json.loads((r2 / "themes.json").read_text(encoding="utf-8"))["themes"]
    assert diff["runs"]["a"]["run_id"] == rec1["run_id"]
    assert [r["round"] for r in tracking["rounds"]] == ["roadshow-r1", "roadshow-r2"]
    # The run compared is named by the folder it has once finished, not its temporary one.
    assert [r["folder"] for r in tracking["rounds"]] == [str(r1), str(r2)]
    # Every theme of the newest round is tracked once, with a status the diff agrees with.
    assert sorted(t["id"] for t in tracking["themes"]) == sorted(
        t["id"] for t in themes if str(t["id"]) != "-1")
    c = tracking["counts"]
    assert c["new"] == diff["counts"]["new"]
    for s in ("continuing", "growing", "shrinking"):
        assert c[s] == diff["counts"][s]
    assert c["vanished"] == diff["counts"]["vanished"]
    for t in tracking["themes"]:
        assert t["shares"][1] is not None
        assert (t["shares"][0] is None) == (t["status"] == "new")

    svg = (r2 / "theme_tracking.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<script" not in svg
    html = (r2 / "report.html").read_text(encoding="utf-8")
    md = (r2 / "report.md").read_text(encoding="utf-8")
    assert '<section id="changes">' in html and 'id="chart-tracking"' in html
    assert "與前次比較" in md and "roadshow-r1" in md
    from openpyxl import load_workbook

    from pipeline.report.labels import LANGUAGES

    ws = load_workbook(r2 / "themes.xlsx")[LANGUAGES["zh-TW"]["sheet_tracking"]]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [t["id"] for t in tracking["themes"]]
    assert [list(r[3:]) for r in rows] == [t["shares"] for t in tracking["themes"]]


@pytest.mark.slow
def test_compare_with_previous_picks_the_earlier_rounds_latest_run(two_rounds, tmp_path):
    listing, printed = two_rounds
    r1 = printed[0].parent
    out = r1.parent.parent
    round2 = listing.parent / "roadshow-r2"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"report": {"compare_with": "previous"},
                                   "themes": {"min_size": 6}}), encoding="utf-8")
    assert main(["run", str(round2), "--out", str(out), "--config", str(cfg), "--quiet"]) == 0
    runs = sorted((out / "roadshow-r2").iterdir())
    rec = json.loads((runs[-1] / "run.json").read_text(encoding="utf-8"))
    assert rec["compared_with"] == str(r1.resolve())
    diff = json.loads((runs[-1] / "diff.json").read_text(encoding="utf-8"))
    assert {"key": "themes.min_size", "a": 10, "b": 6} in diff["config_changes"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian chromium")
def test_changes_section_renders_in_chromium(two_rounds, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from test_report_browser import LOCAL_SCHEMES, _requests, browser

    html = two_rounds[1][-1]
    driver = browser(tmp_path / "profile")
    try:
        url = html.resolve().as_uri()
        driver.get("about:blank")
        driver.get_log("performance")
        driver.get(url)
        urls, failed = _requests(driver)
        assert [u for u in urls if u != url and not u.startswith(LOCAL_SCHEMES)] == []
        assert failed == []
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        chart = driver.find_element(By.CSS_SELECTOR, "#chart-tracking svg.tracking")
        assert chart.find_elements(By.CSS_SELECTOR, "circle")
        rows = driver.find_elements(By.CSS_SELECTOR, "#tracking-table tbody tr")
        tracking = json.loads((html.parent / "tracking.json").read_text(encoding="utf-8"))
        assert len(rows) == len(tracking["themes"])
    finally:
        driver.quit()
