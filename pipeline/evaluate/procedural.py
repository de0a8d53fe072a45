"""Score the procedural rules on a labelled file (tests/data/procedural_labels.jsonl).

The positive class is "procedural". A unit counts as predicted procedural when the pipeline
would set it aside for carrying no feedback: `procedural_kind` finds a reason, or it is too
short to analyse (`segment.min_cjk_chars`), exactly as ingest decides. Figures are given per
half of the file (halves are whole meetings): the rules' thresholds were set on half A, so
half B is the honest figure. 95% intervals by bootstrap over units (seeded).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import Config
from pipeline.ingest.normalize import cjk_count
from pipeline.ingest.procedural import procedural_kind
from pipeline.source import InputError


def read_labels(path: Path) -> list[dict[str, Any]]:
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(path, f"line {i}: not valid JSON ({e.msg})",
                             "fix or remove the line") from e
        if row.get("label") not in ("procedural", "substantive") or "text" not in row:
            raise InputError(path, f"line {i}: needs 'text' and a label procedural|substantive",
                             "fix the line")
        rows.append(row)
    return rows


def predict(text: str, cfg: Config) -> str | None:
    kind = procedural_kind(text, cfg.roles)
    if kind is None and cjk_count(text) < cfg.segment.min_cjk_chars:
        return "short"
    return kind


def _prf(gold: np.ndarray, pred: np.ndarray) -> tuple[float, float, float]:
    tp = float(np.sum(gold & pred))
    p = tp / pred.sum() if pred.sum() else 0.0
    r = tp / gold.sum() if gold.sum() else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _scores(rows: list[dict[str, Any]], preds: list[str | None], seed: int) -> dict[str, Any]:
    gold = np.array([r["label"] == "procedural" for r in rows])
    pred = np.array([p is not None for p in preds])
    p, r, f = _prf(gold, pred)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(1000):
        idx = rng.integers(0, len(rows), len(rows))
        boots.append(_prf(gold[idx], pred[idx]))
    lo, hi = np.percentile(np.array(boots), [2.5, 97.5], axis=0)
    by_kind = Counter(r.get("kind") for r, g in zip(rows, gold, strict=True) if g)
    hit_kind = Counter(r.get("kind") for r, g, q in zip(rows, gold, pred, strict=True) if g and q)
    return {
        "units": len(rows), "procedural": int(gold.sum()),
        "precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
        "ci95": {"precision": [round(lo[0], 3), round(hi[0], 3)],
                 "recall": [round(lo[1], 3), round(hi[1], 3)],
                 "f1": [round(lo[2], 3), round(hi[2], 3)]},
        "recall_by_kind": {k: f"{hit_kind[k]}/{n}" for k, n in sorted(by_kind.items(), key=str)},
        "predicted_by_rule": dict(Counter(q for q in preds if q)),
    }


def eval_procedural(path: Path, cfg: Config, errors: bool = False) -> dict[str, Any]:
    rows = read_labels(path)
    preds = [predict(r["text"], cfg) for r in rows]
    out: dict[str, Any] = {"file": str(path), "positive_class": "procedural"}
    halves = sorted({r.get("half") for r in rows if r.get("half")})
    for h in halves:
        idx = [i for i, r in enumerate(rows) if r.get("half") == h]
        label = "half_" + h + (" (tuned on)" if h == "A" else " (held out)" if h == "B" else "")
        out[label] = _scores([rows[i] for i in idx], [preds[i] for i in idx], cfg.run.seed)
    out["all (half A in-sample)"] = _scores(rows, preds, cfg.run.seed)
    if errors:
        out["errors"] = [
            {"id": r.get("id"), "half": r.get("half"), "gold": r["label"], "kind": r.get("kind"),
             "predicted": p, "text": r["text"][:80]}
            for r, p in zip(rows, preds, strict=True)
            if (r["label"] == "procedural") != (p is not None)
        ]
    return out
