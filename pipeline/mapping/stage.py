"""Map analysis units and themes onto the strategy framework (configs/strategy_areas.yaml).

Per unit, every key area gets a score from two kinds of evidence:

    logit(area) = sim(unit, area) / T  +  keyword_weight · log(1 + keyword evidence)
    logit(NONE) = sim(unit, NONE) / T  +  none_bias
                  − relevance_weight · (sim(unit, net-zero anchor) − sim(unit, NONE)) / T

`similarity` is the cosine between the unit (embedded as a query) and the area's description and
example sentences (embedded once as passages): a mix of the similarity to their centroid and to
the closest one. Keyword evidence is the weighted count of the area's keywords among the unit's
segmented words. A softmax over the logits gives each unit a probability per area, NONE
included, so "no strategy area" is an answer with a probability like any other; the NONE entry
of the framework (procedure, greetings, other policy topics) and the net-zero relevance anchor
are what make it calibrated rather than a bare threshold. JT dimensions and the consultation
focus use the same two kinds of evidence with a threshold each, and only for units that have
a key area (the labelling scheme gives NONE units neither).

Themes aggregate their units' probabilities (weighted by theme membership): the distribution
over areas is reported, the argmax becomes the key area and its share the confidence; a second
area with a substantial share marks a split. A theme whose units are mostly about net-zero
but fit no area is a gap (a strategy-revision candidate). Analysts rename, review and pin
themes with a curation file (pipeline/curation.py), matched by keywords (never by theme number,
which changes between runs).

See docs/mapping.md for the method, the evaluation and the file formats.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Config, ConfigError, resolve_path
from pipeline.curation import (
    Curation,
    apply_theme_curation,
    curation_paths,
    load_curation,
)
from pipeline.fingerprint import keyword_similarity, theme_fingerprint
from pipeline.jsonio import plain, to_json
from pipeline.mapping.framework import NONE_ID, Area, Framework, load_framework
from pipeline.mapping.model import sigmoid, softmax
from pipeline.units import analysed_units

UNIT_COLUMNS = ["key_area", "key_area_score", "confidence", "jt_dimensions", "focus",
                "focus_score", "focus_keywords", "relevance", "relevance_keywords", "method"]


class MappingError(ConfigError):
    """A mapping problem phrased for the analyst (bad curation file, missing local model)."""


# --- embeddings ---------------------------------------------------------------------------


def embed_unit_texts(texts: list[str], cfg: Config, kind: str) -> np.ndarray:
    """The pipeline's embedding engine (same model and cache as the themes stage)."""
    from pipeline.embed import embed_texts

    if not texts:
        return np.zeros((0, 1), dtype=np.float32)
    emb, _ = embed_texts(texts, cfg.embed, cfg.segment, kind=kind)
    return unit_length(emb)


