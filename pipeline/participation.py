"""Collaboration map (協力地圖) and participation load of one consultation round.

Which organisations took part in which sessions, which themes were raised there, which
organisations keep meeting each other, and which are present in so many sessions of the
round that repeated mobilisation (重複、過度動員) is a risk worth raising with the organisers.

Organisations come from the round manifest, copied by ingest into every unit row:
`session_organisations` (JSON list) or, for a session without one, `session_participants`
("、"-joined). They are institutional metadata, not private names, so ingest does not
redact them and this module reports them verbatim.

Attribution of themes is by session presence: an organisation is credited with every
analysed unit of every session it attended, whoever spoke. Transcripts rarely say on whose
behalf a participant speaks, and speaker labels are pseudonyms after redaction, so presence
is the only attribution that is available for every session; it measures "themes raised
where the organisation was in the room", not "themes the organisation raised". A unit is
*also* counted as directly raised by an organisation when its speaker label contains the
organisation's name (labels kept by `redact.keep_labels` or with redaction off) or when a
per-unit organisation column (a CSV `organisation` column becomes `meta_organisation`)
names it. In the sample round no speaker label carries a manifest name: participants are
pseudonymised and official labels use abbreviations (國發會王科長), so direct attribution
there comes only from the s06 CSV's organisation column.

Everything is a small pure function of tables; orderings are deterministic so the JSON
(and any report built on it) is the same byte for byte for the same inputs.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import ParticipationConfig
from pipeline.units import analysed_mask, best_theme_per_unit
from pipeline.values import is_missing

OUTLIER = -1
# Why an organisation is flagged: present in more than `max_sessions` sessions.
REASON_MAX_SESSIONS = "max_sessions"
SESSION_COLUMNS = ["session_id", "session_type", "session_location", "session_date"]
LONG_COLUMNS = [*SESSION_COLUMNS, "organisation"]
# Preferred first: `organisations:` lists hosts and agencies too, `participants:` only guests.
ORG_SOURCES = ("session_organisations", "session_participants")
# Per-unit organisation columns a reader may produce (CSV/JSONL headers become meta_<name>).
# `speaker_org` is the manifest's `speakers:` mapping, set by ingest.
UNIT_ORG_COLUMNS = ("speaker_org", "meta_organisation", "meta_organization", "meta_單位",
                    "meta_團體")
# A speaker naming where they come from: 「我是○○協會的…」「我們來自…」「代表…」.
_INTRO = re.compile(r"我是|我們是|我來自|我們來自|來自|我代表|代表")
INTRO_WINDOW = 30  # characters after the phrase in which the organisation's name must start
SUMMARY_COLUMNS = [
    "organisation", "sessions", "session_ids", "session_types", "locations", "analysed_units",
    "direct_units", "top_themes", "organiser", "flagged", "reason", "attribution",
    "said_themes",
]
# How an organisation's themes are known: "speaker" (its own speakers' units: manifest
# `speakers:`, a self-introduction, a speaker label or unit column naming it) or "presence"
# (every unit of the sessions it attended, when none of its speakers is known).
ATTRIBUTIONS = ("speaker", "presence")
PAIR_COLUMNS = ["org_a", "org_b", "sessions", "session_ids", "organiser"]
UNLISTED_COLUMNS = ["session_id", "organisation", "source", "units"]
# Separators seen in hand-written participant lists; "、" is what ingest joins with.
_SPLIT = re.compile(r"[、,，;；\n]+")


@dataclass
class CollaborationMap:
    # One row per session with organisation data or units, ordered by date then id:
    # SESSION_COLUMNS + organisations (count), org_source (manifest key used), analysed_units.
    sessions: pd.DataFrame
    # Organisations × sessions, 1 = present; rows in organisation order (see org_summary),
    # columns in session order.
    org_sessions: pd.DataFrame
    # One row per organisation (SUMMARY_COLUMNS); most sessions first, then by the first
    # session attended and the position in that session's manifest list.
    org_summary: pd.DataFrame
    # Organisations × themes: analysed units of each theme in the sessions attended
    # (presence attribution; outliers left out). Columns in themes.json order.
    org_themes: pd.DataFrame
    # Same shape, only units directly attributed (speaker label / unit organisation column).
    org_themes_direct: pd.DataFrame
    # Co-attendance edges (PAIR_COLUMNS): each unordered pair once, org_a before org_b in
    # organisation order; `organiser` = either end is an organiser, for views that hide them.
    pairs: pd.DataFrame
    # Organisations flagged for over-mobilisation, in organisation order.
    flagged: list[str]
    # Organisations named by a unit (speaker label or organisation column) in a session whose
    # manifest does not list them: the manifest may be incomplete. Not counted as presence.
    unlisted: pd.DataFrame
    max_sessions: int
    organisers: list[str] = field(default_factory=list)
    min_shared: int = 2

    @property
    def empty(self) -> bool:
        return self.org_summary.empty


# --- names --------------------------------------------------------------------------------


def parse_names(value: Any) -> list[str]:
    """Names from a list, a JSON list or a "、"-joined string; stripped, de-duplicated."""
    if is_missing(value):
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    items: Iterable[Any]
    if isinstance(value, str):
        items = _SPLIT.split(value)
        if value.strip().startswith("["):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                # Not JSON after all (e.g. "[待補]"): keep the separator split.
                parsed = None
            if isinstance(parsed, list):
                items = parsed
    elif isinstance(value, list | tuple | set):
        items = value
    else:
        items = [value]
    out: list[str] = []
    for item in items:
        if is_missing(item):
            continue
        name = str(item).strip()
        if name and name not in out:
            out.append(name)
    return out


# --- sessions -----------------------------------------------------------------------------


def _first(g: pd.DataFrame, col: str) -> Any:
    if col not in g:
        return None
    for v in g[col]:
        if not is_missing(v) and not (isinstance(v, str) and not v.strip()):
            return v
    return None


def _session_key(row: Mapping[str, Any]) -> tuple[bool, str, str]:
    date = row.get("session_date")
    return (is_missing(date), "" if is_missing(date) else str(date), str(row["session_id"]))


def _session_rows(units: pd.DataFrame) -> list[dict[str, Any]]:
    """Per session (date, then id order): its metadata, organisations and their source."""
    if "session_id" not in units or units.empty:
        return []
    rows = []
    for sid, g in units.groupby("session_id", sort=False, dropna=True):
        row: dict[str, Any] = {"session_id": str(sid)}
        for col in SESSION_COLUMNS[1:]:
            v = _first(g, col)
            row[col] = None if v is None else str(v)
        row["orgs"], row["org_source"] = [], None
        for col in ORG_SOURCES:
            names = parse_names(_first(g, col))
            if names:
                row["orgs"], row["org_source"] = names, col.removeprefix("session_")
                break
        row["analysed_units"] = int(analysed_mask(g).sum())
        rows.append(row)
    return sorted(rows, key=_session_key)


def session_organisations(units: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per (session, organisation), LONG_COLUMNS.

    `session_organisations` is used, else `session_participants` for a session without
    organisations; a units table with neither (or without session_id) gives an empty table.
    Sessions are ordered by date then id, organisations by their manifest position.
    """
    records = [
        {**{c: s[c] for c in SESSION_COLUMNS}, "organisation": org}
        for s in _session_rows(units) for org in s["orgs"]
    ]
    return pd.DataFrame(records, columns=LONG_COLUMNS)


