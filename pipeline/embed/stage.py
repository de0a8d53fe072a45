"""Embed stage: texts -> L2-normalised float32 vectors, reusing an on-disk cache.

The embedder comes from the backend registry (backends/); vectors are cached per
(backend, model, prefix, text) in SQLite (cache.py), except for corpus-fitted backends
(tfidf), whose vectors depend on all the texts embedded together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from pipeline.config import EmbedConfig, SegmentConfig
from pipeline.embed.backends import make_embedder
from pipeline.embed.cache import EmbeddingCache, cache_key
from pipeline.embed.embedder import Embedder, Kind

_EMBEDDERS: dict[str, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(cfg: EmbedConfig, segment: SegmentConfig) -> Embedder:
    """The embedder for this config, created once per process (models are slow to load)."""
    # Where files live does not change the model: configs that differ only in cache or models
    # folder share one instance; the segmenter matters only to tfidf.
    key = cfg.model_dump_json(exclude={"cache_dir", "cache", "models_dir"})
    if cfg.backend == "tfidf":
        key += segment.model_dump_json()
    with _EMBEDDERS_LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = make_embedder(cfg, segment)
        return _EMBEDDERS[key]


# Texts per encode call from embed_texts: bounds progress granularity and the work lost
# (not yet cached) when a run is interrupted.
_CHUNK = 512


def embed_texts(texts: Sequence[str], cfg: EmbedConfig, segment: SegmentConfig,
                kind: Kind = "query", progress: bool = False) -> tuple[np.ndarray, dict]:
    """Embed `texts` (n, dim) float32, reusing and filling the on-disk cache.

    Returns the matrix and {"embedded": computed now, "cached": read from cache,
    "unique": distinct texts, "seconds": wall time}.
    """
    t0 = time.perf_counter()
    texts = list(texts)
    emb = get_embedder(cfg, segment)
    uniq = list(dict.fromkeys(texts))
    vecs: dict[str, np.ndarray] = {}
    n_cached = 0
    if getattr(emb, "corpus_fitted", False):
        mat = emb.encode(uniq, kind) if uniq else np.zeros((0, emb.dim), np.float32)
        vecs = dict(zip(uniq, mat, strict=True))
    else:
        cache = EmbeddingCache(cfg.cache_dir) if cfg.cache else None
        try:
            keys = {t: cache_key(emb.name, kind, t) for t in uniq}
            if cache is not None:
                hit = cache.get_many(list(keys.values()), emb.dim)
                vecs = {t: hit[k] for t, k in keys.items() if k in hit}
                n_cached = len(vecs)
            todo = sorted((t for t in uniq if t not in vecs), key=len)
            _encode_chunks(emb, todo, kind, progress, vecs, cache, keys)
        finally:
            if cache is not None:
                cache.close()
    out = np.zeros((len(texts), emb.dim), np.float32)
    for i, t in enumerate(texts):
        out[i] = vecs[t]
    stats = {"embedded": len(uniq) - n_cached, "cached": n_cached, "unique": len(uniq),
             "seconds": round(time.perf_counter() - t0, 3)}
    return out, stats


def _encode_chunks(emb: Embedder, todo: list[str], kind: Kind, progress: bool,
                   vecs: dict[str, np.ndarray], cache: EmbeddingCache | None,
                   keys: dict[str, bytes]) -> None:
    from pipeline.progress import Progress

    with Progress(quiet=not progress).task(f"embed ({emb.name})", total=len(todo)) as tick:
        # `todo` is sorted by length, so each chunk holds texts of similar length.
        for i in range(0, len(todo), _CHUNK):
            part = todo[i : i + _CHUNK]
            mat = emb.encode(part, kind)
            if mat.shape != (len(part), emb.dim):
                raise RuntimeError(f"{emb.name} returned {mat.shape}, expected "
                                   f"({len(part)}, {emb.dim})")
            vecs.update(zip(part, mat, strict=True))
            if cache is not None:
                # Committed per chunk: an interrupted run keeps what it already computed.
                cache.put_many((keys[t], v) for t, v in zip(part, mat, strict=True))
            # Counted, not shown: the bar keeps its label and the text stays off the screen.
            tick(advance=len(part))
