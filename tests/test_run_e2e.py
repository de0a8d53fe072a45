"""`consult run` end to end on a small real round from ../shared, checked as a person would:
determinism, embedding cache, the xlsx, and the report opened in headless Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rounds import MEETINGS, small_round

from pipeline.config import load_config
from pipeline.runner import COMMANDS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MEETINGS.is_dir(), reason="needs ../shared/corpora/transcripts"),
]


def consult(*args: str, cache: Path) -> tuple[Path, dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--quiet",
         "--set", f"embed.cache_dir={cache}"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    last = Path(proc.stdout.strip().splitlines()[-1])
    run_dir = last.parent if last.suffix == ".html" else last
    return last, json.loads((run_dir / "run.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("e2e")
    rnd = small_round(tmp / "round", 3)
    cache = tmp / "cache"
    out = str(tmp / "reports")
    first = consult("run", str(rnd), "--out", out, cache=cache)
    # Computed again (no reuse): determinism is about computing, not copying.
    again = consult("run", str(rnd), "--out", out, "--set", "run.reuse=false", cache=cache)
    changed = consult("run", str(rnd), "--out", out, "--set", "themes.min_size=12", cache=cache)
    return first, again, changed


@pytest.fixture(scope="module")
def report_only(runs):
    """A re-run after `runs` that changes only a report.* setting."""
    (html, _), _, _ = runs
    rnd = Path(json.loads((html.parent / "run.json").read_text(encoding="utf-8"))["round_dir"])
    out = str(html.parent.parent.parent)
    return consult("run", str(rnd), "--out", out, "--set", "report.quotes_shown=4",
                   cache=html.parent.parent.parent.parent / "cache")


def test_run_prints_report_and_writes_every_output(runs):
    (html, record), _, _ = runs
    assert html.name == "report.html" and html.is_file()
    run_dir = html.parent
    for name in ["units.parquet", "themes.json", "unit_themes.parquet", "unit_areas.parquet",
                 "strategy_matrix.csv", "area_summary.json", "focus_summary.json", "report.md",
                 "themes.xlsx", "run.json", "config.yaml", "campaigns.json",
                 "unit_stance.parquet", "proposals.json"]:
        assert (run_dir / name).is_file(), name
    # Every stage of the command recorded, in order (the list itself is runner.COMMANDS).
    assert list(record["stages"]) == COMMANDS["run"]
    assert {"ingest", "campaigns", "embed", "themes", "mapping", "participation", "stance",
            "proposals", "compare", "report"} <= set(record["stages"])
    assert record["stages"]["stance"]["method"] == "model"
    # Nothing to compare with: the stage records that and writes nothing.
    assert record["stages"]["compare"]["compared_with"] is None
    assert not (run_dir / "diff.json").exists()
    themes = json.loads((run_dir / "themes.json").read_text(encoding="utf-8"))
    assert themes["stats"]["outlier_share"] < 0.15
    assert len(themes["themes"]) >= 3


def test_same_inputs_same_config_give_identical_themes_json(runs):
    (a, _), (b, rec_b), _ = runs
    assert a.parent != b.parent
    assert (a.parent / "themes.json").read_bytes() == (b.parent / "themes.json").read_bytes()
    for name in ("unit_stance.parquet", "proposals.json"):
        assert (a.parent / name).read_bytes() == (b.parent / name).read_bytes(), name
    assert rec_b["stages"]["embed"]["embedded"] == 0


def test_changed_themes_setting_embeds_nothing_again(runs):
    (_, rec_a), _, (_, rec_c) = runs
    assert rec_a["stages"]["embed"]["embedded"] > 0
    assert rec_c["stages"]["embed"]["embedded"] == 0
    assert rec_c["stages"]["embed"]["cached"] == rec_a["stages"]["embed"]["unique"]


def test_report_only_change_reuses_themes_and_gives_identical_themes_json(runs, report_only):
    (a, _), (b, _), (c, rec_c) = runs
    html, rec = report_only
    run_dir = html.parent
    st = rec["stages"]
    # Each stage comes from the newest finished run where it had the same key: the themes
    # from `again` (`changed` had other themes settings), the units maybe from `changed`.
    for stage in ("themes", "mapping"):
        assert st[stage]["reused_from"] == str(b.parent), stage
    for stage in ("ingest", "campaigns"):
        assert st[stage]["reused_from"] in {str(b.parent), str(c.parent)}, stage
    # Embed is skipped, or runs from its cache when a stage that runs needs the vectors.
    assert st["embed"].get("reused_from") or st["embed"]["embedded"] == 0
    assert "reused_from" not in st["report"] and "reused_from" not in st["compare"]
    for name in ["themes.json", "themes_fit.json", "unit_themes.parquet", "units.parquet",
                 "campaigns.json", "unit_areas.parquet", "strategy_matrix.csv",
                 "area_summary.json", "focus_summary.json", "participation.json"]:
        f = run_dir / name
        # Copies, not links: the run folder stands on its own.
        assert f.is_file() and not f.is_symlink(), name
        assert f.read_bytes() == (a.parent / name).read_bytes(), name
    assert rec["config"]["report"]["quotes_shown"] == 4
    assert (run_dir / "report.html").is_file() and (run_dir / "themes.xlsx").is_file()
    # A themes.* change reuses the units only; embeddings come from the cache.
    assert rec_c["stages"]["ingest"]["reused_from"] in {str(a.parent), str(b.parent)}
    assert "reused_from" not in rec_c["stages"]["themes"]
    assert rec_c["stages"]["themes"]["steps"].keys() >= {"reduce", "cluster", "represent"}


def test_xlsx_rows_match_themes_json(runs):
    import openpyxl

    (html, _), _, _ = runs
    themes = json.loads((html.parent / "themes.json").read_text(encoding="utf-8"))["themes"]
    wb = openpyxl.load_workbook(html.parent / "themes.xlsx", read_only=True)
    assert {"說明", "主題", "引言", "發言單元", "戰略矩陣", "場次"} <= set(wb.sheetnames)
    rows = list(wb["主題"].iter_rows(values_only=True))
    assert len(rows) - 1 == len(themes)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium + chromium-driver")
def test_report_in_headless_chromium(runs, tmp_path: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    from test_report_browser import LOCAL_SCHEMES, _requests, browser

    (html, _), _, _ = runs
    driver = browser(tmp_path / "profile")
    try:
        url = html.resolve().as_uri()
        driver.get("about:blank")
        driver.get_log("performance")
        driver.get(url)
        driver.save_screenshot(str(html.parent / "report_overview.png"))
        urls, failed = _requests(driver)
        assert [u for u in urls if u != url and not u.startswith(LOCAL_SCHEMES)] == []
        assert failed == []
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        cards = driver.find_elements(By.CSS_SELECTOR, "article.theme-card")
        assert cards and driver.find_elements(By.CSS_SELECTOR, "#chart-sizes svg g.bar")
        themes = json.loads((html.parent / "themes.json").read_text(encoding="utf-8"))["themes"]
        area = next(t["key_area"] for t in themes if t.get("key_area") not in (None, "NONE"))
        Select(driver.find_element(By.ID, "f-area")).select_by_value(area)
        visible = [c for c in cards if c.is_displayed()]
        min_share = load_config().report.area_min_share
        expected = [t for t in themes if not t.get("gap") and (
            t.get("key_area") == area or t.get("area_distribution", {}).get(area, 0) >= min_share)]
        assert 0 < len(visible) == len(expected)
    finally:
        driver.quit()
    assert (html.parent / "report_overview.png").stat().st_size > 10_000


def test_strategy_areas_quote_participants_only(runs):
    """Officials explain policy; what the report quotes under a strategy area as feedback is
    what participants said."""
    import pandas as pd

    from pipeline.report.data import load_run

    (report, _), _, _ = runs
    run_dir = report.parent
    cfg = load_config(run_dir / "config.yaml")
    run = load_run(run_dir, cfg)
    roles = dict(zip(run.units["unit_id"], run.units["role"], strict=True))
    quoted = [q for a in run.areas for e in a.entries for q in e.quotes]
    assert quoted, "the round maps to at least one strategy area"
    assert {roles[q.unit_id] for q in quoted} == {"participant"}
    units = pd.read_parquet(run_dir / "units.parquet")
    assert (units["role"] == "official").any()  # there were officials to leave out
