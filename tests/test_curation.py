"""Analyst curation (pipeline/curation.py): file validation, exclusions, merges, theme entries,
and — the point of it — decisions that land on the same themes when a re-run renumbers them.

The fast tests use the real components on small tables; the `slow` ones run the whole pipeline
on the fictional sample round (corpora/sample-round, ~20 s a run, embeddings cached).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Config, ConfigError, load_config
from pipeline.curation import (
    EXCLUDED_REASON,
    CurationError,
    apply_exclusions,
    apply_merges,
    apply_theme_curation,
    load_curation,
    unmatched_warnings,
)
from pipeline.fingerprint import centroid_hash, keyword_similarity
from pipeline.mapping.framework import load_framework
from pipeline.themes import ThemeResult, describe_themes, themes_json

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "corpora" / "sample-round"
FRAMEWORK = load_framework(ROOT / "configs" / "strategy_areas.yaml")


def _write(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


# --- the file format ------------------------------------------------------------------------


def test_shipped_example_is_valid_and_applies_nothing(tmp_path):
    shipped = ROOT / "configs" / "curation.yaml"
    cur = load_curation([shipped, tmp_path / "missing.yaml"], FRAMEWORK)
    assert cur.files == [str(shipped)]
    assert cur.themes == [] and cur.merges == [] and cur.excludes == []
    doc = cur.report_doc()
    assert set(doc) == {"files", "themes", "merge", "exclude"}
    assert doc["merge"] == {"applied": False, "entries": 0}
    # Every example in it is valid once uncommented (the commented lines right below each key).
    lines, in_example = [], False
    for line in shipped.read_text(encoding="utf-8").splitlines():
        if line in ("themes:", "merge:", "exclude:"):
            in_example = True
        elif not line.startswith("#") or line.startswith("# ---"):
            in_example = False
        elif in_example:
            line = line[1:]
        lines.append(line)
    cur = load_curation([_write(tmp_path / "uncommented.yaml", "\n".join(lines))], FRAMEWORK)
    assert len(cur.themes) == 3 and len(cur.merges) == 1 and len(cur.excludes) == 1
    assert cur.themes[0].entry.label == "漁電共生與養殖漁民生計"
    assert cur.excludes[0].entry.units == ["s02:14:0"]


BAD = [
    ("foo: 1\n", 1, r"unknown key 'foo'"),
    ("themes:\n  - keywords: [光電]\n    key_area: S99\n", 3,
     r"theme entry #1 \(光電\): key_area 'S99' is not in the framework"),
    ("themes:\n  - keywords: [光電]\n    jt_dimensions: [勞工]\n", 3,
     r"theme entry #1 \(光電\): jt_dimensions '勞工' is not in the framework"),
    ("themes:\n  - keywords: [a, b]\n    label: x\n  - keywords: [c]\n    colour: red\n", 5,
     r"theme entry #2 \(c\): unknown field 'colour'"),
    ("themes:\n  - keywords: [a, b]\n    note: only a note\n", 2,
     r"theme entry #1 \(a b\): the entry sets nothing"),
    ("pins:\n  - keywords: []\n    key_area: S01\n", 2, r"theme entry #1: keywords"),
    ("themes:\n  - keywords: [a]\n    label: '  '\n", 3, r"theme entry #1 \(a\): label"),
    ("themes:\n  - 光電\n", 2, r"theme entry #1: expected fields"),
    ("merge:\n  - themes: [[a, b]]\n", 2, r"merge entry #1: themes: .*at least 2"),
    ("merge:\n  - themes: [[a], [b]]\n    into: 3\n", 3, r"merge entry #1: unknown field 'into'"),
    ("exclude:\n  speakers: [與會者C]\n  people: [x]\n", 3,
     r"exclude entry: unknown field 'people'"),
    ("exclude:\n  - speakers: [與會者C]\n  - note: nothing\n", 3,
     r"exclude entry #2: the block excludes nothing"),
    ("themes:\n  - keywords: [a]\n    label: x\npins:\n", 4, r"both `themes:` and `pins:`"),
    ("themes:\n  - keywords: [a\n", 3, r"not valid YAML"),
]


@pytest.mark.parametrize(("body", "line", "message"), BAD)
def test_errors_name_file_line_and_entry(tmp_path, body, line, message):
    path = _write(tmp_path / "curation.yaml", body)
    with pytest.raises(CurationError, match=rf"^{path}:{line}: {message}"):
        load_curation([path], FRAMEWORK)


def test_cli_prints_a_curation_error_as_one_line(tmp_path, sample_round_copy, capsys):
    from pipeline.cli import main

    rnd = sample_round_copy
    path = _write(rnd / "curation.yaml", "themes:\n  - keywords: [光電]\n    key_area: S99\n")
    assert issubclass(CurationError, ConfigError)
    # The file is read before ingest, so a typo costs no computation.
    rc = main(["ingest", str(rnd), "--out", str(tmp_path / "reports"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip() == (f"consult ingest: error: {path}:3: theme entry #1 (光電): key_area "
                           "'S99' is not in the framework (F1, F2, NONE, S01, S02, S03, S04, "
                           "S05, S06, S07, S08, S09, S10, S11, S12)")
    assert not any((tmp_path / "reports").rglob("units.parquet"))


def test_pins_alias_one_string_keywords_and_ids_as_written(tmp_path):
    path = _write(tmp_path / "curation.yaml", (
        "pins:\n"
        "  - keywords: 漁電共生 魚塭 光電\n"
        "    reviewed: true\n"
        "exclude:\n"
        "  units:\n"
        "    - 3:14:0\n"          # YAML 1.1 would read this as the number 11640
        "  sessions: 007\n"
    ))
    cur = load_curation([path], FRAMEWORK)
    assert cur.pins[0].entry.keywords == ["漁電共生", "魚塭", "光電"]
    assert cur.pins[0].source == f"{path}:2"
    assert cur.excludes[0].entry.units == ["3:14:0"]
    assert cur.excludes[0].entry.sessions == ["007"]
    assert keyword_similarity(["a", "b"], ["a", "b", "c", "d"]) == 1.0
    assert keyword_similarity(["a", "x"], ["a", "b", "c"]) == 0.5


# --- exclusions -------------------------------------------------------------------------------


def test_exclusions_take_units_out_and_report_what_matched_nothing(tmp_path):
    units = pd.DataFrame({
        "unit_id": ["s01:1:0", "s01:1:1", "s01:2:0", "s02:1:0", "s02:2:0", "s02:3:0"],
        "session_id": ["s01", "s01", "s01", "s02", "s02", "s02"],
        "speaker": ["與會者A", "與會者A", "官員A（科長）", "與會者C", "與會者C", "主持人A"],
        "text": ["a", "b", "c", "d", "e", "f"],
        "analysed": [True, True, True, True, False, False],
        "excluded_reason": [None, None, None, None, "short", "moderator"],
    })
    path = _write(tmp_path / "curation.yaml", (
        "exclude:\n"
        "  speakers: [與會者C, 官員A, 與會者Q]\n"
        "  units: [s01:1:1]\n"
        "  sessions: [s09]\n"
        "  note: 工作人員\n"
    ))
    out, report = apply_exclusions(units, load_curation([path], FRAMEWORK))
    assert units["analysed"].sum() == 4  # the input is not modified
    reasons = [None if pd.isna(r) else r for r in out["excluded_reason"]]
    got = dict(zip(out["unit_id"], zip(out["analysed"], reasons, strict=True), strict=True))
    assert got == {
        "s01:1:0": (True, None),
        "s01:1:1": (False, EXCLUDED_REASON),
        "s01:2:0": (False, EXCLUDED_REASON),  # the bare pseudonym names the titled official
        "s02:1:0": (False, EXCLUDED_REASON),
        "s02:2:0": (False, "short"),  # already excluded by ingest: keeps its reason
        "s02:3:0": (False, "moderator"),
    }
    assert out["analysed"].dtype == bool
    assert report["units_excluded"] == 3
    by_id = {r["id"]: r for r in report["matched"]}
    assert by_id["與會者C"]["n_units"] == 2 and by_id["與會者C"]["n_excluded"] == 1
    assert by_id["s01:1:1"]["source"] == f"{path}:3" and by_id["s01:1:1"]["note"] == "工作人員"
    assert [(r["kind"], r["id"]) for r in report["unmatched"]] == [
        ("speakers", "與會者Q"), ("sessions", "s09")]
    assert "matched no unit" in report["unmatched"][0]["reason"]
    warnings = unmatched_warnings("exclude", report)
    assert warnings == [f"curation: {path}:2: exclude speakers '與會者Q' matched no unit",
                        f"curation: {path}:4: exclude sessions 's09' matched no unit"]


# --- merges -----------------------------------------------------------------------------------


def _theme_result(cfg: Config) -> tuple[ThemeResult, pd.DataFrame, np.ndarray]:
    """Three themes of 12, 10 and 8 units around three directions, described by the themes
    stage's own code; two unanalysed units are in the table but not in the embeddings."""
    rng = np.random.default_rng(0)
    sizes = [12, 10, 8]
    labels = np.repeat(np.arange(3), sizes)
    centres = np.eye(8, dtype=np.float32)[:3] * 3
    emb = (centres[labels] + rng.normal(0, 0.3, (len(labels), 8))).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    words = [["光電", "漁電共生", "魚塭"], ["電動機車", "充電站", "補助"], ["熱浪", "淹水", "補助"]]
    texts = [f"{words[t][i % 3]}的意見第{i}則" for i, t in enumerate(labels)]
    units = pd.DataFrame({
        "unit_id": [f"u{i:02d}" for i in range(len(labels))] + ["x1", "x2"],
        "session_id": [f"s{i % 2 + 1}" for i in range(len(labels))] + ["s1", "s2"],
        "speaker": ["與會者A"] * (len(labels) + 2),
        "text": [*texts, "好。", "謝謝。"],
        "analysed": [True] * len(labels) + [False, False],
    })
    rows = units[units["analysed"]].reset_index(drop=True)
    keywords = {t: [(w, 0.5 - 0.1 * i) for i, w in enumerate(ws)] for t, ws in enumerate(words)}
    themes, centroids = describe_themes(rows, emb, labels, keywords, cfg)
    unit_themes = pd.DataFrame({"unit_id": rows["unit_id"].astype(object),
                                "theme_id": labels.astype(np.int64),
                                "probability": np.ones(len(labels))})
    stats = {"n_themes": 3, "n_units": len(labels), "seed": 42}
    return ThemeResult(themes, unit_themes, stats, centroids), units, emb


