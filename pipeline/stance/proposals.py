"""The proposals list and the stance shares (`proposals.json`), from the stance of each unit,
its strategy area (mapping) and its theme.

Per strategy area: the units whose stance is "proposal" (probability at least
`stance.proposal_min_probability`; speakers of `stance.proposal_exclude_roles` left out),
near-duplicates merged across and within sessions, ranked by how many sessions, then
speakers, then units raised them; each with its sources. Two proposals are near-duplicates
when their e5 embeddings are close (cosine at least `stance.duplicate_similarity`) AND they
share content words (overlap coefficient of their ingest tokens, cue words left out, at least
`stance.duplicate_overlap`): for short sentences of one register the e5 cosine of two
different proposals (「司機應該考取職業駕照」,「Uber 應該向營業地政府納稅」 0.93) can exceed
that of one proposal said twice (0.89), so the cosine alone only says "same topic".
Stance shares: counts and shares of the six stances per theme, per session type and per
strategy area. Codes only; the report gives them words.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.stance.cues import CUES, STANCES

NONE_AREA = "NONE"
SOURCE_FIELDS = ("unit_id", "session_id", "session_title", "session_date", "session_type",
                 "speaker", "role", "file", "line_start", "line_end")


def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    return v.item() if isinstance(v, np.generic) else v


def _speaker_key(row: dict[str, Any]) -> tuple[str, str]:
    # A comment without a speaker is its own author (one person per comment row).
    who = row.get("speaker")
    if not isinstance(who, str) or not who:
        who = f"#{row.get('turn')}"
    return str(row.get("session_id")), who


_CUE_WORDS = frozenset(w for words in CUES.values() for w in words)


def content_words(tokens: Any) -> frozenset[str]:
    """A unit's ingest tokens (content words) without the stance cue words, case-folded."""
    if tokens is None or isinstance(tokens, float):
        return frozenset()
    return frozenset(t.casefold() for t in tokens if t not in _CUE_WORDS)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient |a ∩ b| / min(|a|, |b|) (0 when either is empty)."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _group(idx: list[int], unit_vecs: np.ndarray, words: list[frozenset[str]],
           min_cos: float, min_overlap: float) -> list[list[int]]:
    """Greedy near-duplicate groups: each unit (in the given order) joins the qualifying
    group whose first unit is closest to it, else starts one."""
    groups: list[list[int]] = []
    heads: list[int] = []
    head_vecs = np.zeros((len(idx), unit_vecs.shape[1] if unit_vecs.ndim == 2 else 0))
    for i in idx:
        sims = head_vecs[:len(heads)] @ unit_vecs[i]
        joined = False
        # Closest first; the word test only for heads close enough in meaning.
        for j in np.argsort(-sims, kind="stable"):
            if sims[j] < min_cos:
                break
            if overlap(words[heads[j]], words[i]) >= min_overlap:
                groups[j].append(i)
                joined = True
                break
        if not joined:
            groups.append([i])
            head_vecs[len(heads)] = unit_vecs[i]
            heads.append(i)
    return groups