def unit_length(emb: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32); a zero row stays zero."""
    emb = np.asarray(emb, dtype=np.float32)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.where(norms == 0, 1, norms)


@dataclass(frozen=True)
class _EntryVectors:
    """Embedded passages of a list of framework entries (description first, then examples)."""

    ids: list[str]
    centroids: np.ndarray  # (n_entries, dim), L2-normalised mean of each entry's passages
    passages: np.ndarray  # (n_passages, dim)
    owner: np.ndarray  # (n_passages,) entry index of each passage

    def similarity(self, x: np.ndarray, max_weight: float) -> np.ndarray:
        """(n_units, n_entries): centroid similarity mixed with closest-passage similarity."""
        cen = x @ self.centroids.T
        if max_weight <= 0:
            return cen
        per = x @ self.passages.T
        best = np.full((x.shape[0], len(self.ids)), -1.0, dtype=np.float32)
        for j in range(len(self.ids)):
            best[:, j] = per[:, self.owner == j].max(axis=1)
        return (1 - max_weight) * cen + max_weight * best


def _entry_vectors(passages: list[list[str]], ids: list[str], cfg: Config,
                   vecs: np.ndarray | None = None) -> _EntryVectors:
    flat = [p for ps in passages for p in ps]
    owner = np.array([j for j, ps in enumerate(passages) for _ in ps], dtype=int)
    if vecs is None:
        vecs = embed_unit_texts(flat, cfg, "passage")
    cents = np.stack([vecs[owner == j].mean(axis=0) for j in range(len(ids))])
    norms = np.linalg.norm(cents, axis=1, keepdims=True)
    cents = cents / np.where(norms == 0, 1, norms)
    return _EntryVectors(ids, cents.astype(np.float32), vecs, owner)


# Backends whose vectors depend on the whole batch (TF-IDF fitted per call): the framework
# passages and the units must then be embedded in ONE call to share a space.
CORPUS_FITTED_BACKENDS = {"tfidf"}


# --- keywords -----------------------------------------------------------------------------


class KeywordIndex:
    """Weighted keywords of a list of entries, matched on segmented words.

    A keyword matches a word that contains it (光電 in 太陽光電, since the domain dictionary
    keeps compounds whole) or, when the segmenter splits the keyword itself into several
    words (免洗 餐具), that run of words. Each keyword counts at most `cap` times per unit.
    """

    def __init__(self, entries: Sequence[Area], tokens_of: Any, cap: int):
        self.n = len(entries)
        self.cap = cap
        self.words: list[tuple[int, str, float, tuple[str, ...]]] = []
        for j, a in enumerate(entries):
            for k in a.keywords:
                word = k.word.lower()
                seq = tuple(tokens_of(k.word)) or (word,)
                self.words.append((j, word, k.weight, seq if len(seq) > 1 else ()))
        self._contained: dict[str, list[int]] = {}
        self._first: dict[str, list[int]] = {}
        for i, (_, _, _, seq) in enumerate(self.words):
            if seq:
                self._first.setdefault(seq[0], []).append(i)

    def _in_token(self, tok: str) -> list[int]:
        hit = self._contained.get(tok)
        if hit is None:
            hit = [i for i, (_, w, _, _) in enumerate(self.words) if w in tok]
            self._contained[tok] = hit
        return hit

    def match(self, tokens: Sequence[str]) -> tuple[np.ndarray, list[list[str]]]:
        counts: Counter[int] = Counter()
        for p, tok in enumerate(tokens):
            counts.update(self._in_token(tok))
            for i in self._first.get(tok, ()):
                seq = self.words[i][3]
                if tuple(tokens[p : p + len(seq)]) == seq:
                    counts[i] += 1
        score = np.zeros(self.n, dtype=np.float32)
        matched: list[list[str]] = [[] for _ in range(self.n)]
        for i, c in counts.items():
            j, word, weight, _ = self.words[i]
            score[j] += weight * min(c, self.cap)
            matched[j].append(word)
        return score, matched


# --- the unit scorer ----------------------------------------------------------------------


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
        self._zero_shot = _ZeroShot(self) if self.m.zero_shot_model else None
        self.learned: Any = None
        self.learned_note = ""
        if self.m.method == "learned":
            self._load_learned()

    def _load_learned(self) -> None:
        """The shipped prototype model (pipeline/mapping/model.py), or the rules with a note
        saying why not (another embedding backend, a framework with other areas, no file)."""
        from pipeline.mapping import model as mm

        path = resolve_path(self.m.model)
        if self.cfg.embed.backend not in mm.E5_BACKENDS:
            self.learned_note = (f"mapping.method=learned needs an e5 backend, not "
                                 f"{self.cfg.embed.backend!r}: the rules were used")
            return
        if not path.is_file() or not path.with_suffix(".json").is_file():
            raise MappingError(f"mapping.model {self.m.model!r}: no such file (or its .json). "
                               "Rebuild it with `python bench/build_mapping_model.py`, or use "
                               "--set mapping.method=rules")
        model, meta = mm.load_artefact(path, mm.framework_bundle(self))
        if list(meta.get("key_classes") or []) != self.area_ids or (
                model.jt_ids != [d.id for d in self.jt]) or (
                model.focus_classes[1:] != [f.id for f in self.foci]):
            self.learned_note = ("the learned model was built for other framework ids than "
                                 f"{self.fw.path or 'this framework'}: the rules were used "
                                 "(rebuild with bench/build_mapping_model.py)")
            return
        self.learned = model
        self.learned_meta = meta

    def _embed_groups(self, flat_vecs: np.ndarray | None) -> dict[str, _EntryVectors]:
        """Entry vectors per group, from one embedding call (or from given vectors)."""
        flat = [p for _, _, ps in self._groups for pl in ps for p in pl]
        if flat_vecs is None:
            flat_vecs = embed_unit_texts(flat, self.cfg, "passage")
        out: dict[str, _EntryVectors] = {}
        start = 0
        for name, ids, ps in self._groups:
            n = sum(len(pl) for pl in ps)
            if ids and ps:
                out[name] = _entry_vectors(ps, ids, self.cfg, flat_vecs[start : start + n])
            start += n
        return out

    def _set_vectors(self, vecs: dict[str, _EntryVectors]) -> None:
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

    def _kw_tokens(self, word: str) -> list[str]:
        return self.seg.tokens(word)

    def tokens(self, text: str) -> list[str]:
        return self.seg.tokens(text)

    def _facet_logits(self, x: np.ndarray, vecs: _EntryVectors | None, kw: KeywordIndex,
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
              x: np.ndarray | None = None, contexts: Sequence[str] | None = None
              ) -> UnitScores:
        """Scores of texts; `contexts` are their meetings' titles (used by the learned
        model as evidence of its own, never alone)."""
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
            return self._learned_scores(x, toks, sim, kw_score, matched, relevance, contexts)
        return UnitScores(self.area_ids, prob, sim, kw_score, matched, relevance, key_area,
                          key_score, confidence, jt_ids, jt_s, jt_dims, fo_ids, fo_s, focus)

    def _learned_scores(self, x: np.ndarray, toks: list[list[str]], sim: np.ndarray,
                        kw_score: np.ndarray, matched: list[list[list[str]]],
                        relevance: np.ndarray, contexts: Sequence[str] | None) -> UnitScores:
        """The learned model's decisions; similarity and keyword columns stay as evidence."""
        from pipeline.mapping import model as mm

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

        b = mm.Bundle([], np.asarray(x, dtype=np.float64), kw_score[:, :n_areas].astype(float),
                      km(self.focus_kw), km(self.jt_kw), xc)
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