# --- themes -------------------------------------------------------------------------------


def _theme_id(v: Any) -> Any:
    # themes.json ids are ints, parquet ids int64, hand-made tables may use strings.
    try:
        return int(v)
    except (TypeError, ValueError):
        return str(v)


def _theme_list(themes: Any) -> list[dict[str, Any]]:
    if themes is None:
        return []
    if isinstance(themes, Mapping):
        themes = themes.get("themes") or []
    return [t for t in themes if isinstance(t, Mapping) and "id" in t]


def _unit_theme(unit_themes: pd.DataFrame | None) -> dict[str, Any]:
    """unit_id -> theme id, the most probable when a unit is listed more than once."""
    if unit_themes is None or unit_themes.empty or not {"unit_id", "theme_id"} <= set(
        unit_themes.columns
    ):
        return {}
    ut = best_theme_per_unit(unit_themes)
    return {str(u): _theme_id(t) for u, t in zip(ut["unit_id"], ut["theme_id"], strict=True)
            if not is_missing(t)}


# --- direct attribution -------------------------------------------------------------------


def self_introduced(units: pd.DataFrame, known: list[str]) -> dict[tuple[str, str], str]:
    """(session_id, speaker) -> organisation the speaker introduced themself as from.

    Any unit of the speaker counts (self-introductions are procedural and not analysed); the
    name must be one of the round's organisations and start within INTRO_WINDOW characters
    after 我是/來自/代表…; the longest name found wins, the first introduction per speaker."""
    if units.empty or not {"session_id", "speaker", "text"} <= set(units.columns):
        return {}
    by_len = sorted(known, key=lambda n: (-len(n), n))
    out: dict[tuple[str, str], str] = {}
    for sid, speaker, text in zip(units["session_id"], units["speaker"], units["text"],
                                  strict=True):
        if not isinstance(speaker, str) or not isinstance(text, str):
            continue
        key = (str(sid), speaker)
        if key in out:
            continue
        for m in _INTRO.finditer(text):
            window = text[m.end():m.end() + INTRO_WINDOW + 20]
            hit = next((n for n in by_len if 0 <= window.find(n) <= INTRO_WINDOW), None)
            if hit:
                out[key] = hit
                break
    return out


