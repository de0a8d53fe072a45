"""Score the mapping against a labelled file (format of ../shared/eval/strategy_gold_dev.jsonl).

`eval_mapping(gold, cfg)` maps every labelled unit with the configured method and returns, for
all units and for the annotator's high-confidence ones: key-area accuracy and macro-F1 (over
the areas present in the evaluated units' gold labels, NONE included), NONE-vs-area F1 (area
= positive), JT-dimension micro-F1, consultation-focus accuracy (no focus = a label) and the
key-area confusion matrix. The same figures are given for two baselines that use the same
framework file (pipeline/evaluate/baselines.py): `keyword` (keywords alone) and `embedding`
(the nearest area description alone, thresholds tuned on the evaluated file itself, so that
baseline is optimistic in-sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from pipeline.config import Config, resolve_path
from pipeline.evaluate.baselines import embedding_baseline, embedding_cv, keyword_baseline
from pipeline.mapping.examples import read_gold
from pipeline.mapping.framework import NONE_ID
from pipeline.mapping.learned import SOURCES
from pipeline.mapping.mapper import get_mapper
from pipeline.mapping.unit_areas import unit_table
from pipeline.mapping.unit_scores import score_units
from pipeline.mapping.vectors import embed_unit_texts
from pipeline.source import InputError

# Grouped cross-validation: whole meetings per fold. Join petition reasons share one file and
# stay ONE group (all 40 reasons answer the same petition title: splitting them would let a
# fold learn the petition from its siblings, which a new round cannot do).
CV_FOLDS = 5
# Round-level prior adaptations compared under the same folds (docs/mapping.md).
PRIOR_VARIANTS = ("none", "em", "em_all")
BOOTSTRAP = 1000

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


def _focus_gold(gold: list[dict[str, Any]], focus_ids: list[str]) -> list[dict[str, Any]]:
    from pipeline.mapping.examples import normalise_focus

    return [{**r, "consultation_focus": normalise_focus(r.get("consultation_focus"), focus_ids)}
            for r in gold]


def _focus_area_accuracy(gold: list[dict[str, Any]], focus: list[str | None]) -> float | None:
    """Focus accuracy over units whose GOLD key area is not NONE (no focus = a label; a unit
    the method sends to NONE has no focus)."""
    idx = [i for i, r in enumerate(gold) if str(r["key_area"]) != NONE_ID]
    if not idx:
        return None
    return round(float(np.mean([(gold[i].get("consultation_focus") or None) == focus[i]
                                for i in idx])), 4)


def _metrics(gold: list[dict[str, Any]], preds: tuple[list, list, list], jt_ids: list[str]
             ) -> dict[str, Any]:
    out = _split(gold, preds, jt_ids)
    for part, sel in (("all", range(len(gold))),
                      ("high", [i for i, r in enumerate(gold) if r.get("confidence") == "high"])):
        if part in out:
            sel = list(sel)
            out[part]["focus_accuracy_area_units"] = _focus_area_accuracy(
                [gold[i] for i in sel], [preds[2][i] for i in sel])
    return out


# --- fast figures for the bootstrap ------------------------------------------------------------


def _fast(g: np.ndarray, p: np.ndarray, yj: np.ndarray, pj: np.ndarray, gf: np.ndarray,
          pf: np.ndarray) -> dict[str, float]:
    labels = np.unique(g)
    f1s = []
    for a in labels:
        tp = np.sum((g == a) & (p == a))
        fp = np.sum((g != a) & (p == a))
        fn = np.sum((g == a) & (p != a))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    ga, pa = g != NONE_ID, p != NONE_ID
    tp, fp, fn = np.sum(ga & pa), np.sum(~ga & pa), np.sum(ga & ~pa)
    jtp, jfp, jfn = np.sum(yj & pj), np.sum(~yj & pj), np.sum(yj & ~pj)
    eq = gf == pf
    return {
        "key_area_macro_f1": float(np.mean(f1s)),
        "none_vs_area_f1": float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 0.0,
        "jt_micro_f1": float(2 * jtp / (2 * jtp + jfp + jfn)) if jtp + jfp + jfn else 0.0,
        "focus_accuracy": float(eq.mean()),
        "focus_accuracy_area_units": float(eq[ga].mean()) if ga.any() else float("nan"),
    }


def bootstrap_ci(gold: list[dict[str, Any]], preds: tuple[list, list, list], jt_ids: list[str],
                 groups: list[str], n_boot: int = BOOTSTRAP, seed: int = 42
                 ) -> dict[str, list[float]]:
    """95% percentile intervals, resampling whole meetings with replacement (the units of a
    meeting are not independent; resampling units would make the intervals too narrow)."""
    g = np.array([str(r["key_area"]) for r in gold], dtype=object)
    p = np.array(preds[0], dtype=object)
    yj = np.array([[d in (r.get("jt_dimensions") or []) for d in jt_ids] for r in gold])
    pj = np.array([[d in x for d in jt_ids] for x in preds[1]])
    gf = np.array([r.get("consultation_focus") or "" for r in gold], dtype=object)
    pf = np.array([f or "" for f in preds[2]], dtype=object)
    names = sorted(set(groups))
    members = {n: np.flatnonzero(np.array(groups, dtype=object) == n) for n in names}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        pick = rng.integers(0, len(names), len(names))
        idx = np.concatenate([members[names[i]] for i in pick])
        for k, v in _fast(g[idx], p[idx], yj[idx], pj[idx], gf[idx], pf[idx]).items():
            draws.setdefault(k, []).append(v)
    return {k: [round(float(np.nanpercentile(v, 2.5)), 4),
                round(float(np.nanpercentile(v, 97.5)), 4)] for k, v in draws.items()}


def _headline(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "key_area_accuracy", "key_area_macro_f1", "none_vs_area_f1", "jt_micro_f1",
            "focus_accuracy", "focus_accuracy_area_units")
    return {k: m.get(k) for k in keys}


# --- the evaluation ---------------------------------------------------------------------------

def _but(*drop: str) -> tuple[str, ...]:
    return tuple(x for x in SOURCES if x not in drop)


ABLATIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    # name: (training sources, parameter overrides). "none_general" is the off-topic-meeting
    # NONE text; the framework source includes its NONE entry; "labelled" the hand-labelled
    # units of meetings outside the dev file (configs/jt_training.jsonl: every fold trains on
    # all of them, the calibration stays on the fold's dev units).
    "full": (SOURCES, {}),
    "without_pathway": (_but("pathway"), {}),
    "without_descriptions": (_but("framework"), {}),
    "without_offtopic_meetings": (_but("none_general"), {}),
    "without_dev_labels": (_but("dev"), {}),
    "without_labelled_units": (_but("labelled"), {}),
    "without_keywords": (SOURCES, {"keyword_scale": 0.0}),
    "with_meeting_title": (SOURCES, {"context": True}),
    "with_relevance_anchor": (SOURCES, {"relevance": True}),
    "with_jt_keywords_for_s12": (SOURCES, {"people_area": "S12"}),
    # Conversational context and the NONE threshold's objective (docs/mapping.md,
    # "Conversational context"): the variants measured for the NONE-vs-area decision.
    "with_neighbour_context": (SOURCES, {"neighbours": True}),
    "with_none_f1_threshold": (SOURCES, {"none_objective": "none"}),
    "with_neighbour_context_and_none_f1_threshold": (SOURCES, {"neighbours": True,
                                                                "none_objective": "none"}),
    "with_neighbour_context_labelled_too": (SOURCES, {"neighbours": True,
                                                       "labelled_context": True}),
    "pathway_alone": (("pathway", "none_general"), {"keyword_scale": 0.0}),
    "descriptions_alone": (("framework",), {"keyword_scale": 0.0}),
    "dev_labels_alone": (("dev",), {"keyword_scale": 0.0}),
}


@dataclass
class _Eval:
    """One evaluation's inputs, shared by its sections."""

    gold_path: Path
    raw_gold: list[dict[str, Any]]
    gold: list[dict[str, Any]]  # focus labels as framework ids
    mapper: Any
    units: pd.DataFrame
    cfg: Config
    n_boot: int

    @property
    def jt_ids(self) -> list[str]:
        return [d.id for d in self.mapper.jt]

    @property
    def focus_ids(self) -> list[str]:
        return [f.id for f in self.mapper.foci]

    @property
    def groups(self) -> list[str]:
        return [str(r.get("file") or r.get("meeting_title") or "") for r in self.gold]

    def metrics(self, preds: tuple) -> dict[str, Any]:
        return _metrics(self.gold, preds, self.jt_ids)

    def ci(self, preds: tuple) -> dict[str, list[float]]:
        return bootstrap_ci(self.gold, preds, self.jt_ids, self.groups, self.n_boot,
                            self.cfg.run.seed)

    def scored(self, preds: tuple) -> dict[str, Any]:
        m = self.metrics(preds)
        return {"all": {**m["all"], "ci95": self.ci(preds)}, "high": m.get("high")}


