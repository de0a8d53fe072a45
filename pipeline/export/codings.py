"""A finished run folder as coded text, independent of any file format: one source text per
session (its redacted units in order), the codebook (themes, strategy areas, just-transition
dimensions, consultation focuses, stances) and, per analysed unit, where it sits in its
session's text and which codes it carries.

Offsets are Unicode code points (Python string indices) into `SessionSource.text`; a writer
converts them to whatever its consumers count (`pipeline/export/qdpx.py`: UTF-16 code units).
Only the analysed units are coded; the others (moderators, procedure, short units) stay in the
text so that a coder reads each unit in its context.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Config, ConfigError, resolve_path
from pipeline.mapping.framework import NONE_ID, Framework, load_framework
from pipeline.report.labels import labels_for
from pipeline.rundir import RUN_JSON, THEMES, UNIT_AREAS, UNIT_STANCE, UNIT_THEMES, UNITS
from pipeline.source import InputError
from pipeline.stance.cues import LABEL_CODES as STANCE_ALIASES
from pipeline.stance.cues import STANCES
from pipeline.units import analysed_mask, best_theme_per_unit
from pipeline.values import is_missing, text_or_none

GROUPS = ("theme", "area", "jt", "focus", "stance")
# Stance codes in the order the issue lists them; the stance stage may write the code or its
# zh-TW name, both are read.
# Session columns of units.parquet that become case variables, with their label keys.
SESSION_VARIABLES = (
    ("session_id", "x_session_id"), ("session_title", "session_title"), ("session_date", "date"),
    ("session_type", "session_type"), ("session_location", "location"),
    ("session_participants", "participants"), ("file", "file"),
)
# Between turns of a session's text. Units of one turn are joined without a separator when the
# first ends in CJK text or punctuation (as the transcript reads), else with a space.
TURN_BREAK = "\n"
SPEAKER_SEP = "："


@dataclass(frozen=True)
class Code:
    key: str  # stable across runs for framework and stance codes: "area:S01", "stance:concern"
    group: str  # one of GROUPS
    name: str
    description: str = ""


@dataclass(frozen=True)
class Coding:
    code_key: str
    probability: float | None = None
    evidence: str | None = None


@dataclass
class Segment:
    """An analysed unit: [start, end) in code points of its session's text."""

    unit_id: str
    start: int
    end: int
    file: str | None
    line_start: int | None
    line_end: int | None
    speaker: str | None
    codings: list[Coding] = field(default_factory=list)


@dataclass
class SessionSource:
    session_id: str
    name: str
    text: str
    segments: list[Segment]
    variables: dict[str, Any]  # variable key (SESSION_VARIABLES, units counts) -> value


@dataclass
class CodedRound:
    round_name: str
    run_id: str
    created: str  # ISO 8601 UTC, from run.json: the same run exports the same bytes
    labels: dict[str, str]
    groups: dict[str, str]  # group -> display name, only groups that have codes
    codes: list[Code]
    sources: list[SessionSource]
    variables: list[tuple[str, str, str]]  # key, display name, "Text" | "Integer" | "Date"
    has_stance: bool = False


