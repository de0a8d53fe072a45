"""Grouped cross-validation of the learned mapper: folds of whole meetings, every prototype,
weight, calibration and threshold fitted on the training meetings only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.mapping.bundle import Bundle
from pipeline.mapping.learned import SOURCES, ModelParams, train


def grouped_folds(groups: Sequence[str], n_folds: int, seed: int) -> np.ndarray:
    """Fold of every unit: whole groups (meetings) per fold, sizes balanced (largest group
    first into the currently smallest fold; ties broken by a seeded order of the groups)."""
    rng = np.random.default_rng(seed)
    names = sorted(set(groups))
    order = rng.permutation(len(names))
    size = {g: 0 for g in names}
    for g in groups:
        size[g] += 1
    ranked = sorted((names[i] for i in order), key=lambda g: -size[g])
    fold_of: dict[str, int] = {}
    load = [0] * n_folds
    for g in ranked:
        k = int(np.argmin(load))
        fold_of[g] = k
        load[k] += size[g]
    return np.array([fold_of[g] for g in groups])


def cross_validate(fw: Bundle, weak: Bundle, dev: Bundle, classes: list[str],
                         jt_ids: list[str], focus_ids: list[str], params: ModelParams,
                         sources: Sequence[str] = SOURCES, n_folds: int = 5, seed: int = 42,
                         adapt: Sequence[str] = ("none",), min_units: int = 0
                         ) -> tuple[dict[str, Any], np.ndarray, list[dict[str, Any]]]:
    """Out-of-fold predictions for the dev units, folds = whole meetings; the prototypes,
    weights, calibration and thresholds of each fold come from its training meetings only.

    Every prior adaptation in `adapt` is applied to each held-out fold's units as one round
    (a fold = several whole meetings, the stand-in for a new round), from the same fold
    model. `out` holds the first variant's predictions and `out["adapted"][variant]` each
    variant's; each fold's entry in the third value says what the adaptation estimated."""
    groups = [e.group for e in dev.examples]
    folds = grouped_folds(groups, n_folds, seed)
    variants = list(adapt) or ["none"]
    names = ("key", "jt", "focus")
    per: dict[str, dict[str, list[Any]]] = {v: {n: [None] * len(groups) for n in names}
                                            for v in variants}
    cals = []
    for k in range(n_folds):
        tr, te = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        model = train(fw, weak, dev.take(tr), classes, jt_ids, focus_ids, params, sources)
        raw = model.raw(dev.take(te))
        priors = {}
        for v in variants:
            pred = model.decide(raw, v, min_units)
            priors[v] = pred["prior"].as_dict()
            for j, i in enumerate(te):
                for name in names:
                    per[v][name][i] = pred[name][j]
        cals.append({"fold": k, "test_units": len(te),
                     "test_meetings": len({groups[i] for i in te}), **model.cal.__dict__,
                     "prior_adaptation": priors})
    out: dict[str, Any] = {**per[variants[0]], "adapted": per}
    return out, folds, cals
