"""Optional extra evidence from a local model the user names (`mapping.zero_shot_model`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import resolve_path
from pipeline.mapping.mapper import MappingError

if TYPE_CHECKING:
    from pipeline.mapping.mapper import Mapper


def _local_model_ref(name: str) -> str:
    """A folder on disk, or a hub id already in the local Hugging Face cache; else an error.

    Checked before importing the (slow to import) model libraries, so a typo fails fast.
    """
    local = resolve_path(name)
    if local.is_dir():
        return str(local)
    from huggingface_hub.constants import HF_HUB_CACHE

    if "/" in name and not name.startswith(("/", ".", "~")):
        if (Path(HF_HUB_CACHE) / f"models--{name.replace('/', '--')}").is_dir():
            return name
    raise MappingError(
        f"mapping.zero_shot_model {name!r}: no such model folder, and not in the local Hugging "
        f"Face cache ({HF_HUB_CACHE}); nothing is downloaded at run time. Give the path of a "
        "local sentence-transformers (zero_shot_kind: embedding) or NLI model (nli)."
    )


class ZeroShot:
    """Optional extra evidence from a LOCAL model the user names (off by default).

    `embedding`: a sentence-transformers model; its similarity to each area's passages is
    added like the main embedding's. `nli`: a transformers NLI model through the zero-shot
    pipeline, with one hypothesis per area name. Nothing is downloaded: a model that is not
    a local folder or already in the local Hugging Face cache is an error.
    """

    def __init__(self, mapper: Mapper):
        self.mapper = mapper
        m = mapper.m
        self.kind = m.zero_shot_kind
        name = str(m.zero_shot_model)
        target = _local_model_ref(name)
        try:
            if self.kind == "embedding":
                from sentence_transformers import SentenceTransformer

                self.model = SentenceTransformer(target, device="cpu", local_files_only=True)
                entries = [*mapper.areas, *([mapper.none] if mapper.none else [])]
                self.vecs = self._passage_vectors([a.passages() for a in entries])
            else:
                from transformers import pipeline

                self.model = pipeline("zero-shot-classification", model=target, device=-1,
                                      model_kwargs={"local_files_only": True})
        except Exception as e:  # any loader failure means the same thing to the analyst
            raise MappingError(
                f"mapping.zero_shot_model {name!r}: cannot load it as a local "
                f"{'sentence-transformers' if self.kind == 'embedding' else 'transformers NLI'}"
                f" model ({type(e).__name__}: {e}). Give a folder on disk or a model already in "
                "the local Hugging Face cache; nothing is downloaded at run time."
            ) from e

    def _encode(self, texts: list[str]) -> np.ndarray:
        v = np.asarray(self.model.encode(texts, normalize_embeddings=True), dtype=np.float32)
        return v.reshape(len(texts), -1)

    def _passage_vectors(self, passages: list[list[str]]) -> np.ndarray:
        cents = []
        for ps in passages:
            c = self._encode(ps).mean(axis=0)
            cents.append(c / np.linalg.norm(c))
        return np.stack(cents)

    def logits(self, texts: list[str]) -> np.ndarray:
        mp = self.mapper
        n_areas = len(mp.areas)
        out = np.zeros((len(texts), n_areas + 1), dtype=np.float32)
        if not texts:
            return out
        if self.kind == "embedding":
            sim = self._encode(texts) @ self.vecs.T
            sim = sim - sim.mean(axis=1, keepdims=True)
            out[:, : sim.shape[1]] = sim / mp.m.temperature
            return out
        names = [a.name or a.id for a in mp.areas]
        none_name = mp.none.name if mp.none and mp.none.name else "其他議題"
        labels = [*names, none_name]
        res = self.model(texts, candidate_labels=labels,
                         hypothesis_template=mp.m.zero_shot_hypothesis, multi_label=False)
        for i, r in enumerate(res if isinstance(res, list) else [res]):
            p = dict(zip(r["labels"], r["scores"], strict=True))
            out[i] = np.log(np.array([p[label] for label in labels]) + 1e-6)
        return out
