"""Ingest stage: a round folder becomes the units table.

read → turns → roles → units → normalise → redact → tokens. Redaction runs before any
text leaves this module, so nothing downstream (reports, caches of text) sees real names.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Config, IngestConfig
from pipeline.ingest.manifest import Round, Session, load_round, safe_id
from pipeline.ingest.normalize import cjk_count, normalize_text
from pipeline.ingest.procedural import procedural_kind
from pipeline.ingest.readers import read_document
from pipeline.ingest.redact import Redactor, placeholder_pattern
from pipeline.ingest.speakers import SessionSpeakers, SpeakerRole, infer_roles
from pipeline.ingest.turns import cut_units, parse_turns
from pipeline.rundir import sha256_file
from pipeline.source import InputError

UNIT_COLUMNS = [
    "unit_id", "session_id", "session_title", "session_date", "session_type",
    "session_location", "session_participants", "turn", "seq", "speaker", "role",
    "speaker_body", "text",
    "tokens", "file", "line_start", "line_end", "char_start", "char_end", "analysed",
    "excluded_reason", "procedural_kind",
]


@dataclass
class IngestResult:
    round: Round
    units: pd.DataFrame
    inputs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    # One row per (session, speaker): pseudonym, role and the evidence for it (speakers.json).
    speakers: list[dict[str, Any]] = field(default_factory=list)


def ingest_round(
    folder: Path, cfg: Config, progress: Callable[[str], None] | None = None
) -> IngestResult:
    rnd = load_round(Path(folder), cfg.ingest.manifest, [e.lower() for e in cfg.ingest.extensions])
    if cfg.run.round_name:
        rnd.name = cfg.run.round_name
    redactor = Redactor(cfg.redact)
    inputs, skipped = [], []
    parsed: list[tuple[Session, str, Any, list]] = []
    for session in rnd.sessions:
        if progress:
            progress(session.path.name)
        rel = session.path.relative_to(rnd.folder).as_posix()
        try:
            doc = read_document(session.path, _file_config(cfg.ingest, session))
        except InputError as e:
            if cfg.ingest.on_error == "skip":
                skipped.append({"file": rel, "session_id": session.id, "reason": str(e)})
                continue
            raise
        entry = {"file": rel, "session_id": session.id, "sha256": sha256_file(session.path),
                 "bytes": session.path.stat().st_size, "encoding": doc.encoding}
        if doc.kind == "records":
            entry.update(rows=len(doc.records), rows_blank=doc.blank_rows, columns=doc.mapped)
        inputs.append(entry)
        parsed.append((session, rel, doc, parse_turns(doc, cfg.ingest.max_inline_speaker_chars)))
    # Roles need every session at once: the chair of a round is recognised by chairing
    # several of its sessions.
    roles = infer_roles([SessionSpeakers(s.id, turns, s.officials, s.moderators)
                         for s, _, _, turns in parsed], cfg.roles)
    # Pseudonym codes follow the label alone: first appearance, files in sorted path order.
    redactor.order([t.speaker for *_, ts in sorted(parsed, key=lambda p: p[1]) for t in ts])
    rows: list[dict[str, Any]] = []
    min_chars: list[int] = []  # per row: the shortest unit analysed (its file's profile)
    turns_total = 0
    split = len(parsed) > 1
    for session, rel, doc, turns in parsed:
        turns_total += len(turns)
        title = session.title or doc.title or session.path.stem
        base = _session_columns(session, redactor, title)
        unit, minimum = _profile(cfg, doc.kind)
        for turn in turns:
            who = roles.get((session.id, turn.speaker)) if turn.speaker else None
            role = who.role if who else "participant"
            # 官員A（內政部）: which body spoke matters to analysts more than the rank.
            shown = (who.body or who.title) if who and cfg.redact.keep_official_titles else None
            speaker = redactor.speaker(turn.speaker, role, shown)
            mapped = _mapped_columns(session.id, turn.fields, split)
            for seq, piece in enumerate(cut_units(turn, unit, cfg.segment.window_size)):
                text = normalize_text(piece.text, cfg.normalize)
                min_chars.append(minimum)
                rows.append({
                    **base, **mapped,
                    "unit_id": f"{session.id}:{turn.index}:{seq}",
                    "turn": turn.index, "seq": seq, "speaker": speaker, "role": role,
                    "speaker_body": who.body if who else None,
                    "text": text, "file": rel,
                    "line_start": piece.line_start, "line_end": piece.line_end,
                    "char_start": piece.char_start, "char_end": piece.char_end,
                    **{f"meta_{k}": _scalar(v) for k, v in turn.meta.items()},
                    # The manifest's organisation of this speaker (participation uses it).
                    **({"speaker_org": session.speakers.get(turn.speaker or "")}
                       if session.speakers else {}),
                })
                if mapped.get("session_id"):
                    rows[-1]["unit_id"] = f"{mapped['session_id']}:{turn.index}:{seq}"
    speakers = speaker_table(roles, redactor)
    if not rows and not skipped:
        raise InputError(rnd.folder, "no speech found in any session",
                         "check that the files hold transcript text")
    # Names are redacted only now: every speaker of the round has been seen, so a name
    # mentioned before its owner first speaks is still caught; so are self-introduced names.
    for row in rows:
        redactor.learn(row["text"])
    blank = placeholder_pattern(cfg.redact)
    session_extra = {f"session_{k}" for s in rnd.sessions for k in s.extra}
    for row, minimum in zip(rows, min_chars, strict=True):
        row["text"] = redactor.text(row["text"])
        row["session_title"] = redactor.text(row["session_title"] or "") or None
        if row.get("organisation"):
            row["organisation"] = redactor.text(row["organisation"])
        # Every other text that reaches units.parquet: table metadata and manifest extras.
        redactor.metadata(row, [k for k in list(row) if k.startswith("meta_")
                                or k in session_extra])
        _set_exclusion(row, cfg, blank, minimum)
    units = pd.DataFrame(rows)
    for col in UNIT_COLUMNS:
        if col not in units.columns:
            units[col] = None
    if len(units):
        from pipeline.segment import get_segmenter

        units["tokens"] = get_segmenter(cfg.segment).tokens_many(
            [blank.sub(" ", t) for t in units["text"].tolist()])
    extra = [c for c in units.columns if c not in UNIT_COLUMNS]
    _one_type_per_column(units, extra)
    units = units[UNIT_COLUMNS + sorted(extra)]
    check_unit_ids(units, "ingest")
    summary = {
        "round": rnd.name,
        # The manifest's title of the round (shown in the report's heading), None without.
        "title": rnd.title,
        "sessions": len(rnd.sessions) - len(skipped),
        "sessions_skipped": len(skipped),
        "turns": turns_total,
        "units": len(units),
        "units_analysed": int(units["analysed"].sum()) if len(units) else 0,
        "units_excluded": dict(Counter(units["excluded_reason"].dropna())),
        "procedural_by_kind": dict(Counter(units["procedural_kind"].dropna())),
        "redactions": dict(sorted(redactor.counts.items())),
        "speakers_pseudonymised": len(redactor.pseudonyms),
        **_row_counts(parsed, units),
    }
    summary["speakers_by_role"] = dict(Counter(r["role"] for r in speakers))
    # Files the round folder holds but ingest did not read (links outside it) come first.
    return IngestResult(rnd, units, inputs, rnd.skipped + skipped, summary, speakers)


def speaker_table(roles: dict[tuple[str, str], SpeakerRole], redactor: Redactor
                  ) -> list[dict[str, Any]]:
    """The roles as written to speakers.json: pseudonyms only, never the label itself."""
    out = []
    for (sid, label), r in roles.items():
        out.append({"session_id": sid, "speaker": redactor.speaker(label, r.role),
                    "role": r.role, "body": r.body, "title": r.title, "source": r.source,
                    "turns": r.turns, "share": r.share,
                    "evidence": {k: v for k, v in r.evidence.items() if k != "body"}})
    return out


def _session_columns(session: Session, redactor: Redactor, title: str) -> dict[str, Any]:
    cols = {
        "session_id": session.id, "session_title": title, "session_date": session.date,
        "session_type": session.type, "session_location": session.location,
        "session_participants": "、".join(session.participants) or None,
    }
    redactor.add_private_names(session.names)
    for k, v in session.extra.items():
        cols[f"session_{k}"] = _scalar(v)
    return cols


def _scalar(v: Any) -> Any:
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return json.dumps(v, ensure_ascii=False, default=str)


def _one_type_per_column(units: pd.DataFrame, columns: list[str]) -> None:
    """Metadata whose values mix types (a field that is 3 on one line and "三" on the next)
    is kept as text: a parquet column has one type, and refusing the file would lose the
    comments for a column nobody analyses."""
    for col in columns:
        kinds = {type(v) for v in units[col] if v is not None and v == v}  # v != v: NaN
        if len(kinds) > 1 and not kinds <= {int, float}:
            units[col] = [None if v is None or v != v else str(v) for v in units[col]]


def _set_exclusion(row: dict[str, Any], cfg: Config, blank: re.Pattern[str],
                   min_chars: int) -> None:
    reason = kind = None
    if row.pop("_rejected", False):
        reason = "moderated"
    elif row["role"] not in cfg.roles.analysed_roles:
        reason = row["role"]
    # Judged without the pseudonyms redaction wrote in (「政委、主持人IT，大家好」): the rules
    # read the words people said around them.
    elif kind := procedural_kind(blank.sub("", row["text"]), cfg.roles):
        reason = "procedural"
    elif cjk_count(row["text"]) < min_chars:
        reason = "short"
    row["analysed"] = reason is None
    row["excluded_reason"] = reason
    row["procedural_kind"] = kind


def _file_config(ingest: IngestConfig, session: Session) -> IngestConfig:
    """ingest config for one file: its manifest `columns:` override ingest.csv."""
    if not session.columns:
        return ingest
    csv = ingest.csv.model_copy(update={f"{k}_column": v for k, v in session.columns.items()})
    return ingest.model_copy(update={"csv": csv})


def _profile(cfg: Config, kind: str) -> tuple[str, int]:
    """(unit, minimum CJK characters) for a file: written comments are kept whole and may be
    short (ingest.comments); transcripts follow segment.unit / segment.min_cjk_chars."""
    profile = cfg.ingest.profile
    if profile == "comments" or (profile == "auto" and kind == "records"):
        return cfg.ingest.comments.unit, cfg.ingest.comments.min_cjk_chars
    return cfg.segment.unit, cfg.segment.min_cjk_chars


# Mapped table columns (Record.fields) -> units columns.
_FIELD_COLUMNS = {"date": "session_date", "location": "session_location",
                  "type": "session_type", "organisation": "organisation",
                  "agree": "votes_agree", "disagree": "votes_disagree", "pass": "votes_pass",
                  "agree_min_group": "votes_agree_min_group"}


def _mapped_columns(file_session: str, fields: dict[str, Any], split: bool) -> dict[str, Any]:
    """A table row's mapped columns as units columns; `session` makes a session per value
    (prefixed by the file's session id when the round has several files)."""
    out: dict[str, Any] = {}
    for key, col in _FIELD_COLUMNS.items():
        if key in fields:
            value = fields[key]
            out[col] = _count(value) if col.startswith("votes_") else value
    if fields.get("session"):
        value = safe_id(str(fields["session"]))
        out["session_id"] = f"{file_session}-{value}" if split else value
        out["session_title"] = str(fields["session"])
    if str(fields.get("moderated") or "").strip() in ("-1", "-1.0"):
        out["_rejected"] = True
    return out


def _count(value: Any) -> float | None:
    try:
        return float(value) if value is not None and str(value).strip() != "" else None
    except ValueError:
        return None


def _row_counts(parsed: list[tuple[Session, str, Any, list]], units: pd.DataFrame
                ) -> dict[str, Any]:
    """Table rows read, rows without text, rows repeating an earlier row's text (kept and
    analysed: campaigns.json says which are templates), and the mapped columns."""
    docs = [doc for _, _, doc, _ in parsed if doc.kind == "records"]
    if not docs:
        return {}
    seen: set[str] = set()
    duplicate = 0
    for doc in docs:
        for r in doc.records:
            key = re.sub(r"\s+", "", r.text)
            duplicate += key in seen
            seen.add(key)
    columns: dict[str, str] = {}
    blank_by: dict[str, Counter[str]] = {}
    for doc in docs:
        for role, name in doc.mapped.items():
            columns.setdefault(BREAKDOWN_COLUMNS[role], name)
        for (role, value), n in doc.blank_by.items():
            blank_by.setdefault(BREAKDOWN_COLUMNS[role], Counter())[value] += n
    return {"rows": sum(len(d.records) for d in docs) + sum(d.blank_rows for d in docs),
            "rows_with_text": sum(len(d.records) for d in docs),
            "rows_blank": sum(d.blank_rows for d in docs),
            "rows_duplicate": duplicate,
            "breakdowns": columns,
            # Blank rows per value of each mapped column ("" = no value).
            "rows_blank_by": {c: dict(sorted(v.items())) for c, v in sorted(blank_by.items())}}


# A mapped column's role -> the units column that holds it (the report's breakdowns).
BREAKDOWN_COLUMNS = {"session": "session_id", "date": "session_date",
                     "location": "session_location", "type": "session_type",
                     "organisation": "organisation"}


def check_unit_ids(units: pd.DataFrame, stage: str) -> None:
    """The ID-integrity check at every hand-off between stages."""
    if units["unit_id"].isna().any():
        raise RuntimeError(f"{stage}: units without an id")
    dup = units["unit_id"][units["unit_id"].duplicated()]
    if len(dup):
        raise RuntimeError(f"{stage}: duplicate unit ids, e.g. {dup.iloc[0]}")
