"""A unit's conversational context for the learned mapper (`ModelParams.neighbours`, off by
default; docs/mapping.md, "Conversational context"): the previous and the next analysed unit of
the same session, as one vector (the unit-length mean of their query vectors).

A short reply such as 「對，這個很重要」 takes its topic from the turns around it. The context is
only taken between spoken units (both with a speaker): the rows of a comments table are not a
conversation. Run time (`score_units`) and the evaluation (`dev_neighbour_texts`, which ingests
the dev file's meetings with the pipeline's own ingest) use the same definition, so the feature
is the same in `consult eval mapping` and in `consult run`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Pair = tuple[int | None, int | None]


def _has_speaker(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def neighbour_pairs(units: pd.DataFrame) -> list[Pair]:
    """(previous, next) row of every row of `units` (analysed units in table order = turn
    order within a session): the nearest rows of the same session, None at a session's edge
    or when the unit or the neighbour has no speaker."""
    sess = units["session_id"].astype(str).tolist() if "session_id" in units else [""] * len(
        units)
    spk = [_has_speaker(s) for s in (units["speaker"] if "speaker" in units
                                     else [None] * len(units))]
    out: list[Pair] = []
    for i in range(len(units)):
        if not spk[i]:
            out.append((None, None))
            continue
        p = i - 1 if i > 0 and sess[i - 1] == sess[i] and spk[i - 1] else None
        n = i + 1 if i + 1 < len(units) and sess[i + 1] == sess[i] and spk[i + 1] else None
        out.append((p, n))
    return out


def neighbour_vectors(x: np.ndarray, pairs: Sequence[Pair]) -> np.ndarray:
    """Unit-length mean of each unit's neighbours' rows of `x`; a zero row without any."""
    out = np.zeros((len(pairs), x.shape[1]), dtype=np.float64)
    for i, pair in enumerate(pairs):
        rows = [j for j in pair if j is not None]
        if rows:
            v = np.asarray(x[rows], dtype=np.float64).sum(axis=0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-9)
    return out


def context_from_texts(embed: Any, texts: Sequence[tuple[str | None, str | None]]
                       ) -> np.ndarray:
    """Neighbour vectors from (previous, next) texts, embedded with `embed` (a function of a
    list of texts → unit-length query vectors)."""
    flat = sorted({t for pair in texts for t in pair if t})
    if not flat:
        return np.zeros((len(texts), 0))
    vec = dict(zip(flat, np.asarray(embed(flat), dtype=np.float64), strict=True))
    d = len(next(iter(vec.values())))
    out = np.zeros((len(texts), d))
    for i, pair in enumerate(texts):
        rows = [vec[t] for t in pair if t]
        if rows:
            v = np.sum(rows, axis=0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-9)
    return out


def _locate(row: dict[str, Any], g: pd.DataFrame, path: Path) -> int | None:
    """Row of `g` (one file's ingested units) that holds a labelled unit: by its `line_start`
    when the label file has it (units drawn from an ingest, whose text is already redacted:
    the closest text among the units starting on that line), else by finding its text in the
    file (dev units, unredacted) and taking the unit whose characters contain it."""
    text = str(row.get("text") or "")
    if row.get("line_start") is not None:
        from difflib import SequenceMatcher

        cand = np.flatnonzero(g["line_start"].to_numpy() == int(row["line_start"]))
        if not len(cand):
            return None
        return int(max(cand, key=lambda j: SequenceMatcher(None, str(g["text"][j]), text)
                       .ratio()))
    pos = path.read_text(encoding="utf-8").find(text[:20]) if text else -1
    if pos < 0:
        return None
    hit = np.flatnonzero((g["char_start"].to_numpy() <= pos) & (g["char_end"].to_numpy() > pos))
    return int(hit[0]) if len(hit) else None


def dev_neighbour_texts(rows: Sequence[dict[str, Any]], meetings: Path, cfg: Any
                        ) -> list[tuple[str | None, str | None]]:
    """(previous, next) analysed-unit texts of labelled units, as the pipeline would see them:
    the units' meeting files (`file` in `meetings`) are ingested as one round with `cfg`
    (roles, redaction, units, exclusions), each labelled unit is located in its file
    (`_locate`), and its neighbours are the nearest analysed units with a speaker before and after
    it in the same session. A unit whose file is not there (a petition's reasons) or whose
    text is not found has no context."""
    from pipeline.ingest.stage import ingest_round
    from pipeline.units import analysed_mask

    files = sorted({str(r.get("file") or "") for r in rows
                    if (Path(meetings) / str(r.get("file") or "")).is_file()
                    and str(r.get("file") or "").endswith(".md")})
    out: list[tuple[str | None, str | None]] = [(None, None)] * len(rows)
    if not files:
        return out
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            shutil.copyfile(Path(meetings) / f, Path(tmp) / f)
        units = ingest_round(Path(tmp), cfg).units
    units = units.assign(_analysed=analysed_mask(units).to_numpy())
    by_file = {f: g.reset_index(drop=True) for f, g in units.groupby("file", sort=False)}
    for k, r in enumerate(rows):
        f = str(r.get("file") or "")
        if f not in by_file:
            continue
        g = by_file[f]
        i = _locate(r, g, Path(meetings) / f)
        if i is None:
            continue
        if not _has_speaker(g["speaker"][i]):
            continue
        sess = g["session_id"][i]

        def near(step: int, i: int = i, g: pd.DataFrame = g, sess: Any = sess) -> str | None:
            j = i + step
            while 0 <= j < len(g) and g["session_id"][j] == sess:
                if g["_analysed"][j]:
                    return str(g["text"][j]) if _has_speaker(g["speaker"][j]) else None
                j += step
            return None

        out[k] = (near(-1), near(1))
    return out


def attach_context(mapper: Any, b: Any, texts: Sequence[tuple[str | None, str | None]]) -> Any:
    """Bundle `b` with the neighbour vectors of `texts` (one pair per example)."""
    xn = context_from_texts(mapper.embed_queries, texts)
    if not xn.size:
        xn = np.zeros_like(b.x)
    return type(b)(b.examples, b.x, b.kw_key, b.kw_focus, b.kw_jt, b.xc, xn)
