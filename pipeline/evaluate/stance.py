"""Score the stance classifier on a labelled file (tests/data/stance_labels.jsonl).

Grouped cross-validation: folds of whole meetings (the petition and the Pol.is file are one
group each), the regularisation chosen inside each training part (nested), so every figure
is out-of-sample. Compared under the same folds: the cue-words-only baseline (cues.cue_stance,
no learning) and the model on cue features alone (no embedding). 95% intervals by resampling
whole meetings. The shipped artefact's score on the same file is in-sample (it was fitted on
all of it) and labelled so.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import Config, resolve_path
from pipeline.jsonio import labelled_lines
from pipeline.source import InputError
from pipeline.stance import model as sm
from pipeline.stance.cues import LABEL_CODES, STANCES, cue_stance

CV_FOLDS = 10
REQUIRED = ("id", "group", "text", "label")


def read_labels(path: Path) -> list[dict[str, Any]]:
    rows = []
    for lineno, row in labelled_lines(path, REQUIRED):
        label = LABEL_CODES.get(row["label"], row["label"])
        if label not in STANCES:
            raise InputError(path, f"unknown label {row['label']!r}",
                             f"use one of {', '.join(LABEL_CODES)} (or {', '.join(STANCES)})",
                             line=lineno)
        rows.append({**row, "label": label})
    return rows


def labelled_features(path: Path, cfg: Config) -> tuple[list[dict[str, Any]], np.ndarray,
                                                         np.ndarray, np.ndarray]:
    """(rows, features with the pipeline's own embeddings, labels, groups)."""
    from pipeline.embed import embed_texts

    rows = read_labels(path)
    texts = [str(r["text"]) for r in rows]
    emb, _ = embed_texts(texts, cfg.embed, cfg.segment, kind="query")
    x = sm.features(texts, emb)
    return (rows, x, np.array([r["label"] for r in rows], dtype=object),
            np.array([str(r["group"]) for r in rows], dtype=object))


def _confusion(gold: np.ndarray, pred: np.ndarray) -> dict[str, dict[str, int]]:
    """Rows: gold stance; columns: predicted."""
    return {g: {p: int(np.sum((gold == g) & (pred == p))) for p in STANCES} for g in STANCES}


def _per_class(gold: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score

    f = f1_score(list(gold), list(pred), labels=list(STANCES), average=None, zero_division=0)
    return {s: round(float(v), 3) for s, v in zip(STANCES, f, strict=True)}


def eval_stance(path: Path, cfg: Config, errors: bool = False) -> dict[str, Any]:
    rows, x, y, groups = labelled_features(path, cfg)
    n_cue = len(sm.CUE_FEATURES)
    model_pred, cs = sm.grouped_cv(x, y, groups, CV_FOLDS)
    cue_lr_pred, _ = sm.grouped_cv(x[:, :n_cue], y, groups, CV_FOLDS)
    baseline = np.array([cue_stance(str(r["text"])) for r in rows], dtype=object)
    preds = {"model": model_pred, "cue_baseline": baseline, "cues_only_model": cue_lr_pred}
    ci = sm.cluster_bootstrap(y, preds, groups, cfg.run.seed)
    out: dict[str, Any] = {
        "file": str(path), "units": len(rows), "groups": len(set(groups)),
        "labels": dict(Counter(y.tolist()).most_common()),
        "cv": f"{CV_FOLDS} folds of whole meetings/files; (embedding weight, C) chosen inside "
              f"each training part by a 5-fold grouped CV over {list(sm.GRID)} "
              f"(chosen per fold: {cs})",
        "macro_f1": {k: round(sm.macro_f1(y, p), 3) for k, p in preds.items()},
        "macro_f1_ci95": ci,
        "accuracy": {k: round(float(np.mean(p == y)), 3) for k, p in preds.items()},
        "per_class_f1": {k: _per_class(y, p) for k, p in preds.items()},
        "confusion_model (rows gold, columns predicted)": _confusion(y, model_pred),
        "confusion_cue_baseline": _confusion(y, baseline),
    }
    by_source: dict[str, Any] = {}
    kinds = np.array(["meetings" if g.startswith("transcripts/") else g.split("/")[0]
                      for g in groups])
    for kind in sorted(set(kinds)):
        m = kinds == kind
        by_source[kind] = {"units": int(m.sum()),
                           **{k: round(sm.macro_f1(y[m], p[m], sorted(set(y[m]))), 3)
                              for k, p in preds.items()}}
    out["macro_f1_by_source (over the stances present there)"] = by_source
    artefact = resolve_path(cfg.stance.model)
    if artefact.is_file() and cfg.embed.backend in sm.E5_BACKENDS:
        shipped, _ = sm.load(artefact)
        out["shipped_artefact_in_sample_macro_f1 (fitted on this file: not a test)"] = round(
            sm.macro_f1(y, shipped.predict(x)), 3)
    if errors:
        out["errors"] = [{"id": r["id"], "gold": g, "model": str(p), "cues": str(b),
                          "text": str(r["text"])[:80]}
                         for r, g, p, b in zip(rows, y, model_pred, baseline, strict=True)
                         if g != p]
    return out