def coded_round(run_dir: Path, cfg: Config) -> CodedRound:
    """Read a finished run folder; a missing units.parquet or run.json is an InputError."""
    run_dir = Path(run_dir)
    for name in (RUN_JSON, UNITS):
        if not (run_dir / name).is_file():
            raise InputError(run_dir, f"not a finished run folder (no {name})",
                             "pass a folder printed by `consult run` or `consult themes`")
    run = json.loads((run_dir / RUN_JSON).read_text(encoding="utf-8"))
    units = pd.read_parquet(run_dir / UNITS)
    L = labels_for(cfg.report)
    fw = _framework(cfg)
    themes_doc = _read_json(run_dir / THEMES)
    unit_themes = _read_parquet(run_dir / UNIT_THEMES)
    unit_areas = _read_parquet(run_dir / UNIT_AREAS)
    unit_stance = _read_parquet(run_dir / UNIT_STANCE)

    codings: dict[str, list[Coding]] = {}
    codes = _theme_codes(themes_doc, unit_themes, L)
    _add_theme_codings(codings, unit_themes)
    codes += _framework_codes(fw, unit_areas)
    _add_area_codings(codings, unit_areas)
    if unit_stance is not None:
        codes += _stance_codes(unit_stance, L)
        _add_stance_codings(codings, unit_stance)
    known = {c.key for c in codes}
    # An area id the framework no longer has still gets a code (named by its id).
    for key in sorted({c.code_key for cs in codings.values() for c in cs} - known):
        group, _, ident = key.partition(":")
        codes.append(Code(key, group, ident))

    sources = [_session_source(sid, g, codings)
               for sid, g in units.groupby("session_id", sort=False, dropna=False)]
    used = {c.group for c in codes}
    return CodedRound(
        round_name=str(run.get("round_name") or (themes_doc or {}).get("meta", {}).get("round")
                       or run_dir.parent.name),
        run_id=str(run.get("run_id") or run_dir.name),
        created=_utc(run.get("finished") or run.get("started")),
        labels=L,
        groups={g: L[f"qdpx_group_{g}"] for g in GROUPS if g in used},
        codes=codes,
        sources=sources,
        variables=_variables(units, L),
        has_stance=unit_stance is not None,
    )


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _read_parquet(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.is_file() else None


def _framework(cfg: Config) -> Framework | None:
    """The run's framework (its config.yaml names it); without it, codes are named by id."""
    try:
        return load_framework(resolve_path(cfg.mapping.framework))
    except ConfigError:
        return None


def _utc(stamp: Any) -> str:
    try:
        t = datetime.fromisoformat(str(stamp))
    except ValueError:
        t = datetime(1980, 1, 1, tzinfo=UTC)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- codes ---------------------------------------------------------------------------------

def _theme_codes(doc: Any, unit_themes: pd.DataFrame | None,
                 L: dict[str, str]) -> list[Code]:
    out = []
    listed = [t for t in (doc or {}).get("themes", []) if str(t.get("id")) != "-1"]
    # Named by the number the report gives the theme (主題 1 … N, themes.json order), so the
    # QDA project and the report, workbook and Word document agree.
    for number, t in enumerate(listed, start=1):
        label = text_or_none(t.get("label")) or ""
        # The label is "keywords｜quote": the keywords name the code, the whole is its memo.
        short = label.split("｜", 1)[0]
        words = "、".join(str(k.get("word")) for k in t.get("keywords", [])[:10]
                         if isinstance(k, dict))
        out.append(Code(f"theme:{t['id']}", "theme", L["qdpx_theme"].format(id=number,
                                                                             label=short),
                        "\n".join(x for x in (label, words) if x)))
    if unit_themes is not None and (unit_themes["theme_id"] == -1).any():
        out.append(Code("theme:-1", "theme", L["qdpx_outlier_theme"]))
    return out


def _framework_codes(fw: Framework | None, unit_areas: pd.DataFrame | None) -> list[Code]:
    # A run without the mapping stage gets no framework codes: none would be used.
    if fw is None or unit_areas is None:
        return []
    return [Code(f"{group}:{a.id}", group, a.name or a.id, a.description)
            for group, areas in (("area", fw.key_areas), ("jt", fw.jt_dimensions),
                                 ("focus", fw.focuses))
            for a in areas]


def _stance_key(value: Any) -> str | None:
    v = text_or_none(value)
    return None if v is None else STANCE_ALIASES.get(v, v)


def _stance_codes(unit_stance: pd.DataFrame, L: dict[str, str]) -> list[Code]:
    found = {k for k in map(_stance_key, unit_stance["stance"]) if k}
    keys = [*STANCES, *sorted(found - set(STANCES))]
    return [Code(f"stance:{k}", "stance", L.get(f"stance_{k}", k)) for k in keys]


# --- codings per unit ----------------------------------------------------------------------

def _prob(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else round(float(v), 4)


def _add_theme_codings(codings: dict[str, list[Coding]], ut: pd.DataFrame | None) -> None:
    if ut is None:
        return
    for r in best_theme_per_unit(ut).itertuples(index=False):
        codings.setdefault(str(r.unit_id), []).append(
            Coding(f"theme:{int(r.theme_id)}", _prob(getattr(r, "probability", None))))


def _listed(v: Any) -> list[str]:
    """A list cell of a parquet table (array, list, or a missing value) as strings."""
    if v is None or isinstance(v, float):
        return []
    if isinstance(v, str):
        return [v] if v.strip() else []
    return [str(x) for x in v if text_or_none(x)]


def _add_area_codings(codings: dict[str, list[Coding]], ua: pd.DataFrame | None) -> None:
    if ua is None or ua.empty:
        return
    if "key_area" in ua:
        per_unit = ua.drop_duplicates("unit_id")
        area_col, score_col = "key_area", "key_area_score"
    else:  # an older table: one row per (unit, area) with its score; the best one counts
        per_unit = ua.sort_values("score", ascending=False, kind="stable").drop_duplicates(
            "unit_id")
        area_col, score_col = "area_id", "score"
    for r in per_unit.to_dict("records"):
        out = codings.setdefault(str(r["unit_id"]), [])
        area = text_or_none(r.get(area_col))
        if area and area != NONE_ID:
            out.append(Coding(f"area:{area}", _prob(r.get(score_col))))
        out += [Coding(f"jt:{d}") for d in _listed(r.get("jt_dimensions"))]
        focus = text_or_none(r.get("focus"))
        if focus:
            words = "、".join(_listed(r.get("focus_keywords")))
            out.append(Coding(f"focus:{focus}", _prob(r.get("focus_score")), words or None))


def _add_stance_codings(codings: dict[str, list[Coding]], us: pd.DataFrame) -> None:
    for r in us.drop_duplicates("unit_id").to_dict("records"):
        key = _stance_key(r.get("stance"))
        if key:
            evidence = r.get("evidence")
            if not isinstance(evidence, str) and evidence is not None:
                evidence = "、".join(_listed(evidence)) or None
            codings.setdefault(str(r["unit_id"]), []).append(
                Coding(f"stance:{key}", _prob(r.get("probability")), text_or_none(evidence)))


# --- sources -------------------------------------------------------------------------------

def _joiner(prev: str) -> str:
    """No space after CJK text or full-width punctuation, a space after anything else."""
    return "" if not prev or ord(prev[-1]) >= 0x2E80 else " "


def _clean(text: Any) -> str:
    # One line-ending convention: importers that meet "\r\n" shift every offset after it.
    return "" if is_missing(text) else str(text).replace("\r\n", "\n").replace("\r", "\n")


def _session_source(sid: Any, g: pd.DataFrame, codings: dict[str, list[Coding]]) -> SessionSource:
    g = g.sort_values(["turn", "seq"], kind="stable")
    analysed = analysed_mask(g).tolist()
    cols = [c for c in ("unit_id", "turn", "speaker", "text", "file", "line_start", "line_end")
            if c in g]
    rows = g[cols].to_dict("records")  # plain values: iterrows is slow on arrow strings
    parts: list[str] = []
    pos = 0
    segments = []

    def add(s: str) -> None:
        nonlocal pos
        parts.append(s)
        pos += len(s)

    turn, prev, speaker = object(), "", None
    for r, is_analysed in zip(rows, analysed, strict=True):
        if r["turn"] != turn:
            turn, prev = r["turn"], ""
            if parts:
                add(TURN_BREAK)
            speaker = text_or_none(r.get("speaker"))
            if speaker:
                add(speaker + SPEAKER_SEP)
        text = _clean(r["text"])
        if prev and text:
            add(_joiner(prev))
        start = pos
        add(text)
        prev = text or prev
        if is_analysed and text:
            segments.append(Segment(
                unit_id=str(r["unit_id"]), start=start, end=pos, file=text_or_none(r.get("file")),
                line_start=_int(r.get("line_start")), line_end=_int(r.get("line_end")),
                speaker=speaker, codings=codings.get(str(r["unit_id"]), [])))
    first = g.iloc[0]
    title = text_or_none(first.get("session_title"))
    variables = {col: _value(first.get(col)) for col, _ in SESSION_VARIABLES if col in g}
    variables["units"] = len(g)
    variables["analysed_units"] = sum(analysed)
    sid = str(sid)
    return SessionSource(session_id=sid, name=f"{sid} {title}" if title else sid,
                         text="".join(parts), segments=segments, variables=variables)


def _int(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def _value(v: Any) -> Any:
    return text_or_none(v)


def _variables(units: pd.DataFrame, L: dict[str, str]) -> list[tuple[str, str, str]]:
    out = []
    for col, key in SESSION_VARIABLES:
        if col not in units:
            continue
        kind = "Date" if col == "session_date" and _all_iso_dates(units[col]) else "Text"
        out.append((col, L[key], kind))
    out += [("units", L["units"], "Integer"), ("analysed_units", L["x_analysed_units"],
                                                 "Integer")]
    return out


def _all_iso_dates(values: Iterable[Any]) -> bool:
    for v in values:
        s = text_or_none(v)
        if s is None:
            continue
        try:
            datetime.strptime(s, "%Y-%m-%d")
        except ValueError:
            return False
    return True
