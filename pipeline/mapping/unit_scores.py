"""The mapping of units: the long table `unit_areas` (one row per unit and area) and its
one-row-per-unit view. Columns: docs/mapping.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.mapping.context import neighbour_pairs
from pipeline.mapping.examples import meeting_title
from pipeline.mapping.mapper import Mapper, UnitScores, get_mapper
from pipeline.mapping.vectors import unit_length
from pipeline.units import analysed_units


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
    out = []
    for _, row in units.iterrows():
        t = row.get("session_title") if "session_title" in units.columns else None
        if not isinstance(t, str) or not t.strip():
            f = row.get("file") if "file" in units.columns else None
            t = meeting_title(str(f)) if isinstance(f, str) and f else ""
        out.append(str(t).strip())
    return out


def score_units(units: pd.DataFrame, cfg: Config, mapper: Mapper | None = None,
                vectors: np.ndarray | None = None,
                neighbour_x: np.ndarray | None = None) -> pd.DataFrame:
    """Score analysed units against every key area (NONE included), in long format.

    One row per (unit, area): unit_id, area_id, score (the probability of that area, rows of
    a unit sum to 1), similarity, keyword_score, keywords (the area's keywords found), then
    the unit's own decision repeated on each of its rows: key_area, key_area_score,
    confidence ("high"/"low"), jt_dimensions, focus, relevance (net-zero relevance).
    `unit_table()` reduces it to one row per unit.

    `vectors`: the embed stage's query vectors, one row per analysed unit (`embeddings`);
    without them the units are embedded here (same engine, model, kind and cache).
    Each unit's conversational context (a learned model built with it) is its neighbouring
    analysed units of the same session (context.neighbour_pairs); `neighbour_x` gives the
    context vectors instead (the evaluation, whose labelled units are not adjacent).
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
    uses = mapper.learned is not None and mapper.learned.key.use_neighbours
    res = mapper.score(texts, toks, x=x, contexts=unit_contexts(units),
                       neighbours=neighbour_pairs(units) if uses else None,
                       neighbour_x=neighbour_x)
    n, k = len(texts), len(res.area_ids)
    rep = np.repeat(np.arange(n), k)
    rel_words = mapper.fw.relevance.keywords if mapper.fw.relevance else ()
    rel_found = [[w for w in rel_words if w in t] for t in texts]
    focus_prob, focus_words = _focus_evidence(res, toks, mapper)
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


def _focus_evidence(res: UnitScores, toks: list[list[str]], mapper: Mapper
                    ) -> tuple[np.ndarray, list[list[str]]]:
    """Each unit's focus evidence: the probability of its focus decision and the focus
    keywords it contains."""
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
    return focus_prob, focus_words