def test_merge_makes_one_theme_with_consistent_ids_and_centroids(tmp_path):
    cfg = Config()
    result, units, emb = _theme_result(cfg)
    before = copy.deepcopy(result)
    path = _write(tmp_path / "curation.yaml", (
        "merge:\n"
        "  - themes:\n"
        "      - [電動機車, 充電站]\n"
        "      - 熱浪 淹水\n"
        "    label: 交通與氣候\n"
        "    note: 同一群人的意見\n"
        "  - themes: [[氫能], [核能]]\n"
    ))
    cur = load_curation([path], FRAMEWORK)
    report = apply_merges(result, units, emb, cur, cfg)

    # 10 + 8 units: the merged theme is now the largest, so it is theme 0 (ids stay 0..n-1,
    # largest first) and the solar theme, formerly 0, is theme 1.
    assert [t["id"] for t in result.themes] == [0, 1]
    merged, solar = result.themes
    assert merged["size"] == 18 and solar["size"] == 12
    assert [m["id"] for m in merged["merged_from"]] == [1, 2]
    assert [m["size"] for m in merged["merged_from"]] == [10, 8]
    assert merged["merged_from"][0]["fingerprint"] == before.themes[1]["fingerprint"]
    assert merged["label"] == "交通與氣候" and merged["label_curated"] is True
    assert merged["label_computed"].startswith("補助、電動機車")
    assert merged["merge"] == {"sources": [f"{path}:2"], "note": "同一群人的意見"}
    # Keywords pooled by size-weighted weight: the word both members share leads, then the
    # larger member's.
    kw = [k["word"] for k in merged["keywords"]]
    assert kw == ["補助", "電動機車", "充電站", "熱浪", "淹水"]  # a tie goes by the word
    assert merged["fingerprint"]["keywords"] == kw[:10]
    # Everything else about the untouched theme is what it was, but its id.
    assert {**solar, "id": 0} == before.themes[0]

    ut = result.unit_themes
    assert ut["unit_id"].tolist() == before.unit_themes["unit_id"].tolist()
    assert ut.groupby("theme_id").size().to_dict() == {0: 18, 1: 12}
    members = before.unit_themes["theme_id"].isin([1, 2]).to_numpy()
    assert (ut["theme_id"].to_numpy()[members] == 0).all()
    # Centroid rows follow the ids: row 0 the merged theme's unit-length mean, row 1 the old 0.
    assert result.centroids.shape == (2, 8)
    mean = emb[members].astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(result.centroids[0], mean / np.linalg.norm(mean), atol=1e-6)
    np.testing.assert_array_equal(result.centroids[1], before.centroids[0])
    for t in result.themes:
        assert t["fingerprint"]["centroid_sha256"] == centroid_hash(result.centroids[t["id"]])
        assert set(q["unit_id"] for q in t["quotes"]) <= set(ut["unit_id"][ut["theme_id"] == t["id"]])
    assert result.stats["n_themes"] == 2 and result.stats["n_themes_merged_curation"] == 1

    assert report["themes_removed"] == 1
    assert report["matched"][0]["theme_id"] == 0 and report["matched"][0]["merged"] == [1, 2]
    assert len(report["unmatched"]) == 1 and "merged nothing" in report["unmatched"][0]["reason"]
    assert unmatched_warnings("merge", report)[0].startswith(f"curation: {path}:7: merge entry")

    # Same inputs, same curation: the same bytes (themes.json stays deterministic).
    again = copy.deepcopy(before)
    apply_merges(again, units, emb, cur, cfg)
    meta = {"round": "t", "config_hash": "h"}
    assert themes_json(again, meta) == themes_json(result, meta)