def eval_mapping(gold_path: Path, cfg: Config, ablation: bool = False,
                 n_boot: int = BOOTSTRAP) -> dict[str, Any]:
    """The shipped mapper on FILE (`all`/`high`), both baselines, and the grouped
    cross-validation (`cv`) of the learned method and the baselines with bootstrap intervals;
    with `ablation`, the learned method's CV with each source of evidence removed or alone."""
    ev = _setup(Path(gold_path), cfg, n_boot)
    x = embed_unit_texts(ev.units["text"].tolist(), cfg, "query")
    kw = keyword_baseline(ev.mapper, ev.units["tokens"].tolist())
    out = _as_shipped(ev, x, kw)
    if ev.mapper.learned is None:
        return out
    n_folds = min(CV_FOLDS, len(set(ev.groups)))
    if n_folds < 3:
        out["cv"] = {"skipped": f"{len(set(ev.groups))} meeting(s) in the file: grouped "
                                "cross-validation needs at least 3"}
        return out
    out["cv"], run_cv, learned = _cross_validation(ev, n_folds, x, kw, out)
    if ablation:
        out["ablation"] = _ablation(ev, run_cv, learned, kw)
    return out


def _setup(gold_path: Path, cfg: Config, n_boot: int) -> _Eval:
    raw_gold = read_gold(gold_path)
    mapper = get_mapper(cfg)
    gold = _focus_gold(raw_gold, [f.id for f in mapper.foci])
    return _Eval(gold_path, raw_gold, gold, mapper, _gold_units(gold, mapper), cfg, n_boot)


