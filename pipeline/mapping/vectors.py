"""Embedding for the mapping: units and framework passages through the pipeline's engine
(same model and cache as the embed stage), and the embedded passages of framework entries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.config import Config


def embed_unit_texts(texts: list[str], cfg: Config, kind: str) -> np.ndarray:
    """The pipeline's embedding engine (same model and cache as the themes stage)."""
    from pipeline.embed import embed_texts

    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    emb, _ = embed_texts(texts, cfg.embed, cfg.segment, kind=kind)
    return unit_length(emb)


def unit_length(emb: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32); a zero row stays zero."""
    emb = np.asarray(emb, dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.where(norms == 0, 1, norms)


@dataclass(frozen=True)
class EntryVectors:
    """Embedded passages of a list of framework entries (description first, then examples)."""

    ids: list[str]
    centroids: np.ndarray  # (n_entries, dim), L2-normalised mean of each entry's passages
    passages: np.ndarray  # (n_passages, dim)
    owner: np.ndarray  # (n_passages,) entry index of each passage

    def similarity(self, x: np.ndarray, max_weight: float) -> np.ndarray:
        """(n_units, n_entries): centroid similarity mixed with closest-passage similarity."""
        cen = x @ self.centroids.T
        if max_weight <= 0:
            return cen
        per = x @ self.passages.T
        best = np.full((x.shape[0], len(self.ids)), -1.0, dtype=np.float32)
        for j in range(len(self.ids)):
            best[:, j] = per[:, self.owner == j].max(axis=1)
        return (1 - max_weight) * cen + max_weight * best


def entry_vectors(passages: list[list[str]], ids: list[str], cfg: Config,
                   vecs: np.ndarray | None = None) -> EntryVectors:
    flat = [p for ps in passages for p in ps]
    owner = np.array([j for j, ps in enumerate(passages) for _ in ps], dtype=int)
    if vecs is None:
        vecs = embed_unit_texts(flat, cfg, "passage")
    cents = np.stack([vecs[owner == j].mean(axis=0) for j in range(len(ids))])
    norms = np.linalg.norm(cents, axis=1, keepdims=True)
    cents = cents / np.where(norms == 0, 1, norms)
    return EntryVectors(ids, cents.astype(np.float32), vecs, owner)


# Backends whose vectors depend on the whole batch (TF-IDF fitted per call): the framework
# passages and the units must then be embedded in ONE call to share a space.
CORPUS_FITTED_BACKENDS = {"tfidf"}