def _shares(frame: pd.DataFrame, by: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, part in frame.groupby(by, sort=True, dropna=False):
        counts = part["stance"].value_counts()
        n = len(part)
        out[str(_plain(key))] = {
            "units": n,
            "counts": {s: int(counts.get(s, 0)) for s in STANCES},
            "shares": {s: round(int(counts.get(s, 0)) / n, 4) for s in STANCES},
        }
    return out


def build_proposals(analysed: pd.DataFrame, emb: np.ndarray, unit_stance: pd.DataFrame,
                    unit_area: pd.DataFrame, unit_theme: pd.DataFrame,
                    cfg: Config) -> dict[str, Any]:
    """`analysed`: the analysed units (rows aligned with `emb`); `unit_stance`: the stance
    stage's table; `unit_area`: unit_id, key_area (one row per unit); `unit_theme`: unit_id,
    theme_id (one row per unit)."""
    sc = cfg.stance
    frame = analysed.reset_index(drop=True).copy()
    frame["unit_id"] = frame["unit_id"].astype(str)
    frame = frame.merge(unit_stance[["unit_id", "stance", "probability"]], on="unit_id",
                        how="left", validate="one_to_one")
    areas = unit_area.assign(unit_id=unit_area["unit_id"].astype(str))[["unit_id", "key_area"]]
    frame = frame.merge(areas, on="unit_id", how="left", validate="one_to_one")
    frame["key_area"] = frame["key_area"].fillna(NONE_AREA)
    themes = unit_theme.assign(unit_id=unit_theme["unit_id"].astype(str))[["unit_id",
                                                                           "theme_id"]]
    frame = frame.merge(themes, on="unit_id", how="left", validate="one_to_one")
    frame["theme_id"] = frame["theme_id"].fillna(-1).astype(int)
    norms = np.linalg.norm(emb, axis=1, keepdims=True) if len(emb) else np.ones((0, 1))
    vecs = emb / np.where(norms == 0, 1.0, norms)
    words = [content_words(t) for t in frame["tokens"]]

    prob = frame["probability"].fillna(1.0)  # rules (no probability): every cue proposal
    is_prop = ((frame["stance"] == "proposal") & (prob >= sc.proposal_min_probability)
               & ~frame.get("role", pd.Series(None, index=frame.index))
               .isin(sc.proposal_exclude_roles))
    # Plain rows of the proposal units, once (row access on the wide frame is slow).
    cols = [c for c in dict.fromkeys([*SOURCE_FIELDS, "text", "turn"]) if c in frame]
    records = dict(zip(frame.index[is_prop],
                       frame.loc[is_prop, cols].to_dict("records"), strict=True))
    area_entries = []
    for area, part in frame[is_prop].groupby("key_area", sort=True):
        if area == NONE_AREA:
            continue
        order = sorted(part.index, key=lambda i: (-float(prob[i]), frame.at[i, "unit_id"]))
        entries = []
        for members in _group(order, vecs, words, sc.duplicate_similarity,
                              sc.duplicate_overlap):
            rows = [records[i] for i in members]
            entries.append({
                "text": str(rows[0]["text"]),
                "unit_id": str(rows[0]["unit_id"]),
                "probability": round(float(prob[members[0]]), 4),
                "sessions": len({str(r.get("session_id")) for r in rows}),
                "speakers": len({_speaker_key(r) for r in rows}),
                "units": len(members),
                "sources": [{f: _plain(r.get(f)) for f in SOURCE_FIELDS} for r in rows],
            })
        entries.sort(key=lambda e: (-e["sessions"], -e["speakers"], -e["units"],
                                    e["unit_id"]))
        total = len(entries)
        if sc.max_proposals_per_area:
            entries = entries[:sc.max_proposals_per_area]
        for rank, e in enumerate(entries, 1):
            e["rank"] = rank
        area_entries.append({"area": str(area), "proposal_units": len(part),
                             "distinct_proposals": total, "proposals": entries})
    return {
        "settings": {"proposal_min_probability": sc.proposal_min_probability,
                     "duplicate_similarity": sc.duplicate_similarity,
                     "duplicate_overlap": sc.duplicate_overlap,
                     "proposal_exclude_roles": list(sc.proposal_exclude_roles),
                     "max_proposals_per_area": sc.max_proposals_per_area},
        "proposal_units": int(is_prop.sum()),
        "unmapped_proposal_units": int((is_prop & (frame["key_area"] == NONE_AREA)).sum()),
        "areas": area_entries,
        "stance_shares": {
            "all": _shares(frame.assign(all="all"), "all")["all"],
            "theme": _shares(frame, "theme_id"),
            "session_type": _shares(frame.assign(
                session_type=frame["session_type"].fillna("").astype(str)), "session_type"),
            "area": _shares(frame, "key_area"),
        },
    }