def cv_rows(gold_path: Path, cfg: Config, names: Sequence[str],
            n_boot: int = BOOTSTRAP) -> dict[str, Any]:
    """Only the named `ABLATIONS` rows of the grouped CV (same folds and bootstrap as
    `eval_mapping`), each with 95% intervals and per-area F1: a cheaper `--ablation`."""
    ev = _setup(Path(gold_path), cfg, n_boot)
    run_cv = _cv_runner(ev, min(CV_FOLDS, len(set(ev.groups))))
    out = {}
    for name in names:
        sources, over = ABLATIONS[name]
        preds = next(iter(run_cv(sources, over)[0].values()))
        m = ev.metrics(preds)["all"]
        out[name] = {"sources": list(sources), **over, **_headline(m), "ci95": ev.ci(preds),
                     "none_share": round(float(np.mean([k == NONE_ID for k in preds[0]])), 4),
                     "key_area_f1": m["key_area_f1"]}
    return out


def _gold_units(gold: list[dict[str, Any]], mapper: Any) -> pd.DataFrame:
    """The labelled units as a units table (segmented, all analysed)."""
    from pipeline.mapping.examples import meeting_title

    units = pd.DataFrame({
        "unit_id": [str(r["id"]) for r in gold],
        "text": [str(r["text"]) for r in gold],
        "session_id": [str(r.get("file") or r.get("meeting_title") or "") for r in gold],
        "session_title": [str(r.get("meeting_title") or meeting_title(str(r.get("file") or "")))
                          for r in gold],
        "speaker": [r.get("speaker") for r in gold],
        "analysed": True,
    })
    units["tokens"] = [mapper.tokens(t) for t in units["text"]]
    return units


def _as_shipped(ev: _Eval, x: np.ndarray, kw: tuple) -> dict[str, Any]:
    """The configured mapper as shipped, and both baselines, applied to the whole file."""
    from pipeline.mapping.training_data import sha256_file

    mapper, cfg = ev.mapper, ev.cfg
    xn = None
    if mapper.learned is not None and mapper.learned.key.use_neighbours:
        # The labelled units are not adjacent in the file: their context comes from their
        # meetings (context.py), never from the file's neighbouring lines.
        from pipeline.mapping.context import context_from_texts, dev_neighbour_texts

        xn = context_from_texts(mapper.embed_queries, dev_neighbour_texts(
            ev.raw_gold, _shared_dir(ev.gold_path) / "corpora/transcripts/meetings", cfg))
        xn = xn if xn.size else np.zeros_like(x)
    table = unit_table(score_units(ev.units, cfg, mapper=mapper, neighbour_x=xn)
                       ).set_index("unit_id")
    table = table.loc[ev.units["unit_id"]]
    method = (table["key_area"].tolist(), [list(d) for d in table["jt_dimensions"]],
              [f if isinstance(f, str) and f else None for f in table["focus"]])
    emb, thresholds = embedding_baseline(mapper, ev.gold, x, cfg)
    learned = mapper.learned is not None
    trained_on_file = learned and (mapper.learned_meta.get("inputs", {}).get("dev_gold", {})
                                   .get("sha256") == sha256_file(ev.gold_path))
    return {
        "gold": str(ev.gold_path),
        "framework": str(resolve_path(cfg.mapping.framework)),
        "framework_digest": mapper.fw.digest,
        "units": len(ev.gold),
        "units_high": sum(r.get("confidence") == "high" for r in ev.gold),
        "method": "learned" if learned else "rules",
        "method_note": mapper.learned_note or None,
        "in_sample": bool(trained_on_file) or (not learned),
        "trained_on_file": bool(trained_on_file),
        "in_sample_note": (
            "the shipped model was trained on this file: all/high are in-sample; the honest "
            "figure is cv" if trained_on_file else
            "rules method: its parameters were tuned on the dev file (in-sample there)"
            if not learned else "the shipped model never saw this file"),
        **ev.metrics(method),
        "baselines": {
            "keyword": ev.metrics(kw),
            "embedding": {**ev.metrics(emb), "thresholds": thresholds,
                          "note": "thresholds tuned on this file (in-sample)"},
        },
    }