def _direct(units: pd.DataFrame, known: list[str],
            introduced: Mapping[tuple[str, str], str] | None = None
            ) -> list[tuple[str, str, str, str]]:
    """(unit_id, session_id, organisation, source) for units that name their organisation.

    Speaker labels are matched against the round's organisation names (the longest name
    contained in the label wins, so 勞動部勞動力發展署 is not read as 勞動部); a per-unit
    organisation column is taken as is, whether or not the manifest lists it.
    """
    if units.empty or not {"unit_id", "session_id"} <= set(units.columns):
        return []
    by_len = sorted(known, key=lambda n: (-len(n), n))
    org_cols = [c for c in UNIT_ORG_COLUMNS if c in units]
    speakers = units["speaker"] if "speaker" in units else pd.Series(None, index=units.index)
    out = []
    for i, (uid, sid, speaker) in enumerate(
        zip(units["unit_id"], units["session_id"], speakers, strict=True)
    ):
        found: list[tuple[str, str]] = []
        if isinstance(speaker, str) and speaker:
            hit = next((n for n in by_len if n in speaker), None)
            if hit:
                found.append((hit, "speaker"))
            said = (introduced or {}).get((str(sid), speaker))
            if said and all(said != f for f, _ in found):
                found.append((said, "self_intro"))
        for col in org_cols:
            for name in parse_names(units[col].iat[i]):
                if all(name != f for f, _ in found):
                    found.append((name, col))
        out.extend((str(uid), str(sid), name, src) for name, src in found)
    return out


# --- the map ------------------------------------------------------------------------------


def _empty_map(sessions: pd.DataFrame, cfg: ParticipationConfig, min_shared: int,
               theme_cols: list[Any]) -> CollaborationMap:
    def matrix(cols: list[Any]) -> pd.DataFrame:
        return pd.DataFrame(np.zeros((0, len(cols)), dtype=int), columns=cols,
                            index=pd.Index([], name="organisation"))

    return CollaborationMap(
        sessions=sessions,
        org_sessions=matrix(sessions["session_id"].tolist()),
        org_summary=pd.DataFrame(columns=SUMMARY_COLUMNS),
        org_themes=matrix(theme_cols), org_themes_direct=matrix(theme_cols),
        pairs=pd.DataFrame(columns=PAIR_COLUMNS), flagged=[],
        unlisted=pd.DataFrame(columns=UNLISTED_COLUMNS),
        max_sessions=cfg.max_sessions, organisers=list(cfg.organisers), min_shared=min_shared,
    )


