"""The learned mapper: key area, JT dimensions and focus as prototype models
(pipeline/mapping/prototypes.py) trained on the weak sources and the labelled units, then
calibrated on held-out labelled units (pipeline/mapping/calibration.py). docs/mapping.md.

Sources (`SOURCES`): ``pathway`` (the official 2050 pathway text, pathway.py), ``framework``
(descriptions and examples of the framework file), ``none_general`` (off-topic meetings,
offtopic.py), ``dev`` (labelled units: in evaluation only inside the grouped cross-validation
folds; the shipped artefact uses all of them), ``labelled`` (hand-labelled units of meetings
outside the dev file, training_data.py; every fold may train on all of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.mapping.bundle import Bundle, proto_set
from pipeline.mapping.calibration import Calibration, area_facets, calibrate, sigmoid, softmax
from pipeline.mapping.examples import RELEVANCE, Example
from pipeline.mapping.framework import NONE_ID
from pipeline.mapping.prior import adapt_round
from pipeline.mapping.prototypes import ProtoModel

SOURCES = ("pathway", "framework", "none_general", "dev", "labelled")


@dataclass
class ModelParams:
    """Fixed a priori (not tuned on the dev file): see docs/mapping.md."""

    keyword_scale: float = 1.0  # scale of log(1 + keyword evidence) features (0 = no keywords)
    context: bool = False  # meeting-title evidence for the key area (off: see docs/mapping.md)
    relevance: bool = False  # net-zero relevance evidence against NONE (off: docs/mapping.md)
    source_weight: dict[str, float] = field(default_factory=lambda: {
        "pathway": 1.0, "framework": 1.0, "none_general": 1.0, "dev": 2.0, "labelled": 1.0})
    # A key area (S12) that also counts the JT dimensions' keywords (jobs, income, bills,
    # regions) as its keyword evidence, so that people-centred words weigh against a sector
    # word (off: measured in the ablation, docs/mapping.md).
    people_area: str | None = None
    # Conversational context for the key area: the neighbouring units' evidence (context.py;
    # docs/mapping.md, "Conversational context").
    neighbours: bool = False
    # With `neighbours`: the labelled units of other meetings carry their context too (their
    # meetings ingested like the dev file's); without, only the dev units have context.
    labelled_context: bool = False
    # The NONE threshold's objective on the calibration units: "macro+none" (macro-F1 +
    # NONE-vs-area F1) or "none" (NONE-vs-area F1 alone). docs/mapping.md.
    none_objective: str = "macro+none"


def _balanced_weights(y: np.ndarray, src: np.ndarray, params: ModelParams) -> np.ndarray:
    """Each source weighs its share in total, classes balanced within it: a 400-chunk pathway
    text and 300 dev units count comparably, and a 2-unit class is not drowned."""
    w = np.zeros(len(y))
    for s in np.unique(src):
        ms = src == s
        classes, counts = np.unique(y[ms], return_counts=True)
        per = {c: 1.0 / (len(classes) * n) for c, n in zip(classes, counts, strict=True)}
        w[ms] = [per[c] * params.source_weight.get(str(s), 1.0) for c in y[ms]]
    return w * len(y) / w.sum()


@dataclass
class MapperModel:
    """Key area, JT dimensions and focus models plus their held-out calibration."""

    key: ProtoModel
    jt: list[ProtoModel]
    focus: ProtoModel
    jt_ids: list[str]
    cal: Calibration = field(default_factory=Calibration)
    people_area: str | None = None  # ModelParams.people_area

    @property
    def classes(self) -> list[str]:
        return self.key.classes

    @property
    def focus_classes(self) -> list[str]:
        return self.focus.classes

    def raw(self, b: Bundle, groups: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        n = len(b.examples) if b.examples else len(b.x)
        fk = np.hstack([np.zeros((n, 1)), b.kw_focus])
        J = np.stack([sigmoid(m.logits(b.x, np.hstack([np.zeros((n, 1)), b.kw_jt[:, [k]]]),
                                        groups) @ np.array([-1.0, 1.0]))
                      for k, m in enumerate(self.jt)], axis=1) if self.jt else np.zeros((n, 0))
        kw = key_keywords(b, self.classes, self.people_area)
        return {"Z": self.key.logits(b.x, kw, groups, b.ctx(), b.nbr()), "J": J,
                "F": self.focus.logits(b.x, fk, groups)}

    def predict(self, b: Bundle, adapt: str = "none", min_units: int = 0
                ) -> dict[str, Any]:
        """Decisions and calibrated probabilities for units. With `adapt` ("em", "em_all")
        the units are taken as ONE round and the probabilities are adapted to its estimated
        priors (`adapt_round`) before the NONE decision; `prior` says what was done."""
        return self.decide(self.raw(b), adapt, min_units)

    def decide(self, r: dict[str, np.ndarray], adapt: str = "none", min_units: int = 0
               ) -> dict[str, Any]:
        """`predict` from the raw outputs (so one fold's outputs serve several variants)."""
        cal = self.cal
        ni = self.classes.index(NONE_ID)
        z = r["Z"] / cal.temperature
        z[:, ni] += cal.none_offset
        P, info = adapt_round(softmax(z), self.classes, cal.prior, adapt, min_units)
        areas = P.copy()
        areas[:, ni] = -1
        best = areas.argmax(axis=1)
        key = [NONE_ID if P[i, ni] >= cal.none_threshold else self.classes[best[i]]
               for i in range(len(P))]
        fz = r["F"].copy()
        fz[:, self.focus_classes.index("")] += cal.focus_none_offset
        F = softmax(fz)
        jt, focus = area_facets(key, r["J"], F, self.jt_ids, self.focus_classes,
                                cal.jt_threshold)
        return {"key": key, "P": P, "jt": jt, "J": r["J"], "focus": focus, "F": F,
                "prior": info}


def relevance_vectors(fw: Bundle) -> np.ndarray | None:
    """Unit-length centroids of the framework's relevance passages and of its NONE entry."""
    rel = [i for i, e in enumerate(fw.examples) if e.ref == RELEVANCE]
    none = [i for i, e in enumerate(fw.examples) if e.key_area == NONE_ID]
    if not rel or not none:
        return None
    out = np.stack([fw.x[rel].mean(axis=0), fw.x[none].mean(axis=0)])
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def train(fw: Bundle, weak: Bundle, dev: Bundle, classes: list[str], jt_ids: list[str],
          focus_ids: list[str], params: ModelParams, sources: Sequence[str] = SOURCES,
          calib: Bundle | None = None) -> MapperModel:
    """Fit the three facet models on the given bundles (only `sources` used), then calibrate
    on `calib` (held-out labelled units; default: the dev bundle with leave-meeting-out
    features, which is what a fold's training units are)."""
    use = set(sources)
    fw = fw if "framework" in use else fw.take([])
    weak = weak.where(lambda e: e.source in use)
    dev_used = dev if "dev" in use else dev.take([])
    key = _train_key(fw, weak, dev_used, classes, params)
    focus = _train_focus(fw, weak, dev_used, focus_ids, params)
    jt_models = _train_jt(fw, weak, dev_used, jt_ids, params)
    model = MapperModel(key, jt_models, focus, list(jt_ids), people_area=params.people_area)
    cb = calib if calib is not None else dev
    if len(cb.examples):
        model.cal = calibrate(model.raw(cb, cb.groups()), cb.examples, list(classes),
                              list(jt_ids), focus.classes, params.none_objective)
    return model


def key_keywords(b: Bundle, classes: Sequence[str], people_area: str | None) -> np.ndarray:
    """Key-area keyword evidence; with `people_area`, that area also gets the JT keywords."""
    if people_area is None or people_area not in classes or not b.kw_jt.size:
        return b.kw_key
    kw = b.kw_key.copy()
    kw[:, list(classes).index(people_area)] += b.kw_jt.sum(axis=1)
    return kw


def _weights(ex: list[Example], y: list[str], params: ModelParams) -> np.ndarray:
    return _balanced_weights(np.array(y, dtype=object),
                             np.array([e.source for e in ex], dtype=object), params)


def _train_key(fw: Bundle, weak: Bundle, dev: Bundle, classes: list[str],
               params: ModelParams) -> ProtoModel:
    """Key area (NONE included) from every source's area-labelled texts."""
    ksrc = {"framework": proto_set(fw, lambda e: e.key_area or None),
            "weak": proto_set(weak, lambda e: e.key_area or None),
            "dev": proto_set(dev, lambda e: e.key_area)}
    ksrc = {k: v for k, v in ksrc.items() if len(v.labels)}
    tr = (fw.where(lambda e: bool(e.key_area)) + weak.where(lambda e: bool(e.key_area))
          + dev)
    key = ProtoModel(list(classes), ksrc, params.keyword_scale > 0, params.context,
                     relevance=relevance_vectors(fw) if params.relevance else None,
                     use_neighbours=params.neighbours)
    ys = [e.key_area for e in tr.examples]
    kw = key_keywords(tr, classes, params.people_area)
    return key.fit(tr.x, kw, ys, _weights(tr.examples, ys, params), tr.groups(),
                   xc=tr.ctx(), xn=tr.nbr())


def _train_focus(fw: Bundle, weak: Bundle, dev: Bundle, focus_ids: list[str],
                 params: ModelParams) -> ProtoModel:
    """Focus ("" = none) on area-bearing texts with a focus label (framework passages, the
    labelled units among the weak sources, dev units)."""
    kw = params.keyword_scale > 0
    fcls = ["", *focus_ids]
    ffw = fw.where(lambda e: e.has_focus)
    fweak = weak.where(lambda e: e.has_focus)
    fdev = dev.where(lambda e: e.has_focus)
    fsrc = {"framework": proto_set(ffw, lambda e: e.focus or ""),
            "weak": proto_set(fweak, lambda e: e.focus or ""),
            "dev": proto_set(fdev, lambda e: e.focus or "")}
    fsrc = {k: v for k, v in fsrc.items() if len(v.labels)}
    ftr = ffw + fweak + fdev
    focus = ProtoModel(fcls, fsrc, kw)
    if len(ftr.examples):
        yf = [e.focus or "" for e in ftr.examples]
        focus.fit(ftr.x, np.hstack([np.zeros((len(yf), 1)), ftr.kw_focus]), yf,
                  _weights(ftr.examples, yf, params), ftr.groups())
    else:
        focus.theta, focus.bias = np.zeros(2 * len(fsrc) + kw), np.zeros(len(fcls))
    return focus


def _train_jt(fw: Bundle, weak: Bundle, dev: Bundle, jt_ids: list[str], params: ModelParams
              ) -> list[ProtoModel]:
    """JT dimensions: yes/no per dimension on area-bearing texts with JT labels."""
    kw = params.keyword_scale > 0
    jt_models = []
    jfw = fw.where(lambda e: e.jt is not None)
    jweak = weak.where(lambda e: e.jt is not None and e.key_area != NONE_ID)
    jdev = dev.where(lambda e: e.key_area != NONE_ID)
    jtr = jfw + jweak + jdev
    for k, dim in enumerate(jt_ids):
        def lab(e: Example, dim: str = dim) -> str:
            return "yes" if dim in (e.jt or []) else "no"
        src = {"framework": proto_set(jfw, lambda e, dim=dim: "yes" if dim in (e.jt or [])
                                      else None),
               "weak": proto_set(jweak, lab), "dev": proto_set(jdev, lab)}
        src = {a: v for a, v in src.items() if len(v.labels)}
        m = ProtoModel(["no", "yes"], src, kw)
        yj = [lab(e) for e in jtr.examples]
        if len(set(yj)) == 2:
            m.fit(jtr.x, np.hstack([np.zeros((len(yj), 1)), jtr.kw_jt[:, [k]]]), yj,
                  _weights(jtr.examples, yj, params), jtr.groups())
        else:
            m.theta, m.bias = np.zeros(2 * len(src) + kw), np.array([0.0, -30.0])
        jt_models.append(m)
    return jt_models
