"""The mapper: the framework embedded and indexed once, and each unit's scores.

Per unit, every key area gets a score from two kinds of evidence (the rules method):

    logit(area) = sim(unit, area) / T  +  keyword_weight · log(1 + keyword evidence)
    logit(NONE) = sim(unit, NONE) / T  +  none_bias
                  − relevance_weight · (sim(unit, net-zero anchor) − sim(unit, NONE)) / T

`similarity` is the cosine between the unit (embedded as a query) and the area's description and
example sentences (embedded once as passages): a mix of the similarity to their centroid and to
the closest one. A softmax over the logits gives each unit a probability per area, NONE
included. With `mapping.method: learned` (the default) the shipped learned model
(pipeline/mapping/learned.py, artefact.py) decides instead, and the rules' similarity and
keyword columns stay as evidence. See docs/mapping.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.config import Config, ConfigError, resolve_path
from pipeline.mapping.calibration import sigmoid, softmax
from pipeline.mapping.framework import NONE_ID, Framework, load_framework
from pipeline.mapping.keywords import KeywordIndex
from pipeline.mapping.vectors import (
    CORPUS_FITTED_BACKENDS,
    EntryVectors,
    embed_unit_texts,
    entry_vectors,
)


class MappingError(ConfigError):
    """A mapping problem phrased for the analyst (bad curation file, missing local model)."""


@dataclass
class UnitScores:
    """Everything the mapper computed for a list of texts, before it becomes a DataFrame."""

    area_ids: list[str]  # key areas, then NONE
    probability: np.ndarray  # (n, n_areas + 1)
    similarity: np.ndarray  # (n, n_areas + 1)
    keyword_score: np.ndarray  # (n, n_areas + 1)
    keywords: list[list[list[str]]]  # [unit][area] matched keywords
    relevance: np.ndarray  # (n,) net-zero relevance (similarity margin over NONE)
    key_area: list[str]
    key_area_score: np.ndarray
    confidence: list[str]
    jt_ids: list[str]
    jt_score: np.ndarray  # (n, n_jt) in [0, 1]; ≥ 0.5 means assigned (for area units)
    jt_dimensions: list[list[str]]
    focus_ids: list[str]
    focus_score: np.ndarray
    focus: list[str | None]
    method: str = "rules"  # which scorer decided: "learned" or "rules"
    focus_prob: np.ndarray | None = None  # (n,) probability of the unit's focus decision
    # What the round-level prior adaptation did (learned method): PriorAdaptation.as_dict().
    prior_adaptation: dict[str, Any] | None = None


class Mapper:
    """The framework, embedded and indexed once, and the scoring rules of `cfg.mapping`."""

    def __init__(self, cfg: Config, framework: Framework | None = None):
        from pipeline.segment import get_segmenter

        self.cfg = cfg
        self.m = cfg.mapping
        self.fw = framework or load_framework(resolve_path(self.m.framework))
        self.seg = get_segmenter(cfg.segment)
        self.areas = self.fw.key_areas
        self.none = self.fw.none_area
        self.jt = self.fw.jt_dimensions
        self.foci = self.fw.focuses
        self.area_ids = [a.id for a in self.areas] + [NONE_ID]
        key_entries = [*self.areas, *([self.none] if self.none else [])]
        # (name, ids, passages) of every group of entries that is embedded.
        self._groups: list[tuple[str, list[str], list[list[str]]]] = [
            ("key", [a.id for a in key_entries], [a.passages() for a in key_entries]),
            ("relevance", ["relevance"],
             [self.fw.relevance.passages()] if self.fw.relevance else []),
            ("jt", [a.id for a in self.jt], [a.passages() for a in self.jt]),
            ("focus", [a.id for a in self.foci], [a.passages() for a in self.foci]),
        ]
        self.joint = cfg.embed.backend in CORPUS_FITTED_BACKENDS
        vecs = {} if self.joint else self._embed_groups(None)
        self._set_vectors(vecs)
        cap = self.m.keyword_cap
        self.key_kw = KeywordIndex(self.areas, self._kw_tokens, cap)
        self.jt_kw = KeywordIndex(self.jt, self._kw_tokens, cap)
        self.focus_kw = KeywordIndex(self.foci, self._kw_tokens, cap)
        self._zero_shot: Any = None
        if self.m.zero_shot_model:
            from pipeline.mapping.zero_shot import ZeroShot

            self._zero_shot = ZeroShot(self)
        self.learned: Any = None
        self.learned_note = ""
        if self.m.method == "learned":
            self._load_learned()

    def _load_learned(self) -> None:
        """The shipped learned model (pipeline/mapping/artefact.py), or the rules with a note
        saying why not (another embedding backend, a framework with other areas, no file)."""
        from pipeline.mapping.artefact import E5_BACKENDS, framework_bundle, load_artefact

        path = resolve_path(self.m.model)
        if self.cfg.embed.backend not in E5_BACKENDS:
            self.learned_note = (f"mapping.method=learned needs an e5 backend, not "
                                 f"{self.cfg.embed.backend!r}: the rules were used")
            return
        if not path.is_file() or not path.with_suffix(".json").is_file():
            raise MappingError(f"mapping.model {self.m.model!r}: no such file (or its .json). "
                               "Rebuild it with `python bench/build_mapping_model.py`, or use "
                               "--set mapping.method=rules")
        model, meta = load_artefact(path, framework_bundle(self))
        if list(meta.get("key_classes") or []) != self.area_ids or (
                model.jt_ids != [d.id for d in self.jt]) or (
                model.focus_classes[1:] != [f.id for f in self.foci]):
            self.learned_note = ("the learned model was built for other framework ids than "
                                 f"{self.fw.path or 'this framework'}: the rules were used "
                                 "(rebuild with bench/build_mapping_model.py)")
            return
        self.learned = model
        self.learned_meta = meta

    def _embed_groups(self, flat_vecs: np.ndarray | None) -> dict[str, EntryVectors]:
        """Entry vectors per group, from one embedding call (or from given vectors)."""
        flat = [p for _, _, ps in self._groups for pl in ps for p in pl]
        if flat_vecs is None:
            flat_vecs = embed_unit_texts(flat, self.cfg, "passage")
        out: dict[str, EntryVectors] = {}
        start = 0
        for name, ids, ps in self._groups:
            n = sum(len(pl) for pl in ps)
            if ids and ps:
                out[name] = entry_vectors(ps, ids, self.cfg, flat_vecs[start : start + n])
            start += n
        return out

    def _set_vectors(self, vecs: dict[str, EntryVectors]) -> None:
        self.key_vecs = vecs.get("key")
        self.rel_vecs = vecs.get("relevance")
        self.jt_vecs = vecs.get("jt")
        self.focus_vecs = vecs.get("focus")

    def embed_units(self, texts: list[str]) -> np.ndarray:
        """Unit vectors; for a corpus-fitted backend, re-fits the framework's with them."""
        if not self.joint:
            return embed_unit_texts(texts, self.cfg, "query")
        flat = [p for _, _, ps in self._groups for pl in ps for p in pl]
        both = embed_unit_texts(flat + texts, self.cfg, "query")
        self._set_vectors(self._embed_groups(both[: len(flat)]))
        return both[len(flat) :]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Texts as unit-length query vectors (the pipeline's engine and cache)."""
        return embed_unit_texts(texts, self.cfg, "query")

    def _kw_tokens(self, word: str) -> list[str]:
        return self.seg.tokens(word)

    def tokens(self, text: str) -> list[str]:
        return self.seg.tokens(text)

    def _facet_logits(self, x: np.ndarray, vecs: EntryVectors | None, kw: KeywordIndex,
                      toks: list[list[str]]) -> np.ndarray:
        """Similarity centred across the facet's entries, plus keyword evidence."""
        if vecs is None:
            return np.zeros((len(toks), 0), dtype=np.float32)
        sim = vecs.similarity(x, self.m.max_weight)
        sim = sim - sim.mean(axis=1, keepdims=True)
        ks = np.stack([kw.match(t)[0] for t in toks])
        return sim / self.m.temperature + self.m.keyword_weight * np.log1p(ks)

    def _empty(self) -> UnitScores:
        k = len(self.area_ids)
        nothing = np.zeros((0, k), dtype=np.float32)
        return UnitScores(self.area_ids, nothing, nothing, nothing, [], np.zeros(0), [],
                          np.zeros(0), [], [a.id for a in self.jt],
                          np.zeros((0, len(self.jt))), [], [a.id for a in self.foci],
                          np.zeros((0, len(self.foci))), [])

    def score(self, texts: list[str], tokens: list[list[str]] | None = None,
              x: np.ndarray | None = None, contexts: Sequence[str] | None = None,
              neighbours: Sequence[tuple[int | None, int | None]] | None = None,
              neighbour_x: np.ndarray | None = None) -> UnitScores:
        """Scores of texts; `contexts` are their meetings' titles (used by the learned
        model as evidence of its own, never alone); `neighbours` each text's (previous,
        next) row among the texts (context.neighbour_pairs), or `neighbour_x` the context
        vectors themselves: the conversational context, used only by a learned model built
        with it (`ModelParams.neighbours`)."""
        m = self.m
        if not texts:
            return self._empty()
        toks = tokens if tokens is not None else [self.tokens(t) for t in texts]
        if x is None or self.key_vecs is None:
            # A corpus-fitted backend has no framework vectors until it sees the units.
            x = self.embed_units(list(texts))
        assert self.key_vecs is not None
        n, n_areas = len(texts), len(self.areas)
        sim_all = self.key_vecs.similarity(x, m.max_weight)
        sim = np.zeros((n, n_areas + 1), dtype=np.float32)
        sim[:, :n_areas] = sim_all[:, :n_areas]
        # Without a NONE entry the average area stands in for "no area".
        sim[:, n_areas] = sim_all[:, n_areas] if self.none else sim_all.mean(axis=1)
        kw_score = np.zeros_like(sim)
        matched: list[list[list[str]]] = []
        for i, t in enumerate(toks):
            s, words = self.key_kw.match(t)
            kw_score[i, :n_areas] = s
            matched.append([*words, []])
        if self.rel_vecs is not None:
            relevance = self.rel_vecs.similarity(x, m.max_weight)[:, 0] - sim[:, n_areas]
        else:
            relevance = sim[:, :n_areas].max(axis=1) - sim[:, n_areas]
        logits = sim / m.temperature + m.keyword_weight * np.log1p(kw_score)
        logits[:, n_areas] += m.none_bias - m.relevance_weight * relevance / m.temperature
        if self._zero_shot is not None:
            logits += m.zero_shot_weight * self._zero_shot.logits(list(texts))
        prob = softmax(logits)
        best = prob.argmax(axis=1)
        key_area = [self.area_ids[j] for j in best]
        key_score = prob[np.arange(n), best]
        confidence = ["high" if s >= m.high_confidence else "low" for s in key_score]

        jt_l = self._facet_logits(x, self.jt_vecs, self.jt_kw, toks)
        jt_s = sigmoid(jt_l - m.jt_threshold)
        fo_l = self._facet_logits(x, self.focus_vecs, self.focus_kw, toks)
        fo_s = sigmoid(fo_l - m.focus_threshold)
        jt_ids = [a.id for a in self.jt]
        fo_ids = [a.id for a in self.foci]
        jt_dims: list[list[str]] = []
        focus: list[str | None] = []
        for i in range(n):
            if key_area[i] == NONE_ID:
                # The scheme labels JT dimensions and focus only for units with a key area.
                jt_dims.append([])
                focus.append(None)
                continue
            jt_dims.append([d for d, s in zip(jt_ids, jt_s[i], strict=True) if s >= 0.5])
            j = int(fo_s[i].argmax()) if fo_ids else -1
            focus.append(fo_ids[j] if j >= 0 and fo_s[i, j] >= 0.5 else None)
        if self.learned is not None:
            xn = neighbour_x
            if xn is None and neighbours is not None and self.learned.key.use_neighbours:
                from pipeline.mapping.context import neighbour_vectors

                xn = neighbour_vectors(x, neighbours)
            return self._learned_scores(x, toks, sim, kw_score, matched, relevance, contexts,
                                        xn)
        return UnitScores(self.area_ids, prob, sim, kw_score, matched, relevance, key_area,
                          key_score, confidence, jt_ids, jt_s, jt_dims, fo_ids, fo_s, focus)

    def _learned_scores(self, x: np.ndarray, toks: list[list[str]], sim: np.ndarray,
                        kw_score: np.ndarray, matched: list[list[list[str]]],
                        relevance: np.ndarray, contexts: Sequence[str] | None,
                        xn: np.ndarray | None = None) -> UnitScores:
        """The learned model's decisions; similarity and keyword columns stay as evidence."""
        from pipeline.mapping.bundle import Bundle

        n, n_areas = len(toks), len(self.areas)
        ctx = [str(c or "") for c in (contexts or [""] * n)]
        xc = np.zeros(x.shape, dtype=np.float64)
        # Titles are embedded only when the shipped model uses them (off by default).
        titled = [i for i, c in enumerate(ctx) if c] if self.learned.key.use_context else []
        if titled:
            uniq = sorted({ctx[i] for i in titled})
            vec = dict(zip(uniq, embed_unit_texts(uniq, self.cfg, "query"), strict=True))
            for i in titled:
                xc[i] = vec[ctx[i]]

        def km(index: KeywordIndex) -> np.ndarray:
            return np.stack([index.match(t)[0] for t in toks]).astype(np.float64)

        b = Bundle([], np.asarray(x, dtype=np.float64), kw_score[:, :n_areas].astype(float),
                      km(self.focus_kw), km(self.jt_kw), xc,
                      None if xn is None else np.asarray(xn, dtype=np.float64))
        # The units scored together are the round's analysed units: the round's own NONE
        # prior is estimated from them (label shift; docs/mapping.md).
        pred = self.learned.predict(b, self.m.prior_adaptation,
                                    self.m.prior_adaptation_min_units)
        order = [self.learned.classes.index(a) for a in self.area_ids]
        prob = pred["P"][:, order].astype(np.float32)
        key = list(pred["key"])
        idx = [self.area_ids.index(k) for k in key]
        key_score = prob[np.arange(n), idx]
        confidence = ["high" if s >= self.m.high_confidence else "low" for s in key_score]
        F = pred["F"]
        fcls = self.learned.focus_classes
        fo_ids = [a.id for a in self.foci]
        fo_s = F[:, [fcls.index(f) for f in fo_ids]].astype(np.float32)
        focus_prob = np.array([F[i, fcls.index(f or "")] for i, f in enumerate(pred["focus"])])
        return UnitScores(self.area_ids, prob, sim, kw_score, matched, relevance, key,
                          key_score, confidence, [a.id for a in self.jt],
                          pred["J"].astype(np.float32), pred["jt"], fo_ids, fo_s,
                          pred["focus"], "learned", focus_prob, pred["prior"].as_dict())


_MAPPERS: dict[tuple[str, str], Mapper] = {}


_MAPPERS_KEPT = 4


def get_mapper(cfg: Config, framework: Framework | None = None) -> Mapper:
    """One Mapper (framework embedded once) per distinct config and framework in this
    process; `framework` is the run's parsed framework (else the configured file is read)."""
    fw = framework or load_framework(resolve_path(cfg.mapping.framework))
    key = (cfg.model_dump_json(), f"{fw.path}:{fw.digest}")
    if key not in _MAPPERS:
        while len(_MAPPERS) >= _MAPPERS_KEPT:
            _MAPPERS.pop(next(iter(_MAPPERS)))
        _MAPPERS[key] = Mapper(cfg, fw)
    return _MAPPERS[key]