def collaboration_map(
    units: pd.DataFrame,
    unit_themes: pd.DataFrame | None,
    themes: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    cfg: ParticipationConfig,
    *,
    top_n: int = 3,
    min_shared: int = 2,
) -> CollaborationMap:
    """Presence matrix, per-organisation summary, theme counts and co-attendance network.

    `themes` is themes.json (or its `themes` list); `unit_themes` has unit_id, theme_id
    (and optionally probability). Theme attribution is by session presence (see the module
    docstring): an organisation is credited with all analysed, themed units of the sessions
    it attended; `direct_units` counts those whose speaker label or organisation column
    names it. An organisation present in more than `cfg.max_sessions` sessions is flagged
    unless it is one of `cfg.organisers`. Pairs co-attending at least `min_shared` sessions
    become network edges.
    """
    srows = _session_rows(units)
    sessions = pd.DataFrame(
        [{**{c: s[c] for c in SESSION_COLUMNS}, "organisations": len(s["orgs"]),
          "org_source": s["org_source"], "analysed_units": s["analysed_units"]} for s in srows],
        columns=[*SESSION_COLUMNS, "organisations", "org_source", "analysed_units"],
    )
    theme_list = [t for t in _theme_list(themes)
                  if _theme_id(t["id"]) != OUTLIER and not t.get("outlier")]
    labels = {_theme_id(t["id"]): t.get("label") for t in theme_list}
    unit_theme = {u: t for u, t in _unit_theme(unit_themes).items() if t != OUTLIER}
    # Themes present in unit_themes but missing from themes.json still get a column, last.
    extra = sorted({t for t in unit_theme.values() if t not in labels}, key=str)
    theme_cols = [*labels, *extra]

    # Organisation order: most sessions, then first session attended, then manifest position.
    attended: dict[str, list[int]] = {}
    first_pos: dict[str, tuple[int, int]] = {}
    for si, s in enumerate(srows):
        for pos, org in enumerate(s["orgs"]):
            attended.setdefault(org, []).append(si)
            first_pos.setdefault(org, (si, pos))
    if not attended:
        return _empty_map(sessions, cfg, min_shared, theme_cols)
    orgs = sorted(attended, key=lambda o: (-len(attended[o]), first_pos[o]))
    sids = [s["session_id"] for s in srows]

    analysed = units[analysed_mask(units)]
    per_session = _themes_per_session(analysed, sids, unit_theme)
    listed = {s["session_id"]: set(s["orgs"]) for s in srows}
    direct_units, direct_themes, unlisted = _direct_attribution(
        analysed, orgs, listed, unit_theme, self_introduced(units, orgs))

    organisers = {o.strip() for o in cfg.organisers}
    presence, theme_counts, direct_counts, summary, flagged = _per_organisation(
        orgs, attended, srows, per_session, (direct_units, direct_themes), theme_cols, labels,
        organisers, cfg.max_sessions, top_n)
    pairs = _pairs(orgs, presence, sids, organisers, min_shared)
    session_order = {sid: i for i, sid in enumerate(sids)}
    unlisted_rows = sorted(
        ({"session_id": sid, "organisation": org, "source": src, "units": n}
         for (sid, org, src), n in unlisted.items()),
        key=lambda r: (session_order.get(r["session_id"], len(sids)), r["organisation"],
                       r["source"]),
    )
    index = pd.Index(orgs, name="organisation")
    return CollaborationMap(
        sessions=sessions,
        org_sessions=pd.DataFrame(presence, index=index, columns=sids),
        org_summary=_objects(pd.DataFrame(summary, columns=SUMMARY_COLUMNS), ["reason"]),
        org_themes=pd.DataFrame(theme_counts, index=index, columns=theme_cols),
        org_themes_direct=pd.DataFrame(direct_counts, index=index, columns=theme_cols),
        pairs=pd.DataFrame(pairs, columns=PAIR_COLUMNS),
        flagged=flagged,
        unlisted=pd.DataFrame(unlisted_rows, columns=UNLISTED_COLUMNS),
        max_sessions=cfg.max_sessions, organisers=sorted(organisers), min_shared=min_shared,
    )