def test_merges_sharing_a_theme_chain_together(tmp_path):
    cfg = Config()
    result, units, emb = _theme_result(cfg)
    path = _write(tmp_path / "curation.yaml", (
        "merge:\n"
        "  - themes: [[光電, 魚塭], [充電站]]\n"
        "  - themes: [[電動機車], [熱浪]]\n"
        "    label: 全部\n"
    ))
    report = apply_merges(result, units, emb, load_curation([path], FRAMEWORK), cfg)
    assert len(result.themes) == 1 and result.themes[0]["size"] == 30
    assert result.themes[0]["label"] == "全部"
    assert [m["id"] for m in result.themes[0]["merged_from"]] == [0, 1, 2]
    assert report["themes_removed"] == 2 and len(report["matched"]) == 2


# --- theme entries ----------------------------------------------------------------------------


def _mapped(tid: int, words: list[str], key_area: str) -> dict:
    return {"id": tid, "label": f"{words[0]}｜…", "size": 10,
            "fingerprint": {"keywords": words}, "key_area": key_area,
            "key_area_name": FRAMEWORK.name_of(key_area), "key_area_confidence": 0.6,
            "split_areas": ["S07"], "jt_dimensions": [], "consultation_focus": None,
            "gap": True, "gap_reason": "…", "curated": False, "curation": None}