def _local_model_ref(name: str) -> str:
    """A folder on disk, or a hub id already in the local Hugging Face cache; else an error.

    Checked before importing the (slow to import) model libraries, so a typo fails fast.
    """
    local = resolve_path(name)
    if local.is_dir():
        return str(local)
    from huggingface_hub.constants import HF_HUB_CACHE

    if "/" in name and not name.startswith(("/", ".", "~")):
        if (Path(HF_HUB_CACHE) / f"models--{name.replace('/', '--')}").is_dir():
            return name
    raise MappingError(
        f"mapping.zero_shot_model {name!r}: no such model folder, and not in the local Hugging "
        f"Face cache ({HF_HUB_CACHE}); nothing is downloaded at run time. Give the path of a "
        "local sentence-transformers (zero_shot_kind: embedding) or NLI model (nli)."
    )


class _ZeroShot:
    """Optional extra evidence from a LOCAL model the user names (off by default).

    `embedding`: a sentence-transformers model; its similarity to each area's passages is
    added like the main embedding's. `nli`: a transformers NLI model through the zero-shot
    pipeline, with one hypothesis per area name. Nothing is downloaded: a model that is not
    a local folder or already in the local Hugging Face cache is an error.
    """

    def __init__(self, mapper: Mapper):
        self.mapper = mapper
        m = mapper.m
        self.kind = m.zero_shot_kind
        name = str(m.zero_shot_model)
        target = _local_model_ref(name)
        try:
            if self.kind == "embedding":
                from sentence_transformers import SentenceTransformer

                self.model = SentenceTransformer(target, device="cpu", local_files_only=True)
                entries = [*mapper.areas, *([mapper.none] if mapper.none else [])]
                self.vecs = self._passage_vectors([a.passages() for a in entries])
            else:
                from transformers import pipeline

                self.model = pipeline("zero-shot-classification", model=target, device=-1,
                                      model_kwargs={"local_files_only": True})
        except Exception as e:  # any loader failure means the same thing to the analyst
            raise MappingError(
                f"mapping.zero_shot_model {name!r}: cannot load it as a local "
                f"{'sentence-transformers' if self.kind == 'embedding' else 'transformers NLI'}"
                f" model ({type(e).__name__}: {e}). Give a folder on disk or a model already in "
                "the local Hugging Face cache; nothing is downloaded at run time."
            ) from e

    def _encode(self, texts: list[str]) -> np.ndarray:
        v = np.asarray(self.model.encode(texts, normalize_embeddings=True), dtype=np.float32)
        return v.reshape(len(texts), -1)

    def _passage_vectors(self, passages: list[list[str]]) -> np.ndarray:
        cents = []
        for ps in passages:
            c = self._encode(ps).mean(axis=0)
            cents.append(c / np.linalg.norm(c))
        return np.stack(cents)

    def logits(self, texts: list[str]) -> np.ndarray:
        mp = self.mapper
        n_areas = len(mp.areas)
        out = np.zeros((len(texts), n_areas + 1), dtype=np.float32)
        if not texts:
            return out
        if self.kind == "embedding":
            sim = self._encode(texts) @ self.vecs.T
            sim = sim - sim.mean(axis=1, keepdims=True)
            out[:, : sim.shape[1]] = sim / mp.m.temperature
            return out
        names = [a.name or a.id for a in mp.areas]
        none_name = mp.none.name if mp.none and mp.none.name else "其他議題"
        labels = [*names, none_name]
        res = self.model(texts, candidate_labels=labels,
                         hypothesis_template=mp.m.zero_shot_hypothesis, multi_label=False)
        for i, r in enumerate(res if isinstance(res, list) else [res]):
            p = dict(zip(r["labels"], r["scores"], strict=True))
            out[i] = np.log(np.array([p[label] for label in labels]) + 1e-6)
        return out


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