def _per_organisation(orgs: list[str], attended: dict[str, list[int]],
                      srows: list[dict[str, Any]], per_session: dict[str, Counter[Any]],
                      direct: tuple[dict[str, set[str]], dict[str, Counter[Any]]],
                      theme_cols: list[Any], labels: dict[Any, Any], organisers: set[str],
                      max_sessions: int, top_n: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]],
                                 list[str]]:
    """Presence (organisations × sessions), theme counts by presence and direct, one summary
    row per organisation (SUMMARY_COLUMNS) and the organisations flagged, in order."""
    direct_units, direct_themes = direct
    presence = np.zeros((len(orgs), len(srows)), dtype=int)
    theme_counts = np.zeros((len(orgs), len(theme_cols)), dtype=int)
    direct_counts = np.zeros_like(theme_counts)
    col_of = {t: j for j, t in enumerate(theme_cols)}
    summary, flagged = [], []
    for i, org in enumerate(orgs):
        mine = [srows[si] for si in attended[org]]
        presence[i, attended[org]] = 1
        counts: Counter[Any] = Counter()
        for s in mine:
            counts.update(per_session[s["session_id"]])
        for tid, n in counts.items():
            theme_counts[i, col_of[tid]] = n
        for tid, n in direct_themes[org].items():
            direct_counts[i, col_of[tid]] = n
        top = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top_n]
        top_rows = [{"theme_id": tid, "label": labels.get(tid), "units": n} for tid, n in top]
        is_organiser = org in organisers
        n_sessions = len(mine)
        is_flagged = not is_organiser and n_sessions > max_sessions
        if is_flagged:
            flagged.append(org)
        summary.append({
            "organisation": org,
            "sessions": n_sessions,
            "session_ids": [s["session_id"] for s in mine],
            "session_types": _unique(s["session_type"] for s in mine),
            "locations": _unique(s["session_location"] for s in mine),
            "analysed_units": sum(s["analysed_units"] for s in mine),
            "direct_units": len(direct_units[org]),
            "top_themes": [{"theme_id": tid, "label": labels.get(tid), "units": n,
                            "direct_units": direct_themes[org][tid]} for tid, n in top],
            "organiser": is_organiser,
            "flagged": is_flagged,
            # A code: the report words it (report/labels: reason_max_sessions).
            "reason": REASON_MAX_SESSIONS if is_flagged else None,
            "attribution": "speaker" if direct_units[org] else "presence",
            # Its own speakers' themes when any is known (else the same as top_themes).
            "said_themes": [{"theme_id": tid, "label": labels.get(tid), "units": n}
                            for tid, n in sorted(direct_themes[org].items(),
                                                 key=lambda kv: (-kv[1], str(kv[0])))[:top_n]]
            if direct_units[org] else [{"theme_id": t["theme_id"], "label": t["label"],
                                        "units": t["units"]} for t in top_rows],
        })

    return presence, theme_counts, direct_counts, summary, flagged


def _themes_per_session(analysed: pd.DataFrame, sids: list[str], unit_theme: dict[str, Any]
                        ) -> dict[str, Counter[Any]]:
    """Analysed, themed units per session (presence attribution needs only these counts)."""
    per_session: dict[str, Counter[Any]] = {sid: Counter() for sid in sids}
    if "unit_id" in analysed:
        for uid, sid in zip(analysed["unit_id"], analysed["session_id"], strict=True):
            tid = unit_theme.get(str(uid))
            if tid is not None and str(sid) in per_session:
                per_session[str(sid)][tid] += 1
    return per_session


def _direct_attribution(analysed: pd.DataFrame, orgs: list[str], listed: dict[str, set[str]],
                        unit_theme: dict[str, Any],
                        introduced: Mapping[tuple[str, str], str] | None = None
                        ) -> tuple[dict[str, set[str]], dict[str, Counter[Any]],
                                   Counter[tuple[str, str, str]]]:
    """Units each organisation raised itself (speaker label / unit organisation column), their
    themes, and (session, organisation, source) -> units naming an organisation that the
    session's manifest does not list (not counted as presence)."""
    direct_units: dict[str, set[str]] = {o: set() for o in orgs}
    direct_themes: dict[str, Counter[Any]] = {o: Counter() for o in orgs}
    unlisted: Counter[tuple[str, str, str]] = Counter()
    for uid, sid, org, src in _direct(analysed, orgs, introduced):
        if org not in listed.get(sid, set()):
            unlisted[(sid, org, src)] += 1
            continue
        if uid in direct_units[org]:
            continue
        direct_units[org].add(uid)
        tid = unit_theme.get(uid)
        if tid is not None:
            direct_themes[org][tid] += 1
    return direct_units, direct_themes, unlisted


def _pairs(orgs: list[str], presence: np.ndarray, sids: list[str], organisers: set[str],
           min_shared: int) -> list[dict[str, Any]]:
    """Co-attendance edges: pairs in at least `min_shared` sessions together, most first,
    then in organisation order."""
    rank = {o: i for i, o in enumerate(orgs)}
    pairs = []
    for a in range(len(orgs)):
        for b in range(a + 1, len(orgs)):
            shared = np.flatnonzero(presence[a] & presence[b])
            if len(shared) >= min_shared:
                pairs.append({
                    "org_a": orgs[a], "org_b": orgs[b], "sessions": len(shared),
                    "session_ids": [sids[j] for j in shared],
                    "organiser": orgs[a] in organisers or orgs[b] in organisers,
                })
    pairs.sort(key=lambda p: (-p["sessions"], rank[p["org_a"]], rank[p["org_b"]]))
    return pairs