def test_theme_entries_rename_review_and_pin_field_by_field(tmp_path):
    shared = _write(tmp_path / "shared.yaml", (
        "themes:\n"
        "  - keywords: [漁電共生, 魚塭, 養殖]\n"
        "    key_area: S01\n"
        "    label: 共用檔的名稱\n"
    ))
    rnd = _write(tmp_path / "round.yaml", (
        "themes:\n"
        "  - keywords: [漁電共生, 魚塭, 光電, 漁民]\n"
        "    label: 漁電共生與漁民生計\n"
        "    reviewed: true\n"
        "    key_area: S12\n"
        "    note: 看過了\n"
        "  - keywords: [氫能, 加氫站]\n"
        "    label: 氫能\n"
    ))
    themes = [_mapped(0, ["漁電共生", "魚塭", "養殖", "光電"], "NONE"),
              _mapped(1, ["電動機車", "充電站"], "S07")]
    cur = load_curation([shared, rnd], FRAMEWORK)
    report = apply_theme_curation(themes, cur, FRAMEWORK, 0.5)
    solar, ev = themes
    # The shared pin matches fully (1.0), the round's entry at 0.75: the stronger one decides
    # the key area, and the label, set by both, too; `reviewed` only the round's entry sets.
    assert solar["key_area"] == "S01" and solar["key_area_confidence"] == 1.0
    assert solar["gap"] is False and solar["gap_reason"] is None
    assert solar["label"] == "共用檔的名稱" and solar["label_computed"] == "漁電共生｜…"
    assert solar["label_curated"] is True and solar["reviewed"] is True
    assert solar["curated"] is True
    cura = solar["curation"]
    assert cura["source"] == f"{shared}:2" and cura["similarity"] == 1.0
    assert cura["computed"]["key_area"] == "NONE"
    assert [(e["source"], e["fields"]) for e in cura["entries"]] == [
        (f"{shared}:2", ["key_area", "label"]), (f"{rnd}:2", ["reviewed"])]
    assert {c["field"] for c in report["conflicts"]} == {"key_area", "label"}
    assert ev["curated"] is False and ev["reviewed"] is False and ev["label_curated"] is False
    assert "label_computed" not in ev
    assert [u["source"] for u in report["unmatched"]] == [f"{rnd}:7"]
    assert unmatched_warnings("themes", report) == [
        f"curation: {rnd}:7: theme entry (氫能 加氫站) matched no theme"]