# --- units --------------------------------------------------------------------------------


def _token_lists(units: pd.DataFrame, mapper: Mapper) -> list[list[str]]:
    """The units' own tokens when ingest wrote them, else segmented here."""
    if "tokens" not in units.columns:
        return [mapper.tokens(str(t)) for t in units["text"]]
    out = []
    for text, tok in zip(units["text"], units["tokens"], strict=True):
        if isinstance(tok, str):
            tok = tok.split()
        # Parquet gives numpy arrays; a missing value (None/NaN) means "not segmented".
        words = [str(w) for w in tok] if isinstance(tok, list | tuple | np.ndarray) else []
        out.append(words if words or not str(text).strip() else mapper.tokens(str(text)))
    return out


def unit_contexts(units: pd.DataFrame) -> list[str]:
    """Each unit's meeting title: `session_title` when ingest found one, else the session's
    file name without date/id prefix (transcript files are named after their meeting)."""
    from pipeline.mapping.model import meeting_title

    out = []
    for _, row in units.iterrows():
        t = row.get("session_title") if "session_title" in units.columns else None
        if not isinstance(t, str) or not t.strip():
            f = row.get("file") if "file" in units.columns else None
            t = meeting_title(str(f)) if isinstance(f, str) and f else ""
        out.append(str(t).strip())
    return out


