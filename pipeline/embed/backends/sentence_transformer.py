"""Backend `sentence-transformers`: any model by local path or hub id, loaded offline when it
can be (`embed.download: true` to allow fetching)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import EmbedConfig
from pipeline.embed.e5_model import MODEL_ID, PREFIXES
from pipeline.embed.embedder import Kind, ModelNotAvailableError, normalise

if TYPE_CHECKING:  # loaded only when this backend is chosen
    from sentence_transformers import SentenceTransformer

E5_ALIASES = {MODEL_ID: "intfloat/multilingual-e5-small"}


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
        return normalise(vec)


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
