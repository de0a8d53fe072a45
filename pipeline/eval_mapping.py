"""Score the mapping against a labelled file (format of ../shared/eval/strategy_gold_dev.jsonl).

`eval_mapping(gold, cfg)` maps every labelled unit with the configured method and returns, for
all units and for the annotator's high-confidence ones: key-area accuracy and macro-F1 (over
the areas present in the evaluated units' gold labels, NONE included), NONE-vs-area F1 (area
= positive), JT-dimension micro-F1, consultation-focus accuracy (no focus = a label) and the
key-area confusion matrix. The same figures are given for two baselines that use the same
framework file: `keyword` (keywords alone: the area with the most weighted hits, NONE when
none hits) and `embedding` (the nearest area description alone, NONE below a similarity
threshold that is tuned on the evaluated file itself, so that baseline is optimistic).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from pipeline.config import Config, resolve_path
from pipeline.mapping import _embed, get_mapper, score_units, unit_table
from pipeline.source import InputError
from pipeline.taxonomy import NONE_ID

REQUIRED = ("id", "text", "key_area")


def read_gold(path: Path) -> list[dict[str, Any]]:
    rows = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(path, f"not valid JSON ({e.msg})", "one labelled unit per line",
                             line=lineno) from e
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise InputError(path, f"missing field(s) {missing}",
                             f"every line needs {', '.join(REQUIRED)}", line=lineno)
        rows.append(row)
    if not rows:
        raise InputError(path, "no labelled units", "one JSON object per line")
    return rows


def facet_metrics(
    gold: list[dict[str, Any]],
    key_area: list[str],
    jt: list[list[str]],
    focus: list[str | None],
    jt_ids: list[str],
) -> dict[str, Any]:
    """The figures of one method on one set of units."""
    g = np.array([str(r["key_area"]) for r in gold], dtype=object)
    p = np.array(key_area, dtype=object)
    labels = sorted(set(g))
    per_area = f1_score(g, p, labels=labels, average=None, zero_division=0)
    yj = np.array([[d in (r.get("jt_dimensions") or []) for d in jt_ids] for r in gold])
    pj = np.array([[d in x for d in jt_ids] for x in jt])
    gf = [r.get("consultation_focus") or None for r in gold]
    confusion: dict[str, dict[str, int]] = {}
    for a, b in zip(g, p, strict=True):
        row = confusion.setdefault(str(a), {})
        row[str(b)] = row.get(str(b), 0) + 1
    return {
        "n": len(gold),
        "key_area_accuracy": round(float((g == p).mean()), 4),
        "key_area_macro_f1": round(float(np.mean(per_area)), 4),
        "none_vs_area_f1": round(float(f1_score(g != NONE_ID, p != NONE_ID,
                                                zero_division=0)), 4),
        "jt_micro_f1": round(float(f1_score(yj, pj, average="micro", zero_division=0)), 4)
        if yj.size else None,
        "focus_accuracy": round(float(np.mean([a == b for a, b in zip(gf, focus, strict=True)])),
                                4),
        "key_area_f1": {a: round(float(f), 4) for a, f in zip(labels, per_area, strict=True)},
        "confusion": {a: dict(sorted(confusion[a].items())) for a in sorted(confusion)},
    }


def _split(gold: list[dict[str, Any]], preds: tuple[list, list, list], jt_ids: list[str]
           ) -> dict[str, Any]:
    key, jt, focus = preds
    high = [i for i, r in enumerate(gold) if r.get("confidence") == "high"]
    out = {"all": facet_metrics(gold, key, jt, focus, jt_ids)}
    if high:
        out["high"] = facet_metrics([gold[i] for i in high], [key[i] for i in high],
                                    [jt[i] for i in high], [focus[i] for i in high], jt_ids)
    return out


def _keyword_baseline(mapper: Any, tokens: list[list[str]]) -> tuple[list, list, list]:
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


def _embedding_baseline(mapper: Any, gold: list[dict[str, Any]], x: np.ndarray, cfg: Config
                        ) -> tuple[tuple[list, list, list], dict[str, float]]:
    """Nearest description by cosine alone; thresholds tuned on the evaluated file."""

    def desc(entries: list[Any]) -> np.ndarray:
        return _embed([e.passages()[0] for e in entries], cfg, "passage")

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


def eval_mapping(gold_path: Path, cfg: Config) -> dict[str, Any]:
    """Map every unit of a labelled file; the method's figures and both baselines'."""
    gold_path = Path(gold_path)
    gold = read_gold(gold_path)
    mapper = get_mapper(cfg)
    units = pd.DataFrame({
        "unit_id": [str(r["id"]) for r in gold],
        "text": [str(r["text"]) for r in gold],
        "session_id": [str(r.get("file") or r.get("meeting_title") or "") for r in gold],
        "speaker": [r.get("speaker") for r in gold],
        "analysed": True,
    })
    units["tokens"] = [mapper.tokens(t) for t in units["text"]]
    table = unit_table(score_units(units, cfg, mapper=mapper)).set_index("unit_id")
    table = table.loc[units["unit_id"]]
    jt_ids = [d.id for d in mapper.jt]
    method = (table["key_area"].tolist(), [list(x) for x in table["jt_dimensions"]],
              [f if isinstance(f, str) and f else None for f in table["focus"]])
    x = _embed(units["text"].tolist(), cfg, "query")
    kw = _keyword_baseline(mapper, units["tokens"].tolist())
    emb, thresholds = _embedding_baseline(mapper, gold, x, cfg)
    return {
        "gold": str(gold_path),
        "framework": str(resolve_path(cfg.mapping.framework)),
        "framework_digest": mapper.fw.digest,
        "units": len(gold),
        "units_high": sum(r.get("confidence") == "high" for r in gold),
        **_split(gold, method, jt_ids),
        "baselines": {
            "keyword": _split(gold, kw, jt_ids),
            "embedding": {**_split(gold, emb, jt_ids), "thresholds": thresholds},
        },
    }
