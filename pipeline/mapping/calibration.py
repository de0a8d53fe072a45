"""Probabilities and decisions of the learned mapper: softmax/sigmoid, the held-out calibration
(temperature, NONE offset, NONE/JT thresholds, no-focus offset) and the per-unit decisions.

Calibration is always fitted on held-out labelled units (in the cross-validation: the training
meetings' units with leave-meeting-out features), never on the units it is applied to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.mapping.examples import Example
from pipeline.mapping.framework import NONE_ID


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass
class Calibration:
    """Held-out calibration of the key-area probabilities and the decision thresholds."""

    temperature: float = 1.0
    none_offset: float = 0.0
    none_threshold: float = 0.5
    jt_threshold: float = 0.5
    focus_none_offset: float = 0.0
    # Class priors (in the model's class order) under which the calibrated probabilities hold:
    # the mean calibrated probability over the calibration units. Round-level prior
    # adaptation (`adapt_round`) starts from these. The mean posterior rather than the label
    # frequencies, because it is the fixed point of the EM on the calibration units: a round
    # distributed like them is left as it is, even where calibration is imperfect.
    prior: list[float] | None = None


def area_facets(key: Sequence[str], J: np.ndarray, F: np.ndarray, jt_ids: Sequence[str],
                focus_classes: Sequence[str], jt_threshold: float
                ) -> tuple[list[list[str]], list[str | None]]:
    """JT dimensions (probability ≥ threshold) and the most probable focus per unit. The
    labelling scheme gives both only to units with a key area, so NONE units get neither."""
    jt: list[list[str]] = []
    focus: list[str | None] = []
    for i, k in enumerate(key):
        if k == NONE_ID:
            jt.append([])
            focus.append(None)
            continue
        jt.append([d for d, p in zip(jt_ids, J[i], strict=True) if p >= jt_threshold])
        focus.append(focus_classes[int(F[i].argmax())] or None)
    return jt, focus


def _macro_f1(g: Sequence[str], p: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    labels = sorted(set(g))
    return float(f1_score(list(g), list(p), labels=labels, average="macro", zero_division=0))


def _none_f1(g: Sequence[str], p: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score([a != NONE_ID for a in g], [a != NONE_ID for a in p],
                          zero_division=0))


NONE_OBJECTIVES = ("macro+none", "none")


def calibrate(raw: dict[str, np.ndarray], gold: list[Example], classes: list[str],
              jt_ids: list[str], focus_classes: list[str],
              none_objective: str = "macro+none") -> Calibration:
    """Temperature, NONE offset (log-likelihood), NONE threshold (`none_objective`:
    macro-F1 + NONE-F1, or NONE-vs-area F1 alone), JT
    threshold (micro-F1) and the no-focus offset (accuracy), from uncalibrated outputs on
    held-out labelled units (`raw_scores`, possibly of several fold models). Grids are coarse
    on purpose: a few dozen units decide them."""
    from sklearn.metrics import f1_score

    cal = Calibration()
    if not gold:
        return cal
    ni = classes.index(NONE_ID)
    Z = raw["Z"]
    yi = np.array([classes.index(e.key_area) if e.key_area in classes else ni for e in gold])
    best = (np.inf, 1.0, 0.0)
    for t in (0.5, 0.75, 1.0, 1.5, 2.0, 3.0):
        for b in np.arange(-3.0, 3.01, 0.25):
            z = Z / t
            z[:, ni] += b
            P = softmax(z)
            nll = -float(np.mean(np.log(P[np.arange(len(yi)), yi] + 1e-12)))
            if nll < best[0] - 1e-9:
                best = (nll, t, float(b))
    cal.temperature, cal.none_offset = best[1], best[2]
    z = Z / cal.temperature
    z[:, ni] += cal.none_offset
    P = softmax(z)
    cal.prior = [round(float(v), 6) for v in P.mean(axis=0)]
    g = [e.key_area for e in gold]
    areas = P.copy()
    areas[:, ni] = -1
    best_area = [classes[j] for j in areas.argmax(axis=1)]

    def decide(tau: float) -> list[str]:
        return [NONE_ID if P[i, ni] >= tau else best_area[i] for i in range(len(P))]

    if none_objective not in NONE_OBJECTIVES:
        raise ValueError(f"none_objective {none_objective!r}: expected one of {NONE_OBJECTIVES}")

    def objective(k: list[str]) -> float:
        return _none_f1(g, k) + (_macro_f1(g, k) if none_objective == "macro+none" else 0.0)

    scores = [(objective(decide(tau)), -abs(tau - 0.5), float(tau))
              for tau in np.arange(0.2, 0.81, 0.05)]
    cal.none_threshold = round(max(scores)[2], 2)
    key = decide(cal.none_threshold)
    on = np.array([k != NONE_ID for k in key])
    if jt_ids and on.any():
        J = raw["J"]
        yj = np.array([[d in (e.jt or []) for d in jt_ids] for e in gold])
        cand = [(float(f1_score(yj, (J >= t) & on[:, None], average="micro", zero_division=0)),
                 -abs(t - 0.5), float(t)) for t in np.arange(0.2, 0.91, 0.05)]
        cal.jt_threshold = round(max(cand)[2], 2)
    gf = np.array([e.focus or "" for e in gold], dtype=object)
    area_gold = np.array([e.key_area != NONE_ID for e in gold])
    if on.any() and "" in focus_classes and area_gold.any():
        # The no-focus offset maximises the mean recall of the focus labels ("" included)
        # over units that have a key area: plain accuracy would let the most common answer
        # ("no focus") win, and the round's focuses would never show.
        nf = focus_classes.index("")
        cand = []
        for b in np.arange(-2.0, 2.01, 0.25):
            z = raw["F"].copy()
            z[:, nf] += b
            pf = np.array([focus_classes[int(j)] if on[i] else ""
                           for i, j in enumerate(z.argmax(axis=1))], dtype=object)
            g_, p_ = gf[area_gold], pf[area_gold]
            rec = [float(np.mean(p_[g_ == c] == c)) for c in sorted(set(g_))]
            cand.append((float(np.mean(rec)), -abs(float(b)), float(b)))
        cal.focus_none_offset = max(cand)[2]
    return cal