def _objects(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    # pandas infers a string dtype that turns None into NaN; keep None for "no reason".
    for c in cols:
        df[c] = pd.Series([None if is_missing(v) else v for v in df[c]], index=df.index,
                          dtype=object)
    return df


def _unique(values: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v is not None and v not in out:
            out.append(v)
    return out


# --- JSON ---------------------------------------------------------------------------------


def _plain(v: Any) -> Any:
    """numpy/pandas scalars and containers as plain JSON values."""
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple | np.ndarray):
        return [_plain(x) for x in v]
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if is_missing(v):
        return None
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [_plain(dict(zip(df.columns, row, strict=True)))
            for row in df.itertuples(index=False, name=None)]


def _matrix(df: pd.DataFrame) -> dict[str, Any]:
    return {"rows": [str(i) for i in df.index], "columns": _plain(list(df.columns)),
            "values": _plain(df.to_numpy().tolist())}


def to_json(cmap: CollaborationMap) -> dict[str, Any]:
    """The map as plain JSON values, in the map's (deterministic) order."""
    return {
        "max_sessions": cmap.max_sessions,
        "organisers": list(cmap.organisers),
        "min_shared": cmap.min_shared,
        "attribution": "session_presence",
        "sessions": _records(cmap.sessions),
        "organisations": _records(cmap.org_summary),
        "org_sessions": _matrix(cmap.org_sessions),
        "org_themes": _matrix(cmap.org_themes),
        "org_themes_direct": _matrix(cmap.org_themes_direct),
        "pairs": _records(cmap.pairs),
        "flagged": list(cmap.flagged),
        "unlisted": _records(cmap.unlisted),
    }


def from_json(doc: Mapping[str, Any]) -> CollaborationMap:
    """participation.json back into a map (the report reads the stage's file)."""
    def matrix(m: Mapping[str, Any]) -> pd.DataFrame:
        rows, cols = list(m.get("rows") or []), list(m.get("columns") or [])
        values = np.asarray(m.get("values") or [], dtype=int).reshape(len(rows), len(cols))
        return pd.DataFrame(values, index=pd.Index(rows, name="organisation"), columns=cols)

    def records(key: str, columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame(list(doc.get(key) or []), columns=columns)

    session_cols = [*SESSION_COLUMNS, "organisations", "org_source", "analysed_units"]
    return CollaborationMap(
        sessions=records("sessions", session_cols),
        org_sessions=matrix(doc.get("org_sessions") or {}),
        org_summary=_objects(records("organisations", SUMMARY_COLUMNS), ["reason"]),
        org_themes=matrix(doc.get("org_themes") or {}),
        org_themes_direct=matrix(doc.get("org_themes_direct") or {}),
        pairs=records("pairs", PAIR_COLUMNS),
        flagged=[str(o) for o in doc.get("flagged") or []],
        unlisted=records("unlisted", UNLISTED_COLUMNS),
        max_sessions=int(doc.get("max_sessions", 0)),
        organisers=[str(o) for o in doc.get("organisers") or []],
        min_shared=int(doc.get("min_shared", 2)),
    )


def with_limit(cmap: CollaborationMap, max_sessions: int) -> CollaborationMap:
    """The same map flagged at another session limit (`consult report RUN --set
    participation.max_sessions=N` re-renders without re-running the stage)."""
    if cmap.empty or max_sessions == cmap.max_sessions:
        return cmap
    summary = cmap.org_summary.copy()
    flags = [not org and n > max_sessions
             for org, n in zip(summary["organiser"], summary["sessions"], strict=True)]
    summary["flagged"] = flags
    summary["reason"] = pd.Series([REASON_MAX_SESSIONS if f else None for f in flags],
                                  index=summary.index, dtype=object)
    flagged = [o for o, f in zip(summary["organisation"], flags, strict=True) if f]
    return CollaborationMap(cmap.sessions, cmap.org_sessions, summary, cmap.org_themes,
                            cmap.org_themes_direct, cmap.pairs, flagged, cmap.unlisted,
                            max_sessions, cmap.organisers, cmap.min_shared)


def participation_json(cmap: CollaborationMap) -> str:
    """participation.json text: deterministic order, UTF-8, newline at the end."""
    return json.dumps(to_json(cmap), ensure_ascii=False, indent=2) + "\n"
