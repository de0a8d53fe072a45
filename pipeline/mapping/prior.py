"""Round-level prior adaptation (label shift), `mapping.prior_adaptation`; docs/mapping.md.

The NONE prior the model learned is that of its training meetings (open-government and
social-innovation meetings: about half NONE). A just-transition round is mostly on topic,
and its people-centred talk looks like the social talk that is NONE elsewhere: only the
round as a whole can say how common NONE is in it. Saerens, Latinne & Decaestecker (2002),
"Adjusting the outputs of a classifier to new a priori probabilities: a simple procedure",
re-estimate the priors of a new set by EM over its units' calibrated posteriors:
  p'(c|x) ∝ p(c|x) · π'(c) / π(c),   π'(c) = mean over units of p'(c|x),
which converges to the maximum-likelihood priors of the new set (the classifier's
likelihoods p(x|c) assumed unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.mapping.framework import NONE_ID

PRIOR_ADAPTATION_MAX_ITER = 200


PRIOR_ADAPTATION_TOL = 1e-6


@dataclass
class PriorAdaptation:
    """What the adaptation did to one round (or evaluation fold)."""

    method: str  # "em" (NONE vs area), "em_all" (every class), "none"
    n_units: int
    applied: bool
    reason: str = ""
    none_prior_model: float | None = None  # NONE prior under which the model is calibrated
    none_prior_round: float | None = None  # estimated NONE prior of the round
    iterations: int = 0
    converged: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v)
                for k, v in self.__dict__.items()}


def em_priors(P: np.ndarray, prior: np.ndarray, groups: Sequence[Sequence[int]] | None = None,
              max_iter: int = PRIOR_ADAPTATION_MAX_ITER, tol: float = PRIOR_ADAPTATION_TOL
              ) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Saerens et al. (2002) EM for the priors of a new set of units.

    `P` (n, C): calibrated posteriors under the training priors `prior` (C,). `groups`: the
    classes whose prior is re-estimated together (e.g. [[NONE], [every area]]): within a group
    the ratios between classes stay those of the model, so a small area is not re-weighted
    from a handful of units. Default: every class its own group.
    Returns the adjusted posteriors, the estimated group priors, the iterations and whether
    the change fell below `tol` (deterministic: no randomness, a fixed iteration bound).
    """
    P = np.asarray(P, dtype=np.float64)
    C = P.shape[1]
    groups = [list(g) for g in groups] if groups is not None else [[c] for c in range(C)]
    M = np.zeros((C, len(groups)))  # class → group membership
    for j, g in enumerate(groups):
        M[g, j] = 1.0
    # Clipped away from 0 and 1: a group with (almost) no training mass cannot be re-weighted.
    pi0 = np.clip(np.asarray(prior, dtype=np.float64) @ M, 1e-6, 1.0)
    Q = P @ M
    pi = pi0.copy()
    it, converged = 0, True
    if len(P):
        converged = False
        while it < max_iter and not converged:
            it += 1
            W = Q * (pi / pi0)
            W /= np.maximum(W.sum(axis=1, keepdims=True), 1e-300)
            new = W.mean(axis=0)
            converged = float(np.abs(new - pi).max()) < tol
            pi = new
    ratio = (pi / pi0) @ M.T  # per class
    A = P * ratio
    A /= np.maximum(A.sum(axis=1, keepdims=True), 1e-300)
    return A, pi, it, converged


def adapt_round(P: np.ndarray, classes: Sequence[str], prior: Sequence[float] | None,
                method: str, min_units: int) -> tuple[np.ndarray, PriorAdaptation]:
    """The posteriors of one round's units, adapted to the round's own NONE prior (`em`) or
    to all of its class priors (`em_all`); unchanged for `none`, for a round of fewer than
    `min_units` units (too few to estimate a prior) and for a model without stored priors."""
    n = len(P)
    ni = list(classes).index(NONE_ID)
    base = float(prior[ni]) if prior is not None else None
    info = PriorAdaptation(method, n, False, none_prior_model=base)
    if method == "none":
        info.reason = "mapping.prior_adaptation is none"
        return P, info
    if prior is None:
        info.reason = "the model has no stored training priors (rebuild the artefact)"
        return P, info
    if n < min_units:
        info.reason = (f"{n} units: fewer than mapping.prior_adaptation_min_units "
                       f"({min_units}), too few to estimate the round's prior")
        return P, info
    if method == "em":
        groups: list[list[int]] | None = [[ni], [c for c in range(len(classes)) if c != ni]]
    elif method == "em_all":
        groups = None
    else:
        raise ValueError(f"unknown prior adaptation {method!r}")
    A, pi, it, ok = em_priors(P, np.asarray(prior, dtype=np.float64), groups)
    none_round = float(pi[0]) if groups is not None else float(pi[ni])
    info.applied, info.none_prior_round, info.iterations, info.converged = (
        True, none_round, it, ok)
    return A, info
