"""The prototype model of one facet: evidence per unit and class, and its conditional logit.

Per unit u and class c the evidence is a handful of numbers that mean the same thing for
every class: similarity of u to the centroid of c's texts and to c's three closest texts, for
each source of texts (framework passages, pathway/off-topic text, labelled units), plus c's
keyword evidence. A conditional logit with ONE weight per feature (shared by all classes) and
one bias per class turns them into probabilities. ~20 parameters instead of ~6000: the texts
carry the knowledge, the weights only say how much to trust each source, which is what can be
estimated from a few hundred units and still hold on other meetings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.mapping.framework import NONE_ID


@dataclass
class ProtoSet:
    """Labelled texts of one source, as unit vectors."""

    vecs: np.ndarray  # (m, d)
    labels: np.ndarray  # (m,) class of each text
    groups: np.ndarray  # (m,) leave-out group (meeting, pathway heading, entry)


TOPK = 3


SIM_SCALE = 10.0


def proto_features(x: np.ndarray, groups: Sequence[str] | None, classes: Sequence[str],
                   sources: dict[str, ProtoSet]) -> np.ndarray:
    """(n, C, 2·S) centroid and top-3 similarities per source, centred (per unit) across the
    classes that have texts in that source; a class without texts gets 0 (= average, no
    information). When `groups` is given, texts of the unit's own group are left out
    (training units must not see themselves or their meeting); a class whose only texts are
    in that group is then "without texts" for that unit, not "far away"."""
    n, C = len(x), len(classes)
    out = np.zeros((n, C, 2 * len(sources)))
    ug = np.asarray(groups, dtype=object) if groups is not None else None
    for s, (_, ps) in enumerate(sorted(sources.items())):
        if not len(ps.vecs):
            continue
        S = x @ ps.vecs.T
        same = ug[:, None] == ps.groups[None, :] if ug is not None else None
        block = np.full((n, C, 2), np.nan)
        for c, cls in enumerate(classes):
            cols = np.flatnonzero(ps.labels == cls)
            if not len(cols):
                continue
            Sc = S[:, cols].copy()
            V = ps.vecs[cols]
            tot = V.sum(axis=0)
            if same is None:
                block[:, c, 0] = x @ tot / max(np.linalg.norm(tot), 1e-9)
            else:
                mask = same[:, cols]
                Sc[mask] = -np.inf
                for g in np.unique(ug):
                    rows = ug == g
                    keep = ~mask[np.flatnonzero(rows)[0]]
                    if not keep.any():
                        continue
                    cen = V[keep].sum(axis=0)
                    block[rows, c, 0] = x[rows] @ cen / max(np.linalg.norm(cen), 1e-9)
            k = min(TOPK, Sc.shape[1])
            top = -np.sort(-Sc, axis=1)[:, :k]
            fin = np.isfinite(top)
            cnt = fin.sum(axis=1)
            block[:, c, 1] = np.where(cnt > 0, np.where(fin, top, 0).sum(axis=1)
                                      / np.maximum(cnt, 1), np.nan)
        have = np.isfinite(block)
        cnt = have.sum(axis=1, keepdims=True)
        mean = np.where(have, block, 0).sum(axis=1, keepdims=True) / np.maximum(cnt, 1)
        out[:, :, 2 * s : 2 * s + 2] = np.where(have, block - mean, 0.0)
    return out


def _cond_logit_fit(F: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Weights θ (shared per feature) and biases b (per class) of softmax(F·θ + b), by
    weighted maximum likelihood with a small L2 penalty (scipy L-BFGS)."""
    from scipy.optimize import minimize

    n, C, k = F.shape
    W = w / w.sum()

    def nll(p: np.ndarray) -> tuple[float, np.ndarray]:
        th, b = p[:k], p[k:]
        z = F @ th + b
        z -= z.max(axis=1, keepdims=True)
        lp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        P = np.exp(lp)
        loss = -float((W * lp[np.arange(n), y]).sum()) + l2 * float(th @ th + 0.1 * b @ b)
        G = P.copy()
        G[np.arange(n), y] -= 1
        G *= W[:, None]
        gth = np.einsum("nc,nck->k", G, F) + 2 * l2 * th
        gb = G.sum(axis=0) + 0.2 * l2 * b
        return loss, np.concatenate([gth, gb])

    r = minimize(nll, np.zeros(k + C), jac=True, method="L-BFGS-B",
                 options={"maxiter": 500})
    return r.x[:k], r.x[k:]


@dataclass
class ProtoModel:
    """One facet's classifier: classes, texts per source, shared weights, class biases."""

    classes: list[str]
    sources: dict[str, ProtoSet]
    use_keywords: bool
    use_context: bool = False
    theta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Net-zero relevance for NONE: how much closer a unit is to the framework's general
    # transition anchor than to its NONE entry. Transition talk about bills, jobs or
    # consultations resembles government-process talk; this keeps it out of NONE.
    relevance: np.ndarray | None = None  # (2, d): anchor centroid, NONE-entry centroid
    # Conversational context (context.py): the same evidence for the mean vector of the
    # unit's neighbouring units, with weights of its own; zero rows = no context.
    use_neighbours: bool = False

    def feats(self, x: np.ndarray, kw: np.ndarray | None, groups: Sequence[str] | None = None,
              xc: np.ndarray | None = None, xn: np.ndarray | None = None) -> np.ndarray:
        # Cosine differences between classes are a few hundredths: scaled so that the
        # weights are of order one and the small L2 penalty does not flatten them.
        F = SIM_SCALE * proto_features(x, groups, self.classes, self.sources)
        if self.use_context:
            # The same evidence for the meeting title, with weights of its own; a unit with
            # no title gets zeros (= no information after centring).
            xc = xc if xc is not None else np.zeros_like(x)
            Fc = SIM_SCALE * proto_features(xc, groups, self.classes, self.sources)
            Fc[np.abs(xc).sum(axis=1) == 0] = 0.0
            F = np.concatenate([F, Fc], axis=2)
        if self.use_neighbours:
            xn = xn if xn is not None else np.zeros_like(x)
            Fn = SIM_SCALE * proto_features(xn, groups, self.classes, self.sources)
            Fn[np.abs(xn).sum(axis=1) == 0] = 0.0
            F = np.concatenate([F, Fn], axis=2)
        if self.relevance is not None and NONE_ID in self.classes:
            r = np.zeros((len(x), len(self.classes), 1))
            r[:, self.classes.index(NONE_ID), 0] = -SIM_SCALE * (x @ self.relevance[0]
                                                                  - x @ self.relevance[1])
            F = np.concatenate([F, r], axis=2)
        if self.use_keywords:
            k = np.zeros((len(x), len(self.classes), 1))
            if kw is not None and kw.size:
                k[:, : kw.shape[1], 0] = np.log1p(kw)
            F = np.concatenate([F, k], axis=2)
        return F

    def fit(self, x: np.ndarray, kw: np.ndarray | None, y: Sequence[str], w: np.ndarray,
            groups: Sequence[str], l2: float = 1e-3, xc: np.ndarray | None = None,
            xn: np.ndarray | None = None) -> ProtoModel:
        yi = np.array([self.classes.index(c) for c in y])
        self.theta, self.bias = _cond_logit_fit(self.feats(x, kw, groups, xc, xn), yi, w, l2)
        return self

    def logits(self, x: np.ndarray, kw: np.ndarray | None,
               groups: Sequence[str] | None = None, xc: np.ndarray | None = None,
               xn: np.ndarray | None = None) -> np.ndarray:
        return self.feats(x, kw, groups, xc, xn) @ self.theta + self.bias