# --- end to end on the sample round ---------------------------------------------------------


def _run(rnd: Path, out: Path, *overrides: str, quiet: bool = True) -> Path:
    from pipeline.runner import run

    cfg = load_config(None, list(overrides))
    return run("run", rnd, cfg, out, quiet=quiet).parent


def _themes(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "themes.json").read_text(encoding="utf-8"))["themes"]


def _members(run_dir: Path) -> dict[int, set[str]]:
    ut = pd.read_parquet(run_dir / "unit_themes.parquet")
    return {int(t): set(g["unit_id"]) for t, g in ut.groupby("theme_id")}


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> Path:
    """The sample round as the analyst first sees it (no curation)."""
    tmp = tmp_path_factory.mktemp("first")
    return _run(SAMPLE, tmp / "reports", "mapping.curation=[]")


@pytest.mark.slow
def test_rename_and_pin_land_on_the_same_themes_after_reclustering(first_run, tmp_path, sample_round_copy):
    """The issue's requirement: decisions written against one run's themes follow those themes
    into a run whose theme numbers changed, because they are matched by fingerprint."""
    first = _themes(first_run)
    first_members = _members(first_run)
    # The two smallest themes: a re-clustering with smaller themes renumbers them.
    renamed, pinned = first[-2], first[-1]
    # An area neither theme has by itself, so that only the pin can put a theme there (the
    # renamed theme is curated too and may be mapped to S12 by the model).
    area = next(a for a in ("S12", "S11", "S10")
                if a not in (pinned["key_area"], renamed["key_area"]))
    rnd = sample_round_copy
    path = _write(rnd / "curation.yaml", (
        "themes:\n"
        f"  - keywords: [{', '.join(renamed['fingerprint']['keywords'][:5])}]\n"
        "    label: 分析師取的名稱\n"
        "    reviewed: true\n"
        f"  - keywords: [{', '.join(pinned['fingerprint']['keywords'][:5])}]\n"
        f"    key_area: {area}\n"
        "    note: 分析師的判斷\n"
    ))
    again = _run(rnd, tmp_path / "reports", "mapping.curation=[]", "themes.min_size=6")
    second = _themes(again)
    members = _members(again)
    # The re-run really renumbered the themes.
    assert [(t["id"], t["size"]) for t in second] != [(t["id"], t["size"]) for t in first]

    got_renamed = [t for t in second if t.get("label_curated")]
    got_pinned = [t for t in second if t.get("curation") and t["key_area"] == area]
    assert len(got_renamed) == 1 and len(got_pinned) == 1
    r, p = got_renamed[0], got_pinned[0]
    assert r["label"] == "分析師取的名稱" and r["reviewed"] is True
    assert r["label_computed"] != r["label"] and r["curation"]["source"] == f"{path}:2"
    assert p["curation"]["source"] == f"{path}:5" and p["curation"]["note"] == "分析師的判斷"
    assert p["key_area_confidence"] == 1.0 and p["curated"] is True
    # ... and they are the same themes: mostly the same units as in the first run.
    assert _overlap(members[r["id"]], first_members[renamed["id"]]) >= 0.6
    assert _overlap(members[p["id"]], first_members[pinned["id"]]) >= 0.6
    assert (r["id"], p["id"]) != (renamed["id"], pinned["id"])
    # Nothing else was touched.
    others = [t for t in second if t["id"] not in (r["id"], p["id"])]
    assert not any(t["curated"] or t["reviewed"] or t["label_curated"] for t in others)
    report = json.loads((again / "curation_report.json").read_text(encoding="utf-8"))
    assert [m["themes"][0]["theme_id"] for m in report["themes"]["matched"]] == [r["id"], p["id"]]
    assert report["themes"]["unmatched"] == []
    stages = json.loads((again / "run.json").read_text(encoding="utf-8"))["stages"]
    assert stages["mapping"]["renamed_themes"] == 1 and stages["mapping"]["reviewed_themes"] == 1
    # The report says which label and which mapping are the analyst's, and where from.
    html = (again / "report.html").read_text(encoding="utf-8")
    md = (again / "report.md").read_text(encoding="utf-8")
    for text in (html, md.replace("\\", "")):  # Markdown escapes _ as \_
        assert "分析師取的名稱" in text and "人工命名（原始標籤：" in text and "已審閱" in text
        assert f"key_area（原計算：{p['curation']['computed']['key_area']}）" in text
        assert f"校訂來源：{path}:5；分析師的判斷" in text


