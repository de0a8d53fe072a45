"""Themes stage on real text: ~200 real Pol.is comments (../shared), real embeddings, real
BERTopic. Fits are shared by module fixtures so the file stays well under a minute."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Config, ConfigError, load_config
from pipeline.fingerprint import centroid_hash
from pipeline.rundir import CENTROIDS
from pipeline.themes import (
    OUTLIER,
    ThemeResult,
    fit_themes,
    shorten,
    stable_ids,
    themes_json,
    write_theme_files,
)

REPO = Path(__file__).resolve().parents[1]
POLIS = REPO.parent / "shared" / "corpora" / "polis-tw" / "comments_dev.csv"
# Six conversations on clearly different subjects, 35 comments each.
CONVERSATIONS = ["6bsn3yezre", "talkto01-11-30", "talkto02-12-04", "talkto16-11-17",
                 "vtaiwan-data-integration-2018-10-31", "vtaiwan-uberx-08-09"]
PER_CONVERSATION = 35
CJK = re.compile(r"[\u4e00-\u9fff]")
META = {"round": "test", "run_id": "r1", "config_hash": "abc"}


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    if not POLIS.exists():
        pytest.skip("../shared/corpora/polis-tw is not available")
    df = pd.read_csv(POLIS, dtype=str)
    df = df[df["conversation"].isin(CONVERSATIONS)]
    df = df.groupby("conversation", sort=True).head(PER_CONVERSATION).reset_index(drop=True)
    n = len(df)
    out = pd.DataFrame({
        "unit_id": [f"{c}:{i}:0" for c, i in zip(df["conversation"], df["comment_idx"],
                                                 strict=True)],
        "session_id": df["conversation"], "session_title": df["topic"].fillna(""),
        "session_date": "2016-01-01", "session_type": "線上", "session_location": None,
        "speaker": [f"與會者{i}" for i in range(n)], "role": "participant",
        "text": df["comment_body"], "file": "comments_dev.csv",
        "line_start": np.arange(2, n + 2), "line_end": np.arange(2, n + 2), "analysed": True,
    })
    # A unit that is not analysed sits in the table without an embedding row.
    skipped = out.iloc[[0]].assign(unit_id="extra:0:0", text="主持人：請下一位。", analysed=False)
    return pd.concat([skipped, out], ignore_index=True)


@pytest.fixture(scope="module")
def embeddings(units: pd.DataFrame) -> np.ndarray:
    from pipeline.embed import embed_texts

    cfg = Config()
    texts = units.loc[units["analysed"], "text"].tolist()
    emb, _ = embed_texts(texts, cfg.embed, cfg.segment, kind="query")
    return emb


@pytest.fixture(scope="module")
def default_fit(units: pd.DataFrame, embeddings: np.ndarray) -> ThemeResult:
    return fit_themes(units, embeddings, Config())


@pytest.fixture(scope="module")
def target_fit(units: pd.DataFrame, embeddings: np.ndarray) -> ThemeResult:
    # A target below what HDBSCAN finds (merging must happen) and no outlier reduction
    # (so some outliers are left to account for).
    cfg = load_config(overrides=["themes.n_themes=3", "themes.outliers.strategy=none"])
    return fit_themes(units, embeddings, cfg)


def test_two_fits_give_byte_identical_themes_json(units, embeddings, default_fit, tmp_path):
    # UMAP computed afresh (no reduced-space cache) against the default fit (which may have
    # read its space from the user's cache): the same bytes either way.
    fresh = load_config(overrides=["themes.reducer.cache_dir=null"])
    again = fit_themes(units, embeddings, fresh)
    assert themes_json(again, META) == themes_json(default_fit, META)
    pd.testing.assert_frame_equal(again.unit_themes, default_fit.unit_themes)
    assert np.array_equal(again.centroids, default_fit.centroids)


def test_reduced_space_cache_is_used_and_changes_nothing(units, embeddings, default_fit,
                                                         tmp_path):
    cache = tmp_path / "reduced"
    cfg = load_config(overrides=[f"themes.reducer.cache_dir={cache}",
                                 "themes.min_size_fraction=0.05"])
    first = fit_themes(units, embeddings, cfg)
    (stored,) = cache.glob("*.npy")
    # A clustering change keeps the space: read from the cache, same result as computed.
    second = fit_themes(units, embeddings, cfg)
    assert list(cache.glob("*.npy")) == [stored]
    assert themes_json(second, META) == themes_json(first, META)
    # A damaged file is a miss: computed again (and stored again), same result.
    stored.write_bytes(b"not an array")
    third = fit_themes(units, embeddings, cfg)
    assert themes_json(third, META) == themes_json(first, META)
    assert np.load(stored).shape == (len(units) - 1, cfg.themes.reducer.n_components)
    # A change to what is reduced (another stopword changes the word features) is a new key.
    words = load_config(overrides=[f"themes.reducer.cache_dir={cache}",
                                   'themes.vectorizer.stopwords=["與會者","主持人","政府"]'])
    fit_themes(units, embeddings, words)
    assert len(list(cache.glob("*.npy"))) == 2


def test_themes_use_the_ingest_tokens_when_units_have_them(units, embeddings, default_fit):
    from pipeline.ingest.redact import placeholder_pattern
    from pipeline.segment import get_segmenter

    cfg = Config()
    blank = placeholder_pattern(cfg.redact)
    seg = get_segmenter(cfg.segment)
    # What ingest writes into units.tokens, for every unit.
    with_tokens = units.assign(tokens=[seg.tokens(blank.sub(" ", t)) for t in units["text"]])
    again = fit_themes(with_tokens, embeddings, cfg)
    assert themes_json(again, META) == themes_json(default_fit, META)
    # And they are taken, not recomputed (texts with whitespace are cut again).
    from pipeline.themes import SegmenterTokenizer

    tok = SegmenterTokenizer(cfg.segment, 2, ["與會者"], blank)
    tok.prime(["電價要合理", "電價 要合理"], [["記號詞", "與會者", "電", "電價"], ["記號詞"]])
    assert tok("電價要合理") == ["記號詞", "電價"]
    assert "記號詞" not in tok("電價 要合理")


def test_bertopic_is_imported_without_torch_and_transformers():
    import subprocess
    import sys

    code = ("import sys; from pipeline.themes import import_bertopic; import_bertopic(); "
            "from bertopic import BERTopic; "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'umap')"
            " if m in sys.modules)); import torch, umap; print('later imports work')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True).stdout
    assert out.splitlines() == ["[]", "later imports work"]


def test_finds_the_conversations_as_themes(units, default_fit):
    from sklearn.metrics import normalized_mutual_info_score

    ut = default_fit.unit_themes.merge(units[["unit_id", "session_id"]], on="unit_id")
    assert 4 <= default_fit.stats["n_themes"] <= 10
    assert normalized_mutual_info_score(ut["session_id"], ut["theme_id"]) > 0.7


def test_theme_ids_are_ordered_by_size(default_fit):
    themes = default_fit.themes
    assert [t["id"] for t in themes] == list(range(len(themes)))
    sizes = [t["size"] for t in themes]
    assert sizes == sorted(sizes, reverse=True)
    counted = default_fit.unit_themes["theme_id"].value_counts()
    assert all(counted[t["id"]] == t["size"] for t in themes)


def test_labels_and_keywords_are_chinese_not_empty(default_fit):
    # BERTopic issue #1821: with language="english" every Chinese keyword is stripped.
    for t in default_fit.themes:
        assert CJK.search(t["label"]), t["label"]
        words = [k["word"] for k in t["keywords"]]
        assert len(words) >= 5 and all(words), words
        assert any(CJK.search(w) for w in words)
        assert all(k["weight"] > 0 for k in t["keywords"])
        assert t["fingerprint"]["keywords"] == words[:10]


def test_quotes_are_real_distinct_units_of_their_theme(units, default_fit):
    by_id = units.set_index("unit_id")
    theme_of = dict(zip(default_fit.unit_themes["unit_id"], default_fit.unit_themes["theme_id"],
                        strict=True))
    for t in default_fit.themes:
        quotes = t["quotes"]
        assert min(5, t["size"]) == len(quotes) >= 3
        assert len({q["text"] for q in quotes}) == len(quotes)
        for q in quotes:
            assert theme_of[q["unit_id"]] == t["id"]
            row = by_id.loc[q["unit_id"]]
            assert q["text"] == row["text"] and q["session_id"] == row["session_id"]
            assert q["line_start"] == row["line_start"] and q["speaker"] == row["speaker"]
        # The label ends with the most central unit, shortened.
        assert t["label"].split("｜")[-1].rstrip("…") in " ".join(quotes[0]["text"].split())


def test_counts_and_shares_add_up(units, default_fit):
    st = default_fit.stats
    n = int(units["analysed"].sum())
    assert st["n_units"] == n == len(default_fit.unit_themes)
    assert "extra:0:0" not in set(default_fit.unit_themes["unit_id"])
    for t in default_fit.themes:
        assert sum(t["counts"]["session_id"].values()) == t["size"]
        assert sum(t["counts"]["role"].values()) == t["size"]
        assert t["counts"]["session_location"] == {"unspecified": t["size"]}
        assert t["share"] == pytest.approx(t["size"] / n)


@pytest.mark.parametrize("fit", ["default_fit", "target_fit"])
def test_outlier_share_matches_unit_themes(fit, request):
    res: ThemeResult = request.getfixturevalue(fit)
    st, ut = res.stats, res.unit_themes
    is_out = ut["theme_id"] == OUTLIER
    assert st["n_outliers"] == int(is_out.sum())
    assert st["outlier_share"] == pytest.approx(is_out.mean())
    assert st["outlier_share"] <= st["outlier_share_before"]
    assert st["reassigned"] == round((st["outlier_share_before"] - st["outlier_share"]) * len(ut))
    assert sum(t["size"] for t in res.themes) + st["n_outliers"] == len(ut)
    # Units HDBSCAN left out (and any later reassigned) carry probability 0.
    assert (ut.loc[is_out, "probability"] == 0).all()
    assert ut["probability"].between(0, 1).all()


def test_default_reassigns_outliers(default_fit):
    assert default_fit.stats["outlier_share"] < 0.15


def test_n_themes_target_is_honoured(target_fit):
    st = target_fit.stats
    assert st["n_themes_found"] > 3
    assert st["n_themes"] == len(target_fit.themes) == 3
    assert st["n_outliers"] > 0 and st["reassigned"] == 0
    assert set(target_fit.unit_themes["theme_id"]) == {OUTLIER, 0, 1, 2}


def test_n_themes_above_what_hdbscan_finds_raises_the_number(units, embeddings, default_fit):
    # The default clustering finds a handful; asking for more refits finer and merges down.
    want = default_fit.stats["n_themes"] + 3
    res = fit_themes(units, embeddings, load_config(overrides=[f"themes.n_themes={want}"]))
    assert res.stats["n_themes"] == len(res.themes) == want
    assert res.stats["n_themes_raised"]["selection"] == "leaf"
    assert res.stats["n_themes_found"] >= want


def test_reassigned_units_are_marked_and_the_loose_ones_counted(default_fit):
    st, ut = default_fit.stats, default_fit.unit_themes
    assert set(ut["fit"]) <= {"core", "reassigned", "loose", "outlier"}
    # Before outlier reduction some units were left out; each is now marked, not hidden.
    assert st["outlier_share_before"] > 0 and st["reassigned"] > 0
    assert int((ut["fit"].isin(["reassigned", "loose"])).sum()) == st["reassigned"]
    assert st["loose"] == int((ut["fit"] == "loose").sum()) <= st["reassigned"]
    assert (ut.loc[ut["fit"] == "core", "probability"] > 0).all()
    for t in default_fit.themes:
        mine = ut[ut["theme_id"] == t["id"]]
        assert t["reassigned"] == int((mine["fit"] != "core").sum())
        assert t["loose"] == int((mine["fit"] == "loose").sum()) <= t["reassigned"]


def test_loose_fit_is_relative_to_each_themes_own_members():
    from pipeline.themes import loose_fit

    core = np.array([[1.0, 0.0], [0.99, 0.14], [0.99, -0.14], [0.98, 0.2]])
    near, far = np.array([[0.995, 0.1]]), np.array([[0.5, 0.87]])
    emb = np.vstack([core, near, far])
    labels = np.zeros(6, dtype=np.int64)
    before = np.array([False] * 4 + [True, True])
    assert loose_fit(emb, labels, before, 0.1).tolist() == [False] * 5 + [True]
    assert not loose_fit(emb, labels, before, 0.0).any()


def test_kmeans_gives_exactly_k_themes_and_no_outliers(units, embeddings):
    cfg = load_config(overrides=["themes.clusterer.kind=kmeans", "themes.n_themes=4",
                                 "themes.reducer.kind=none"])
    res = fit_themes(units, embeddings, cfg)
    assert res.stats["n_themes"] == 4 and res.stats["n_outliers"] == 0
    assert (res.unit_themes["probability"] == 1.0).all()


def test_theme_files_and_fingerprint(tmp_path, default_fit):
    paths = write_theme_files(default_fit, META, tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        ["themes.json", "themes_fit.json", "unit_themes.parquet", CENTROIDS])
    assert (tmp_path / "themes_fit.json").read_bytes() == (tmp_path / "themes.json").read_bytes()
    doc = json.loads((tmp_path / "themes.json").read_text(encoding="utf-8"))
    cents = np.load(tmp_path / CENTROIDS)
    assert cents.shape == (len(doc["themes"]), 384)
    for t in doc["themes"]:
        assert t["fingerprint"]["centroid_sha256"] == centroid_hash(cents[t["id"]])
    assert doc["meta"] == META and doc["stats"]["n_themes"] == len(doc["themes"])
    back = pd.read_parquet(tmp_path / "unit_themes.parquet")
    pd.testing.assert_frame_equal(back, default_fit.unit_themes, check_dtype=False)


def test_embeddings_must_align_with_analysed_units(units, embeddings):
    with pytest.raises(ValueError, match="analysed"):
        fit_themes(units, embeddings[:-1], Config())


# --- no fitting ----------------------------------------------------------------------------


def test_stable_ids_size_then_smallest_unit_id():
    labels = np.array([5, 5, 7, 7, -1, 2, 2, 2])
    uids = ["b:1:0", "b:2:0", "a:1:0", "c:1:0", "z:0:0", "d:1:0", "d:2:0", "d:3:0"]
    # 2 is largest; 5 and 7 tie on size, 7 holds the smallest unit id (a:1:0).
    assert stable_ids(labels, uids) == {2: 0, 7: 1, 5: 2, -1: -1}


def test_themes_json_is_canonical():
    res = ThemeResult(
        themes=[{"id": 0, "label": "漁電共生", "share": 1 / 3, "neg": -0.0000001}],
        unit_themes=pd.DataFrame(), stats={"b": np.float32(0.5), "a": np.int64(2)})
    text = themes_json(res, {"round": "示範"})
    assert "漁電共生" in text and "\\u" not in text
    assert '"share": 0.333333' in text and '"neg": 0.0' in text
    doc = json.loads(text)
    assert list(doc["stats"]) == ["a", "b"] and doc["schema_version"] == 1


def test_shorten_prefers_a_clause_break():
    assert shorten("短句。", 10) == "短句。"
    assert shorten("我覺得政府應該，多聽地方的聲音再做決定才對", 14) == "我覺得政府應該…"
    assert shorten("一二三四五六七八九十", 4) == "一二三四…"


def test_kmeans_without_a_number_of_themes_is_a_config_error():
    with pytest.raises(ConfigError, match=r"themes\.clusterer"):
        load_config(overrides=["themes.clusterer.kind=kmeans"])
    with pytest.raises(ConfigError, match=r"themes\.n_themes"):
        load_config(overrides=["themes.n_themes=0"])


# --- evaluation ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled_csv(units: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = units[units["analysed"]]
    path = tmp_path_factory.mktemp("eval") / "labelled.csv"
    pd.DataFrame({"comment_body": rows["text"], "conversation": rows["session_id"]}).to_csv(
        path, index=False)
    return path


@pytest.mark.parametrize("mode", ["default", "bertopic-defaults"])
def test_eval_clustering_scores_the_configured_pipeline(labelled_csv, mode):
    from pipeline.evaluate.clustering import eval_clustering

    res = eval_clustering(labelled_csv, "comment_body", "conversation", Config(), mode=mode)
    assert {"nmi", "ari", "n_themes", "outlier_share", "seconds"} <= set(res)
    assert res["n_texts"] == len(CONVERSATIONS) * PER_CONVERSATION
    assert res["n_labels"] == len(CONVERSATIONS)
    assert 0.6 < res["nmi"] <= 1 and 0.4 < res["ari"] <= 1 and res["seconds"] > 0
    if mode == "bertopic-defaults":  # no outlier reduction there
        assert res["outlier_share"] == res["outlier_share_before"]
    else:
        assert res["outlier_share"] < 0.15


def test_eval_clustering_names_a_missing_column(labelled_csv):
    from pipeline.evaluate.clustering import eval_clustering
    from pipeline.source import InputError

    with pytest.raises(InputError, match="no column 'topic'"):
        eval_clustering(labelled_csv, "comment_body", "topic", Config())


@pytest.mark.parametrize("text, label_quote", [
    ("政委好，我這邊作說明，也跟大家有一些建議。", "我這邊作說明，也跟大家有一些建議。"),
    ("謝謝主席，各位好，電價應該要合理。", "電價應該要合理。"),
    ("大家好。", "大家好。"),  # nothing but courtesy: kept as it is
    ("電價要合理，謝謝。", "電價要合理，謝謝。"),  # only the opening is stripped
])
def test_a_label_does_not_start_with_a_greeting_or_thanks(text, label_quote):
    from pipeline.themes import _label_quote

    cfg = Config()
    assert _label_quote([{"text": text}], cfg.roles) == label_quote
    assert _label_quote([{"text": text}], None) == text


def test_a_label_does_not_start_with_a_self_introduction_naming_the_speaker():
    from pipeline.ingest.redact import placeholder_pattern
    from pipeline.themes import _label_quote

    cfg = Config()
    names = placeholder_pattern(cfg.redact)
    # Real unit of the 10-meeting round (2020 youth advisory roadshow).
    text = "大家好，我是與會者BZ，我代表技職司，跟我們比較有關的是就學銜接的部分。"
    assert _label_quote([{"text": text}], cfg.roles, names) == "我代表技職司，跟我們比較有關的是就學銜接的部分。"
    # A clause like a self-introduction that names nobody is what was said: kept.
    assert _label_quote([{"text": "我是覺得電價太貴，應該要調整。"}], cfg.roles, names) == (
        "我是覺得電價太貴，應該要調整。")
