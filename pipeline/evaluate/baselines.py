"""The two baselines of `consult eval mapping`, on the same framework file as the mapper:
`keyword` (keywords alone: the area with the most weighted hits, NONE when none hits) and
`embedding` (the nearest area description alone, NONE below a similarity threshold; its three
thresholds are tuned on the units given: the evaluated file in-sample, the training folds in
the cross-validation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from pipeline.config import Config
from pipeline.mapping.framework import NONE_ID
from pipeline.mapping.vectors import embed_unit_texts


def keyword_baseline(mapper: Any, tokens: list[list[str]]) -> tuple[list, list, list]:
    key, jt, focus = [], [], []
    for tok in tokens:
        s, _ = mapper.key_kw.match(tok)
        a = mapper.area_ids[int(s.argmax())] if s.size and s.max() > 0 else NONE_ID
        key.append(a)
        if a == NONE_ID:
            jt.append([])
            focus.append(None)
            continue
        js, _ = mapper.jt_kw.match(tok)
        jt.append([d.id for d, v in zip(mapper.jt, js, strict=True) if v > 0])
        fs, _ = mapper.focus_kw.match(tok)
        focus.append(mapper.foci[int(fs.argmax())].id if fs.size and fs.max() > 0 else None)
    return key, jt, focus


def _tune_threshold(values: np.ndarray, score: Any) -> float:
    """The cut on `values` that maximises `score(cut)`, searched over the values' quantiles."""
    cands = np.unique(np.quantile(values, np.linspace(0, 1, 101)))
    best = max(cands, key=lambda c: (score(c), -c))
    return float(best)


def embedding_baseline(mapper: Any, gold: list[dict[str, Any]], x: np.ndarray, cfg: Config
                        ) -> tuple[tuple[list, list, list], dict[str, float]]:
    """Nearest description by cosine alone; thresholds tuned on the evaluated file."""

    def desc(entries: list[Any]) -> np.ndarray:
        return embed_unit_texts([e.passages()[0] for e in entries], cfg, "passage")

    sim = x @ desc(mapper.areas).T
    best, arg = sim.max(axis=1), sim.argmax(axis=1)
    g = np.array([str(r["key_area"]) for r in gold], dtype=object)
    labels = sorted(set(g))
    ids = np.array([a.id for a in mapper.areas], dtype=object)

    def key_at(t: float) -> np.ndarray:
        return np.where(best >= t, ids[arg], NONE_ID)

    t_key = _tune_threshold(best, lambda t: f1_score(g, key_at(t), labels=labels,
                                                      average="macro", zero_division=0))
    key = key_at(t_key)
    is_area = key != NONE_ID
    jt_ids = [d.id for d in mapper.jt]
    yj = np.array([[d in (r.get("jt_dimensions") or []) for d in jt_ids] for r in gold])
    sj = x @ desc(mapper.jt).T if mapper.jt else np.zeros((len(gold), 0))

    def jt_at(t: float) -> np.ndarray:
        return (sj >= t) & is_area[:, None]

    t_jt = _tune_threshold(sj.reshape(-1), lambda t: f1_score(
        yj, jt_at(t), average="micro", zero_division=0)) if sj.size else 0.0
    pj = jt_at(t_jt)
    sf = x @ desc(mapper.foci).T if mapper.foci else np.zeros((len(gold), 0))
    gf = np.array([r.get("consultation_focus") or "" for r in gold], dtype=object)
    fids = np.array([f.id for f in mapper.foci], dtype=object)

    def focus_at(t: float) -> np.ndarray:
        return np.where(is_area & (sf.max(axis=1) >= t), fids[sf.argmax(axis=1)], "")

    t_f = _tune_threshold(sf.max(axis=1), lambda t: float(np.mean(focus_at(t) == gf))) \
        if sf.size else 0.0
    pf = focus_at(t_f) if sf.size else np.array([""] * len(gold), dtype=object)
    preds = (
        [str(k) for k in key],
        [[d for d, on in zip(jt_ids, row, strict=True) if on] for row in pj],
        [str(f) or None for f in pf],
    )
    return preds, {"key_area": round(t_key, 4), "jt": round(t_jt, 4), "focus": round(t_f, 4)}


def embedding_cv(mapper: Any, gold: list[dict[str, Any]], x: np.ndarray, cfg: Config,
                  folds: np.ndarray) -> tuple[list, list, list]:
    """The embedding baseline with its three thresholds tuned on the training folds only."""
    key: list[Any] = [None] * len(gold)
    jt: list[Any] = [None] * len(gold)
    focus: list[Any] = [None] * len(gold)
    for k in sorted(set(folds.tolist())):
        tr, te = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        _, th = embedding_baseline(mapper, [gold[i] for i in tr], x[tr], cfg)
        kk, jj, ff = _embedding_apply(mapper, x[te], cfg, th)
        for j, i in enumerate(te):
            key[i], jt[i], focus[i] = kk[j], jj[j], ff[j]
    return key, jt, focus


def _embedding_apply(mapper: Any, x: np.ndarray, cfg: Config, th: dict[str, float]
                     ) -> tuple[list, list, list]:
    def desc(entries: list[Any]) -> np.ndarray:
        return embed_unit_texts([e.passages()[0] for e in entries], cfg, "passage")

    sim = x @ desc(mapper.areas).T
    ids = np.array([a.id for a in mapper.areas], dtype=object)
    key = np.where(sim.max(axis=1) >= th["key_area"], ids[sim.argmax(axis=1)], NONE_ID)
    on = key != NONE_ID
    sj = x @ desc(mapper.jt).T
    sf = x @ desc(mapper.foci).T
    fids = np.array([f.id for f in mapper.foci], dtype=object)
    pf = np.where(on & (sf.max(axis=1) >= th["focus"]), fids[sf.argmax(axis=1)], "")
    return ([str(k) for k in key],
            [[d.id for d, v in zip(mapper.jt, row, strict=True) if v >= th["jt"] and o]
             for row, o in zip(sj, on, strict=True)],
            [str(f) or None for f in pf])
