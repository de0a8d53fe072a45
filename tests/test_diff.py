"""`consult diff`: matching themes of two runs.

Fast tests use hand-made themes and run folders written by the real writers
(`write_theme_files`, `RunRecord`); the slow ones diff two real runs of the sample round,
the default and one with a different `themes.min_size`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.compare import RunThemes, diff_json, diff_runs, format_summary, load_run
from pipeline.compare.diff import config_changes
from pipeline.compare.match import match_themes
from pipeline.config import CompareConfig, Config, load_config
from pipeline.fingerprint import centroid_hash
from pipeline.rundir import CENTROIDS, DIFF, RunRecord
from pipeline.source import InputError
from pipeline.themes import ThemeResult, write_theme_files

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "corpora" / "sample-round"
# Default 10 gives 9 themes on the sample round; 6 gives 12, one of them split off.
CHANGED_MIN_SIZE = 6

E = np.eye(8)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def make_run(name: str, specs: list[tuple[np.ndarray, list[str], int]],
             mapping: list[dict] | None = None) -> RunThemes:
    """Themes from (centroid direction, fingerprint keywords, size)."""
    themes = [{"id": i, "label": "、".join(kw[:2]), "size": size,
               "fingerprint": {"keywords": kw}, **((mapping or [{}] * len(specs))[i])}
              for i, (_, kw, size) in enumerate(specs)]
    sizes = np.array([s for *_, s in specs], dtype=np.float64)
    return RunThemes(run_dir=Path(name), round_name="r", run_id=name, config={},
                     themes=themes,
                     centroids=np.array([_unit(v) for v, _, _ in specs], dtype=np.float32),
                     shares=sizes / sizes.sum())


def partition_ok(diff: dict) -> None:
    """Every theme of A and of B is reported exactly once."""
    a_ids = ([m["a"]["id"] for m in diff["matched"]] + [t["id"] for t in diff["vanished"]]
             + [f["id"] for g in diff["merged"] for f in g["from"]]
             + [g["from"]["id"] for g in diff["split"]])
    b_ids = ([m["b"]["id"] for m in diff["matched"]] + [t["id"] for t in diff["new"]]
             + [g["into"]["id"] for g in diff["merged"]]
             + [t["id"] for g in diff["split"] for t in g["into"]])
    assert sorted(a_ids) == list(range(diff["runs"]["a"]["n_themes"]))
    assert sorted(b_ids) == list(range(diff["runs"]["b"]["n_themes"]))


# --- matching on hand-made themes -----------------------------------------------------------


@pytest.fixture
def before_after() -> tuple[RunThemes, RunThemes]:
    # A0 (power plants) splits into coal and offshore wind; A1 and A2 (scooters, buses)
    # merge into one electric-transport theme; A3 vanishes; B3 is new.
    a = make_run("a", [
        (E[0], ["電廠", "燃煤", "離岸風電", "轉型"], 40),
        (E[2] + 0.4 * E[3], ["機車", "電動機車", "維修"], 20),
        (E[2] - 0.35 * E[3], ["公車", "電動車", "充電"], 20),
        (E[4], ["租屋", "電費"], 20),
    ])
    b = make_run("b", [
        (E[0] + 0.5 * E[1], ["電廠", "燃煤", "空污"], 20),
        (E[0] - 0.45 * E[1], ["離岸風電", "漁民", "電廠"], 20),
        (E[2], ["電動機車", "電動車", "機車", "充電"], 40),
        (E[5], ["碳匯", "部落"], 20),
    ])
    return a, b


def test_match_themes_finds_merge_and_split(before_after):
    a, b = before_after
    m = match_themes(a, b, CompareConfig())
    assert m.split == {0: [0, 1]}
    assert m.merged == {2: [1, 2]}
    assert m.matched == []
    assert m.new == [3] and m.vanished == [3]
    # The other direction turns the split into a merge and the merge into a split.
    back = match_themes(b, a, CompareConfig())
    assert back.merged == {0: [0, 1]} and back.split == {2: [1, 2]}


def test_thresholds_decide_what_counts_as_a_merge(before_after):
    a, b = before_after
    strict = match_themes(a, b, CompareConfig(split_merge_similarity=0.95))
    assert strict.merged == {} and strict.split == {}
    assert len(strict.matched) == 2  # only the one-to-one pairs remain
    nothing = match_themes(a, b, CompareConfig(min_similarity=0.99))
    assert nothing.matched == [] and nothing.new == [0, 1, 2, 3]


def test_different_embedding_dimensions_fall_back_to_keywords(before_after):
    a, b = before_after
    b_other = RunThemes(run_dir=b.run_dir, round_name="r", run_id="b", config={},
                        themes=b.themes, centroids=np.eye(4, 16, dtype=np.float32),
                        shares=b.shares)
    diff = diff_runs(a, b_other, Config())
    assert diff["matching"]["basis"] == "keywords"
    assert "dimensions differ (8 vs 16)" in diff["matching"]["note"]
    assert "keywords only" in format_summary(diff)
    # Keyword overlap alone (0.67) still passes 0.6, so the split and merge survive.
    assert [g["from"]["id"] for g in diff["split"]] == [0]
    assert [g["into"]["id"] for g in diff["merged"]] == [2]


def test_mapping_changes_and_growth_of_matched_themes():
    a = make_run("a", [(E[0], ["電廠", "燃煤"], 50), (E[2], ["機車", "電動機車"], 50)],
                 mapping=[{"key_area": "S01", "gap": False, "jt_dimensions": ["勞動市場", "區域"]},
                          {"key_area": "S07", "gap": False, "jt_dimensions": []}])
    b = make_run("b", [(E[0], ["電廠", "燃煤"], 20), (E[2], ["機車", "電動機車"], 80)],
                 mapping=[{"key_area": "S01", "gap": False, "jt_dimensions": ["區域", "勞動市場"]},
                          {"key_area": "S12", "gap": True, "jt_dimensions": []}])
    diff = diff_runs(a, b, Config())
    assert [(m["a"]["id"], m["b"]["id"], m["status"]) for m in diff["matched"]] == [
        (0, 0, "shrinking"), (1, 1, "growing")]
    # Reordered dimensions are no change; the second theme moved area and became a gap.
    assert [(c["a"]["id"], c["changes"]) for c in diff["mapping_changes"]] == [
        (1, {"key_area": {"a": "S07", "b": "S12"}, "gap": {"a": False, "b": True}})]


def test_config_changes_are_dotted_and_skip_output_locations():
    a = Config().to_dict()
    b = load_config(None, ["themes.min_size=12", "themes.reducer.kind=pca",
                           "run.reports_root=/elsewhere"]).to_dict()
    assert config_changes(a, b) == [
        {"key": "themes.min_size", "a": 10, "b": 12},
        {"key": "themes.reducer.kind", "a": "umap", "b": "pca"},
    ]
    assert config_changes(a, a) == []


# --- run folders -----------------------------------------------------------------------------


def write_fake_run(folder: Path, n_themes: int = 3) -> Path:
    """A run folder written by the real writers, with hand-made themes."""
    rng = np.random.default_rng(0)
    cents = rng.normal(size=(n_themes, 8)).astype(np.float32)
    cents /= np.linalg.norm(cents, axis=1, keepdims=True)
    themes = [{"id": i, "label": f"主題{i}", "size": 10 - i, "share": (10 - i) / 30,
               "keywords": [{"word": f"詞{i}", "weight": 1.0}],
               "fingerprint": {"keywords": [f"詞{i}"], "centroid_sha256": centroid_hash(cents[i]),
                               "top_units": []}} for i in range(n_themes)]
    unit_themes = pd.DataFrame({"unit_id": ["u"], "theme_id": [0], "probability": [1.0]})
    result = ThemeResult(themes=themes, unit_themes=unit_themes,
                         stats={"n_units": 30, "n_outliers": 3}, centroids=cents)
    write_theme_files(result, {"round": "r"}, folder)
    cfg = Config()
    record = RunRecord(command="themes", round_name="r", round_dir=str(folder), run_id="fake",
                       config=cfg.to_dict(), config_hash=cfg.hash())
    (folder / "run.json").write_text(record.to_json(), encoding="utf-8")
    return folder


def test_load_run_reads_a_run_folder(tmp_path: Path):
    run = load_run(write_fake_run(tmp_path / "run"))
    assert [t["id"] for t in run.themes] == [0, 1, 2]
    assert run.centroids.shape == (3, 8)
    assert np.allclose(run.shares, [10 / 30, 9 / 30, 8 / 30])
    assert run.run_id == "fake" and run.round_name == "r"


@pytest.mark.parametrize("damage, expected", [
    (lambda d: (d / "run.json").unlink(), "not a finished run folder (no run.json)"),
    (lambda d: (d / "themes.json").unlink(), "no themes.json"),
    (lambda d: (d / "themes.json").write_text("{", encoding="utf-8"), "not valid JSON"),
    (lambda d: (d / CENTROIDS).unlink(), "file missing"),
    (lambda d: (d / CENTROIDS).write_bytes(b"garbage"), "not a readable .npy"),
    (lambda d: np.save(d / CENTROIDS, np.ones((2, 8), np.float32)), "3 themes"),
    (lambda d: np.save(d / CENTROIDS, np.eye(3, 8, dtype=np.float32)), "row 0 is not"),
])
def test_load_run_names_the_problem_and_the_place(tmp_path: Path, damage, expected):
    folder = write_fake_run(tmp_path / "run")
    damage(folder)
    with pytest.raises(InputError) as e:
        load_run(folder)
    assert expected in str(e.value)
    assert str(folder) in str(e.value)


def test_cli_bad_folder_is_a_clear_error(tmp_path: Path, capsys):
    good = write_fake_run(tmp_path / "good")
    missing = tmp_path / "no-such-run"
    assert main(["diff", str(missing), str(good)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("consult diff: error: ") and str(missing) in err
    assert "no such run folder" in err
    assert not (good / DIFF).exists()


# --- two real runs of the sample round --------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from pipeline.runner import run

    root = tmp_path_factory.mktemp("diff-runs")
    default = run("run", SAMPLE, load_config(None, []), root, quiet=True).parent
    changed_cfg = load_config(None, [f"themes.min_size={CHANGED_MIN_SIZE}"])
    changed = run("run", SAMPLE, changed_cfg, root, quiet=True).parent
    return default, changed


@pytest.mark.slow
def test_run_against_itself_matches_every_theme(runs):
    a, _ = runs
    diff = diff_runs(a, a, Config())
    n = diff["runs"]["a"]["n_themes"]
    assert n >= 3
    assert [(m["a"]["id"], m["b"]["id"]) for m in diff["matched"]] == [(i, i) for i in range(n)]
    assert all(m["similarity"] == pytest.approx(1.0, abs=1e-3) for m in diff["matched"])
    assert all(m["status"] == "continuing" for m in diff["matched"])
    for key in ("new", "vanished", "merged", "split", "mapping_changes", "config_changes"):
        assert diff[key] == [], key


@pytest.mark.slow
def test_rerun_with_other_min_size(runs):
    a, b = runs
    diff = diff_runs(a, b, Config())
    default_min = load_config(None, []).themes.min_size
    assert diff["config_changes"] == [
        {"key": "themes.min_size", "a": default_min, "b": CHANGED_MIN_SIZE}]
    assert diff["counts"]["themes_a"] != diff["counts"]["themes_b"]
    # The structure changed, and most themes are still recognised.
    c = diff["counts"]
    assert c["new"] + c["vanished"] + c["merged"] + c["split"] > 0
    assert c["matched"] >= c["themes_a"] // 2
    partition_ok(diff)
    partition_ok(diff_runs(b, a, Config()))
    summary = format_summary(diff)
    assert f"themes.min_size: {default_min} -> {CHANGED_MIN_SIZE}" in summary
    for heading in ("延續", "新出現", "消失", "合併", "分裂", "對應變化", "設定差異"):
        assert heading in summary


@pytest.mark.slow
def test_diff_json_is_deterministic(runs):
    a, b = runs
    first = diff_json(diff_runs(a, b, Config()))
    again = diff_json(diff_runs(load_run(a), load_run(b), Config()))
    assert first == again
    assert json.loads(first)["runs"]["b"]["folder"] == str(b.resolve())


@pytest.mark.slow
def test_cli_writes_diff_json_and_prints_its_path_last(runs, tmp_path: Path, capsys):
    a, b = runs
    out = tmp_path / "cmp.json"
    assert main(["diff", str(a), str(b), "--out", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == str(out)
    assert any("設定差異" in ln for ln in lines)
    assert out.read_text(encoding="utf-8") == diff_json(diff_runs(a, b, Config()))
    # Default: next to run B; the stricter --set is applied to the matching.
    assert main(["diff", str(a), str(b), "--set", "compare.min_similarity=1.0"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(b / DIFF)
    strict = json.loads((b / DIFF).read_text(encoding="utf-8"))
    assert strict["matching"]["min_similarity"] == 1.0
    assert strict["counts"]["matched"] < json.loads(out.read_text())["counts"]["matched"]