def _cross_validation(ev: _Eval, n_folds: int, x: np.ndarray, kw: tuple,
                      shipped: dict[str, Any]) -> tuple[dict[str, Any], Any, tuple]:
    """The `cv` section: the learned mapper (each prior adaptation) and both baselines under
    the same grouped folds; also returns the CV runner and the learned predictions."""
    from pipeline.mapping.crossval import grouped_folds

    seed = ev.cfg.run.seed
    folds = grouped_folds(ev.groups, n_folds, seed)
    run_cv = _cv_runner(ev, n_folds)
    # Round-level prior adaptation: the configured variant first, then the others, all from
    # the same fold models; each held-out fold (several whole meetings) is one round.
    adapt = ev.cfg.mapping.prior_adaptation
    variants = [adapt, *[v for v in PRIOR_VARIANTS if v != adapt]]
    by_variant, cals = run_cv(*ABLATIONS["full"], variants)
    learned = by_variant[adapt]
    emb_cv = embedding_cv(ev.mapper, ev.gold, x, ev.cfg, folds)
    cv = {
        "protocol": (
            f"{n_folds} folds of whole meetings (the `file` field; the Join petition "
            "reasons share one file and are one group), sizes balanced, seed "
            f"{seed}. In every fold the prototypes, the weights, the calibration and all "
            "thresholds come from the training meetings only (weak sources + training dev "
            "units); intervals: 95% percentile bootstrap over meetings, "
            f"{ev.n_boot} resamples, seed {seed}. focus_accuracy: over all units (no focus = a "
            "label; NONE units have none); focus_accuracy_area_units: over units whose gold "
            "key area is not NONE."),
        "folds": n_folds,
        "meetings": len(set(ev.groups)),
        "fold_sizes": [int((folds == k).sum()) for k in range(n_folds)],
        "learned": {**ev.scored(learned), "prior_adaptation": adapt, "fold_calibration": cals},
        "prior_adaptation": {v: _prior_variant(ev, pv, folds, cals, v)
                             for v, pv in by_variant.items()},
        "keyword": {**ev.scored(kw), "note": "no fitted parameters: identical in and out of fold"},
        "embedding": {**ev.scored(emb_cv), "note": "thresholds tuned on the training folds"},
        "in_sample_learned": {"all": _headline(shipped["all"]),
                              "high": _headline(shipped.get("high") or {}),
                              "note": "the shipped model on this file (trained on it)"
                              if shipped["trained_on_file"] else
                              "the shipped model on this file"},
    }
    return cv, run_cv, learned