@pytest.mark.slow
def test_merge_end_to_end_and_unmatched_entries_are_reported(first_run, tmp_path, capfd):
    first = _themes(first_run)
    first_members = _members(first_run)
    a, b = first[-2], first[-1]
    path = _write(tmp_path / "curation.yaml", (
        "merge:\n"
        "  - themes:\n"
        f"      - [{', '.join(a['fingerprint']['keywords'][:5])}]\n"
        f"      - [{', '.join(b['fingerprint']['keywords'][:5])}]\n"
        "    label: 合併的主題\n"
        "  - themes: [[氫能, 加氫站], [核能, 核廢料]]\n"
        "themes:\n"
        "  - keywords: [氫能, 加氫站, 綠氫]\n"
        "    label: 氫能\n"
        "exclude:\n"
        "  speakers: [與會者ZZZ]\n"  # no such speaker: reported, and changes nothing
    ))
    run_dir = _run(SAMPLE, tmp_path / "reports", f"mapping.curation=[{path}]", quiet=False)
    themes = _themes(run_dir)
    assert len(themes) == len(first) - 1
    assert [t["id"] for t in themes] == list(range(len(themes)))
    merged = next(t for t in themes if t.get("merged_from"))
    assert [m["id"] for m in merged["merged_from"]] == [a["id"], b["id"]]
    assert merged["size"] == a["size"] + b["size"]
    assert merged["label"] == "合併的主題" and merged["curated"] is True
    members = _members(run_dir)
    assert members[merged["id"]] == first_members[a["id"]] | first_members[b["id"]]
    # Every other theme is the first run's, unchanged apart from its id.
    rest = sorted((t["size"], t["fingerprint"]["keywords"]) for t in themes if t is not merged)
    assert rest == sorted((t["size"], t["fingerprint"]["keywords"]) for t in first[:-2])
    sizes = {t["id"]: t["size"] for t in themes}
    assert {k: len(v) for k, v in members.items()} == sizes
    cents = np.load(run_dir / "theme_centroids.npy")
    assert cents.shape[0] == len(themes)
    assert all(t["fingerprint"]["centroid_sha256"] == centroid_hash(cents[t["id"]])
               for t in themes)
    # The mapping scored the merged theme (its evidence is among its own units).
    assert merged["key_area"] and set(merged["evidence"]) <= members[merged["id"]]

    report = json.loads((run_dir / "curation_report.json").read_text(encoding="utf-8"))
    assert report["files"] == [str(path)]
    assert report["merge"]["themes_removed"] == 1
    assert report["merge"]["matched"][0]["theme_id"] == merged["id"]
    assert [u["source"] for u in report["merge"]["unmatched"]] == [f"{path}:6"]
    assert [u["source"] for u in report["themes"]["unmatched"]] == [f"{path}:8"]
    assert [u["id"] for u in report["exclude"]["unmatched"]] == ["與會者ZZZ"]
    assert report["exclude"]["units_excluded"] == 0
    err = capfd.readouterr().err
    for line in (f"{path}:6: merge entry merged nothing",
                 f"{path}:8: theme entry (氫能 加氫站 綠氫) matched no theme",
                 f"{path}:11: exclude speakers '與會者ZZZ' matched no unit"):
        assert f"warning: curation: {line}" in err