def score_units(units: pd.DataFrame, cfg: Config, mapper: Mapper | None = None,
                vectors: np.ndarray | None = None) -> pd.DataFrame:
    """Score analysed units against every key area (NONE included), in long format.

    One row per (unit, area): unit_id, area_id, score (the probability of that area, rows of
    a unit sum to 1), similarity, keyword_score, keywords (the area's keywords found), then
    the unit's own decision repeated on each of its rows: key_area, key_area_score,
    confidence ("high"/"low"), jt_dimensions, focus, relevance (net-zero relevance).
    `unit_table()` reduces it to one row per unit.

    `vectors`: the embed stage's query vectors, one row per analysed unit (`embeddings`);
    without them the units are embedded here (same engine, model, kind and cache).
    """
    mapper = mapper or get_mapper(cfg)
    units = analysed_units(units)
    texts = [str(t) for t in units["text"]]
    toks = _token_lists(units, mapper)
    x = None
    if vectors is not None and not mapper.joint:
        # A corpus-fitted backend (tfidf) must embed the framework and the units together,
        # so its stage vectors live in another space: those units are embedded again.
        if len(vectors) != len(units):
            raise ValueError(f"{len(vectors)} vectors for {len(units)} analysed units")
        x = unit_length(vectors)
    res = mapper.score(texts, toks, x=x, contexts=unit_contexts(units))
    n, k = len(texts), len(res.area_ids)
    rep = np.repeat(np.arange(n), k)
    rel_words = mapper.fw.relevance.keywords if mapper.fw.relevance else ()
    rel_found = [[w for w in rel_words if w in t] for t in texts]
    # Focus evidence: its probability and the focus keywords the unit contains.
    if res.focus_prob is not None:
        focus_prob = res.focus_prob
    else:
        focus_prob = np.array([float(res.focus_score[i, res.focus_ids.index(f)])
                               if f in res.focus_ids else 0.0
                               for i, f in enumerate(res.focus)])
    focus_words: list[list[str]] = []
    for i, f in enumerate(res.focus):
        if f in res.focus_ids:
            focus_words.append(mapper.focus_kw.match(toks[i])[1][res.focus_ids.index(f)])
        else:
            focus_words.append([])
    out = pd.DataFrame({
        "unit_id": units["unit_id"].astype(str).to_numpy()[rep],
        "area_id": res.area_ids * n,
        "score": res.probability.reshape(-1).round(4),
        "similarity": res.similarity.reshape(-1).round(4),
        "keyword_score": res.keyword_score.reshape(-1).round(3),
        "keywords": [res.keywords[i][j] for i in range(n) for j in range(k)],
        "key_area": np.asarray(res.key_area, dtype=object)[rep],
        "key_area_score": np.round(res.key_area_score, 4)[rep],
        "confidence": np.asarray(res.confidence, dtype=object)[rep],
        "jt_dimensions": [res.jt_dimensions[i] for i in rep],
        "focus": [res.focus[i] for i in rep],
        "focus_score": np.round(focus_prob, 4)[rep],
        "focus_keywords": [focus_words[i] for i in rep],
        "relevance": np.round(res.relevance, 4)[rep],
        "relevance_keywords": [rel_found[i] for i in rep],
        "method": [res.method] * (n * k),
    })
    # The round's estimated NONE prior is one number per run: kept as a table attribute (read
    # it with `round_prior(unit_areas)`), not repeated on every row.
    out.attrs["prior_adaptation"] = res.prior_adaptation
    return out


def round_prior(unit_areas: pd.DataFrame) -> dict[str, Any] | None:
    """What the round-level prior adaptation did in `score_units` (None for the rules)."""
    return unit_areas.attrs.get("prior_adaptation")


def unit_table(unit_areas: pd.DataFrame) -> pd.DataFrame:
    """One row per unit (its decision) from the long table of `score_units`."""
    cols = ["unit_id", *[c for c in UNIT_COLUMNS if c in unit_areas.columns]]
    return unit_areas.drop_duplicates("unit_id")[cols].reset_index(drop=True)


def _prob_matrix(unit_areas: pd.DataFrame, area_ids: list[str]) -> pd.DataFrame:
    wide = unit_areas.pivot_table(index="unit_id", columns="area_id", values="score",
                                  aggfunc="first")
    return wide.reindex(columns=area_ids).fillna(0.0)


# --- themes -------------------------------------------------------------------------------


def _theme_members(unit_themes: pd.DataFrame, known: pd.Index) -> dict[str, pd.Series]:
    """Theme id (as text) -> its scored units, with their membership probability."""
    ut = unit_themes[unit_themes["unit_id"].astype(str).isin(known)].copy()
    ut["unit_id"] = ut["unit_id"].astype(str)
    if "probability" in ut.columns:
        ut["p"] = pd.to_numeric(ut["probability"], errors="coerce").fillna(1.0).clip(0, 1)
    else:
        ut["p"] = 1.0
    return {str(tid): g.groupby("unit_id")["p"].max() for tid, g in ut.groupby("theme_id")}


def _share_dict(values: pd.Series, ids: list[str], min_share: float = 0.0) -> dict[str, float]:
    return {a: round(float(values[a]), 3) for a in ids if float(values[a]) > min_share}