def _cv_runner(ev: _Eval, n_folds: int) -> Any:
    """run_cv(sources, overrides, variants) → ({variant: predictions}, fold calibrations):
    the learned mapper's grouped CV with the given training sources and parameters."""
    from pipeline.mapping.bundle import bundle
    from pipeline.mapping.crossval import cross_validate
    from pipeline.mapping.examples import gold_examples
    from pipeline.mapping.learned import ModelParams
    from pipeline.mapping.training_data import weak_examples

    mapper, seed = ev.mapper, ev.cfg.run.seed
    ex, _ = weak_examples(mapper, _shared_dir(ev.gold_path), set(ev.groups), seed)
    fw_b = bundle(mapper, [e for e in ex if e.source == "framework"])
    weak_b = bundle(mapper, [e for e in ex if e.source != "framework"])
    dev_b = bundle(mapper, gold_examples(ev.raw_gold, ev.focus_ids), ev.units["tokens"].tolist())
    min_units = ev.cfg.mapping.prior_adaptation_min_units
    with_context: dict[str, Any] = {}

    def bundles(params: ModelParams) -> tuple[Any, Any]:
        """(weak sources, dev units), with the units' conversational context when the model
        uses it (their meetings ingested once, on first use)."""
        if not params.neighbours:
            return weak_b, dev_b
        if "dev" not in with_context:
            with_context["dev"] = with_neighbours(mapper, ev, dev_b, ev.raw_gold)
        if params.labelled_context and "weak" not in with_context:
            with_context["weak"] = with_neighbours(mapper, ev, weak_b,
                                                   labelled_rows(ev, weak_b))
        return with_context.get("weak", weak_b) if params.labelled_context else weak_b, (
            with_context["dev"])

    def run_cv(sources: tuple[str, ...], over: dict[str, Any],
               variants: Sequence[str] | None = None) -> tuple[dict[str, tuple], list]:
        variants = list(variants or [ev.cfg.mapping.prior_adaptation])
        params = ModelParams(**over)
        weak, dev = bundles(params)
        pred, _, cals = cross_validate(fw_b, weak, dev, mapper.area_ids,
                                       ev.jt_ids, ev.focus_ids, params, sources, n_folds,
                                       seed, variants, min_units)
        return ({v: (pv["key"], pv["jt"], pv["focus"]) for v, pv in pred["adapted"].items()},
                cals)

    return run_cv


def labelled_rows(ev: _Eval, weak_b: Any) -> list[dict[str, Any]]:
    """One row per example of `weak_b`: the labelled unit's line of configs/jt_training.jsonl
    for the `labelled` source, an empty row (no context) for the others."""
    from pipeline.mapping.training_data import LABELLED_FILE

    by_id = {str(r["id"]): r for r in read_gold(LABELLED_FILE)} if LABELLED_FILE.is_file() else {}
    return [by_id.get(e.ref, {}) if e.source == "labelled" else {} for e in weak_b.examples]


def with_neighbours(mapper: Any, ev: _Eval, b: Any, rows: list[dict[str, Any]]) -> Any:
    """Bundle `b` with each unit's conversational context (context.py; `rows` are its
    examples' labelled lines): its meeting ingested from ../shared/corpora/transcripts/
    meetings as the pipeline would, the neighbouring analysed units embedded as the embed
    stage does."""
    from pipeline.mapping.context import attach_context, dev_neighbour_texts

    meetings = _shared_dir(ev.gold_path) / "corpora/transcripts/meetings"
    return attach_context(mapper, b, dev_neighbour_texts(rows, meetings, ev.cfg))


def _prior_variant(ev: _Eval, preds: tuple, folds: np.ndarray, cals: list[dict[str, Any]],
                   variant: str) -> dict[str, Any]:
    """One prior adaptation's CV figures, and per fold the gold NONE share beside the model's
    and the estimated NONE prior."""
    m = ev.metrics(preds)["all"]
    return {
        "all": {**_headline(m), "ci95": ev.ci(preds),
                "none_share": round(float(np.mean([k == NONE_ID for k in preds[0]])), 4),
                "key_area_f1": m["key_area_f1"]},
        "fold_none_prior": [
            {"fold": c["fold"],
             "gold_none_share": round(float(np.mean(
                 [str(ev.gold[i]["key_area"]) == NONE_ID
                  for i in np.flatnonzero(folds == c["fold"])])), 4),
             **{k: c["prior_adaptation"][variant].get(k)
                for k in ("none_prior_model", "none_prior_round", "applied")}}
            for c in cals],
    }


def _ablation(ev: _Eval, run_cv: Any, learned: tuple, kw: tuple) -> dict[str, Any]:
    """The learned mapper's CV with each source of evidence removed or alone."""
    abl = {}
    for name, (sources, over) in ABLATIONS.items():
        preds = learned if name == "full" else next(iter(run_cv(sources, over)[0].values()))
        abl[name] = {"sources": list(sources), **over,
                     **_headline(ev.metrics(preds)["all"])}
    abl["keywords_alone"] = {"sources": [], "note": "= the keyword baseline",
                             **_headline(ev.metrics(kw)["all"])}
    return abl


def _shared_dir(gold_path: Path) -> Path:
    """../shared (the folder holding eval/ and corpora/) for the weak training sources."""
    p = Path(gold_path).resolve()
    for cand in [p.parent.parent, resolve_path("../shared")]:
        if (cand / "corpora/ndc-2050-pathway/fulltext.txt").is_file():
            return cand
    raise InputError(gold_path, "cannot find the shared corpora next to the labelled file",
                     "the cross-validation needs ../shared/corpora (pathway text, meetings)")