@pytest.mark.slow
def test_excluded_speaker_is_neither_embedded_nor_clustered(first_run, tmp_path, sample_round_copy):
    units = pd.read_parquet(first_run / "units.parquet")
    analysed = units[units["analysed"]]
    speaker = analysed[analysed["speaker"].str.startswith("與會者")]["speaker"].value_counts() \
        .index[0]
    session = "s05"
    rnd = sample_round_copy
    _write(rnd / "curation.yaml", (
        f"exclude:\n  speakers: [{speaker}]\n  sessions: [{session}]\n  note: 測試\n"))
    run_dir = _run(rnd, tmp_path / "reports", "mapping.curation=[]")
    after = pd.read_parquet(run_dir / "units.parquet")
    hit = (after["speaker"] == speaker) | (after["session_id"] == session)
    assert not after.loc[hit, "analysed"].any()
    was = units.set_index("unit_id")["analysed"]
    newly = after[hit & after["unit_id"].map(was).to_numpy()]
    assert len(newly) > 10 and (newly["excluded_reason"] == EXCLUDED_REASON).all()
    # Units ingest had excluded keep their reason; nothing else changed.
    untouched = after[~hit].set_index("unit_id")
    assert untouched["analysed"].equals(was.loc[untouched.index])
    clustered = set(pd.read_parquet(run_dir / "unit_themes.parquet")["unit_id"])
    assert clustered.isdisjoint(after.loc[hit, "unit_id"])
    assert len(clustered) == int(after["analysed"].sum())
    summary = json.loads((run_dir / "ingest_summary.json").read_text(encoding="utf-8"))
    assert summary["units_excluded"][EXCLUDED_REASON] == len(newly)
    assert summary["units_analysed"] == int(after["analysed"].sum())
    # Not embedded: the embed stage saw only the analysed units' texts.
    embed = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["stages"]["embed"]
    assert embed["cached"] + embed["embedded"] == summary["units_analysed"]
    scored = set(pd.read_parquet(run_dir / "unit_areas.parquet")["unit_id"])
    assert scored == clustered
    report = json.loads((run_dir / "curation_report.json").read_text(encoding="utf-8"))
    assert report["exclude"]["units_excluded"] == len(newly)
    assert {r["id"] for r in report["exclude"]["matched"]} == {speaker, session}