def map_themes(
    themes: list[dict[str, Any]],
    unit_themes: pd.DataFrame,
    unit_areas: pd.DataFrame,
    cfg: Config,
    curation_paths: Sequence[Path] = (),
    framework: Framework | None = None,
    curation: Curation | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Themes enriched with their mapping, and a report of what curation matched.

    Added to each theme: key_area (its strongest area if that holds ≥ `theme_min_share` of
    the theme, else "NONE"), key_area_name, key_area_confidence (the key area's share of the
    theme's area-bearing mass), area_distribution {area: share} (NONE included), area_units
    {area: units whose own key area it is}, split_areas (other areas with ≥ `split_share`),
    jt_dimensions, jt_distribution, consultation_focus, focus_distribution, evidence (unit
    ids, strongest first), net_zero_share, gap, gap_reason, then the analyst's `themes:`
    curation entries (pipeline/curation.py): curated (bool), curation (the entries applied,
    with what was computed before them), label_curated and label_computed (a rename),
    reviewed. `curation` (already loaded, as the runner does) takes precedence over
    `curation_paths`.
    """
    m = cfg.mapping
    fw = framework or load_framework(resolve_path(m.framework))
    area_ids = [a.id for a in fw.key_areas] + [NONE_ID]
    units = unit_table(unit_areas).set_index("unit_id")
    probs = _prob_matrix(unit_areas, area_ids)
    members = _theme_members(unit_themes, units.index)
    jt_ids = [a.id for a in fw.jt_dimensions]
    focus_ids = [a.id for a in fw.focuses]

    out: list[dict[str, Any]] = []
    for theme in themes:
        t = dict(theme)
        w = members.get(str(t.get("id")), pd.Series(dtype=float))
        out.append(_map_one(t, w, units, probs, area_ids, jt_ids, focus_ids, fw, cfg))

    cur = curation if curation is not None else load_curation(list(curation_paths), fw)
    report = {"files": list(cur.files),
              **apply_theme_curation(out, cur, fw, m.curation_min_similarity)}
    return out, report


def _map_one(t: dict[str, Any], w: pd.Series, units: pd.DataFrame, probs: pd.DataFrame,
             area_ids: list[str], jt_ids: list[str], focus_ids: list[str], fw: Framework,
             cfg: Config) -> dict[str, Any]:
    m = cfg.mapping
    outlier = str(t.get("id")) == "-1"
    if w.empty:
        t.update(key_area=NONE_ID, key_area_name=fw.name_of(NONE_ID), key_area_confidence=None,
                 area_distribution={}, area_units={}, split_areas=[], jt_dimensions=[],
                 jt_distribution={}, consultation_focus=None, focus_distribution={},
                 evidence=[], net_zero_share=None, gap=False, gap_reason=None, curated=False,
                 curation=None)
        return t
    ids = list(w.index)
    # Every unit of a theme counts once (the distribution is the mean of its units' area
    # probabilities, so it reads as "share of the theme's units"); membership probability
    # only ranks the evidence. Units placed by outlier reduction have probability 0.
    p = probs.loc[ids]
    mass = p.mean()
    # The key area is the theme's strongest AREA when it holds a real share of the theme:
    # procedural fragments (NONE) in a theme about S12 should not hide S12. Only when no area
    # reaches `theme_min_share` is the theme NONE.
    areas_only = mass.drop(NONE_ID)
    top_area = str(areas_only.idxmax())
    key = top_area if areas_only[top_area] >= m.theme_min_share else NONE_ID
    # Confidence: the key area's share of what in the theme is about some area (or, for
    # NONE, the share of the theme that is about no area).
    area_mass = float(areas_only.sum())
    confidence = (float(mass[key]) / area_mass if key != NONE_ID and area_mass > 0
                  else float(mass[NONE_ID]))
    u = units.loc[ids]
    hard = Counter(u["key_area"])
    placed = u["key_area"] != NONE_ID
    split = [a for a in area_ids if a not in (key, NONE_ID) and mass[a] >= m.split_share]

    # Facets: shares among the theme's units that have a key area (the others carry none).
    jt_dist: dict[str, float] = {}
    focus_dist: dict[str, float] = {}
    if placed.any():
        sub = u[placed.to_numpy()]
        for d in jt_ids:
            has = sub["jt_dimensions"].map(lambda x, d=d: d in list(x))
            jt_dist[d] = round(float(has.mean()), 3)
        for f in focus_ids:
            focus_dist[f] = round(float((sub["focus"] == f).mean()), 3)
    jt = [d for d in jt_ids if jt_dist.get(d, 0) >= m.theme_jt_share] if key != NONE_ID else []
    focus = None
    if key != NONE_ID and focus_dist:
        best_f = max(focus_dist, key=lambda f: focus_dist[f])
        focus = best_f if focus_dist[best_f] >= m.theme_focus_share else None

    # Evidence: units most strongly in the key area, typical members of the theme first.
    strength = p[key] * (0.5 + 0.5 * w)
    evidence = [str(x) for x in strength.sort_values(ascending=False).index[: m.evidence_units]]

    # Gap: a theme about net-zero / the transition (relevance anchor, or the framework's
    # relevance keywords) that no area takes: either the theme as a whole has no key area,
    # or most of its units fit none with conviction.
    relevant = u["relevance"].to_numpy() >= m.relevance_threshold
    if "relevance_keywords" in u.columns:
        relevant |= u["relevance_keywords"].map(lambda x: len(x) > 0).to_numpy(dtype=bool)
    best_area = p[[a for a in area_ids if a != NONE_ID]].max(axis=1).to_numpy()
    unplaced = relevant & ((u["key_area"] == NONE_ID).to_numpy() | (best_area < m.gap_max_fit))
    nz_share = float(relevant.mean())
    unplaced_share = float(unplaced.mean())
    size = int(t.get("size") or len(ids))
    gap = (not outlier and size >= m.gap_min_size and nz_share >= m.gap_min_share
           and (key == NONE_ID or unplaced_share >= m.gap_min_share))
    reason = None
    if gap:
        nearest = max((a for a in area_ids if a != NONE_ID), key=lambda a: mass[a])
        words = "、".join(theme_fingerprint(t)[:6])
        why = ("as a theme they fit no strategy area (no area holds it)" if key == NONE_ID else
               f"{int(unplaced.sum())} of them fit no strategy area (best area probability "
               f"< {m.gap_max_fit})")
        reason = (
            f"{int(relevant.sum())} of {len(ids)} units are about net-zero or the transition "
            f"but {why}; nearest area {nearest} {fw.name_of(nearest)} takes only "
            f"{mass[nearest]:.0%} of the theme" + (f"; keywords: {words}" if words else "")
        )
    t.update(
        key_area=key,
        key_area_name=fw.name_of(key),
        key_area_confidence=round(confidence, 3),
        area_distribution=_share_dict(mass, area_ids, 0.005),
        area_units={a: int(hard[a]) for a in area_ids if hard.get(a)},
        split_areas=split,
        jt_dimensions=jt,
        jt_distribution=jt_dist,
        consultation_focus=focus,
        focus_distribution=focus_dist,
        evidence=evidence,
        net_zero_share=round(nz_share, 3),
        gap=bool(gap),
        gap_reason=reason,
        curated=False,
        curation=None,
    )
    return t


# --- summaries ----------------------------------------------------------------------------


def strategy_matrix(themes: list[dict[str, Any]], unit_themes: pd.DataFrame,
                    unit_areas: pd.DataFrame, cfg: Config,
                    framework: Framework | None = None) -> pd.DataFrame:
    """Areas (rows, framework order, NONE last) × themes (columns): units by their own area."""
    fw = framework or load_framework(resolve_path(cfg.mapping.framework))
    area_ids = [a.id for a in fw.key_areas] + [NONE_ID]
    key = unit_table(unit_areas).set_index("unit_id")["key_area"]
    ut = unit_themes.copy()
    ut["unit_id"] = ut["unit_id"].astype(str)
    if "probability" in ut.columns and ut["unit_id"].duplicated().any():
        ut = ut.sort_values("probability", ascending=False, kind="stable")
    ut = ut.drop_duplicates("unit_id")
    ut = ut[ut["unit_id"].isin(key.index)]
    ut["area_id"] = ut["unit_id"].map(key)
    cols = [t.get("id") for t in themes] or sorted(ut["theme_id"].unique())
    table = pd.crosstab(ut["area_id"], ut["theme_id"])
    table = table.reindex(index=area_ids, columns=cols, fill_value=0).fillna(0).astype(int)
    table.index.name = "area_id"
    table.columns.name = None
    return table


def area_summary(themes: list[dict[str, Any]], unit_themes: pd.DataFrame,
                 unit_areas: pd.DataFrame, units: pd.DataFrame, cfg: Config,
                 framework: Framework | None = None, n_quotes: int = 3) -> list[dict[str, Any]]:
    """Per key area (framework order, NONE last): its units, share of the analysed feedback,
    themes, sessions and session types, top quotes, and the gap themes nearest to it."""
    m = cfg.mapping
    fw = framework or load_framework(resolve_path(m.framework))
    per_unit = unit_table(unit_areas).set_index("unit_id")
    score = unit_areas.set_index(["unit_id", "area_id"])["score"]
    meta = units.copy()
    meta["unit_id"] = meta["unit_id"].astype(str)
    meta = meta.drop_duplicates("unit_id").set_index("unit_id")
    n_total = len(per_unit)
    mapped = [t for t in themes if "key_area" in t]
    out = []
    for area in [*fw.key_areas, None]:
        aid = area.id if area else NONE_ID
        ids = per_unit.index[per_unit["key_area"] == aid]
        sub = meta.reindex(ids)
        theme_shares = {
            str(t.get("id")): float((t.get("area_distribution") or {}).get(aid, 0.0))
            for t in mapped
        }
        in_themes = [t.get("id") for t in mapped if t.get("key_area") == aid
                     or aid in (t.get("split_areas") or [])]
        quotes = []
        if len(ids):
            top = score.loc[[(u, aid) for u in ids]].sort_values(ascending=False)
            for (uid, _), s in top.head(n_quotes).items():
                row = meta.loc[uid] if uid in meta.index else pd.Series(dtype=object)
                quotes.append({
                    "unit_id": uid, "text": plain(row.get("text")), "score": round(float(s), 3),
                    "speaker": plain(row.get("speaker")),
                    "session_id": plain(row.get("session_id")), "file": plain(row.get("file")),
                    "line_start": plain(row.get("line_start")),
                    "line_end": plain(row.get("line_end")),
                })
        gaps = []
        if area is not None:
            for t in mapped:
                dist = {k: v for k, v in (t.get("area_distribution") or {}).items()
                        if k != NONE_ID}
                if t.get("gap") and dist and max(dist, key=lambda k: dist[k]) == aid:
                    gaps.append(t.get("id"))
        out.append({
            "id": aid,
            "facet": "key_area",
            "name": area.name if area else fw.name_of(NONE_ID),
            "description": area.description if area else (
                fw.none_area.description if fw.none_area else None),
            "n_units": len(ids),
            "share": round(len(ids) / n_total, 4) if n_total else 0.0,
            "themes": in_themes,
            "theme_shares": {k: round(v, 3) for k, v in theme_shares.items() if v >= 0.05},
            "sessions": _counts(sub, "session_id"),
            "session_types": _counts(sub, "session_type"),
            "jt_dimensions": dict(Counter(d for x in per_unit.loc[ids, "jt_dimensions"]
                                          for d in x)),
            "consultation_focus": dict(Counter(f for f in per_unit.loc[ids, "focus"]
                                               if isinstance(f, str) and f)),
            # Share of the area's units per focus ("" = no focus): the focus distribution.
            "focus_distribution": _focus_shares(per_unit.loc[ids, "focus"], fw),
            "quotes": quotes,
            "gaps": gaps,
        })
    return out


def _focus_shares(focus: pd.Series, fw: Framework) -> dict[str, float]:
    if not len(focus):
        return {}
    ids = [f.id for f in fw.focuses]
    vals = [f if isinstance(f, str) and f in ids else "" for f in focus]
    return {f: round(vals.count(f) / len(vals), 3) for f in [*ids, ""]}


def _counts(df: pd.DataFrame, col: str) -> dict[str, int]:
    if col not in df.columns:
        return {}
    c = Counter(str(v) for v in df[col] if plain(v) is not None)
    return dict(c.most_common())




__all__ = [
    "Mapper", "MappingError", "area_summary", "curation_paths", "get_mapper",
    "keyword_similarity", "load_curation", "map_themes", "score_units", "strategy_matrix",
    "theme_fingerprint", "to_json", "unit_table",
]
