"""A round: its folder, optional `round.yaml` manifest, and the sessions in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline import safeyaml
from pipeline.ingest.dates import HINT as DATE_HINT
from pipeline.ingest.dates import DateError, date_from_name, parse_date
from pipeline.source import InputError
from pipeline.yamlerrors import yaml_hint, yaml_problem

KNOWN = {"id", "file", "date", "type", "location", "participants", "title",
         "officials", "moderators", "names", "speakers", "columns"}
# Keys of a session's `columns:` mapping (a table's columns): each sets ingest.csv.<key>_column.
COLUMN_KEYS = ("text", "speaker", "session", "date", "location", "type", "organisation",
               "agree", "disagree", "pass", "id", "moderated")


@dataclass
class Session:
    id: str
    path: Path
    date: str | None = None
    type: str | None = None
    location: str | None = None
    participants: list[str] = field(default_factory=list)
    title: str | None = None
    officials: list[str] = field(default_factory=list)
    moderators: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    # `speakers:` speaker label -> the organisation the speaker speaks for. Labels are often
    # names: they are used at ingest only and never written (the units carry the pseudonym).
    speakers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # For a table: key in COLUMN_KEYS -> the column's name in this file (overrides ingest.csv).
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class Round:
    name: str
    folder: Path
    sessions: list[Session]
    manifest: Path | None = None
    title: str | None = None
    # Files found but not read (without a manifest): {"file", "reason"}, listed in run.json.
    skipped: list[dict[str, str]] = field(default_factory=list)


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [p.strip() for p in re.split(r"[、,，;；\n]", v) if p.strip()]
    return [str(x) for x in v]


def safe_id(raw: str) -> str:
    # ':' separates the parts of a unit id, so it cannot appear inside one.
    return re.sub(r"[:\s]+", "-", raw.strip())


def _line_of(nodes: list[Any], i: int, key: str | None = None) -> int | None:
    """1-based line of session #i in the manifest, or of its `key:` entry when given."""
    try:
        node = nodes[i]
    except IndexError:
        return None
    if key is not None:
        for k, _v in getattr(node, "value", []):
            if getattr(k, "value", None) == key:
                return k.start_mark.line + 1
    return node.start_mark.line + 1


def load_round(folder: Path, manifest_name: str, extensions: list[str]) -> Round:
    folder = folder.resolve()
    if folder.is_file():
        # One file is a round of its own (a petition's export, a Pol.is comments.csv).
        return Round(name=folder.stem, folder=folder.parent,
                     sessions=[Session(id=safe_id(folder.stem), path=folder,
                                       date=date_from_name(folder.name))])
    if not folder.is_dir():
        raise InputError(folder, "round folder not found",
                         "pass the folder that holds the transcripts")
    manifest = folder / manifest_name
    if manifest.exists():
        return _from_manifest(folder, manifest)
    files, skipped = _round_files(folder, extensions)
    if not files:
        raise InputError(folder, "no transcripts found",
                         f"add files with extensions {', '.join(extensions)} or a {manifest_name}")
    sessions = []
    seen: dict[str, Path] = {}
    for p in files:
        sid = safe_id(p.relative_to(folder).with_suffix("").as_posix().replace("/", "-"))
        if sid in seen:
            raise InputError(p, f"session id '{sid}' is the same as for {seen[sid].name}",
                             f"rename one file or list sessions in {manifest_name}")
        seen[sid] = p
        sessions.append(Session(id=sid, path=p, date=date_from_name(p.name)))
    return Round(name=folder.name, folder=folder, sessions=sessions, skipped=skipped)


def _round_files(folder: Path, extensions: list[str]) -> tuple[list[Path], list[dict[str, str]]]:
    """Transcript files under `folder` (no manifest), and the ones not read with why.

    A symbolic link is read only when it points inside the round folder: without a manifest
    nobody chose the files, and a link to ~/.ssh or another project's transcripts must not
    end up in a report. Two paths to the same file (a link beside its target) are read once.
    """
    files: list[Path] = []
    skipped: list[dict[str, str]] = []
    seen: dict[Path, Path] = {}
    # Real files before links, so a link beside its target is the one left out.
    for p in sorted(folder.rglob("*"), key=lambda p: (p.is_symlink(), p)):
        if p.suffix.lower() not in extensions or p.name.startswith(".") or not p.is_file():
            continue
        rel = p.relative_to(folder).as_posix()
        _check_name(p, rel, folder)
        target = p.resolve()
        if not target.is_relative_to(folder):
            skipped.append({"file": rel, "reason": "symbolic link to a file outside the round "
                            "folder (not followed; copy the file into the folder to read it)"})
            continue
        if target in seen:
            skipped.append({"file": rel, "reason": "same file as "
                            f"{seen[target].relative_to(folder).as_posix()} (read once)"})
            continue
        seen[target] = p
        files.append(p)
    return sorted(files), skipped


def _check_name(p: Path, rel: str, folder: Path) -> None:
    """A file name that is not UTF-8 cannot be written to the outputs (units, run.json)."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise InputError(folder / shown, "the file name is not valid UTF-8 (made on another "
                         "system?)", "rename the file, e.g. in the file manager, and run again"
                         ) from None


def _from_manifest(folder: Path, manifest: Path) -> Round:
    try:
        data, root = safeyaml.load_with_nodes(safeyaml.read_text(manifest, "round manifest"))
    except safeyaml.FileBudgetError as e:
        raise InputError(manifest, str(e).removeprefix(f"{manifest}: ")) from e
    except yaml.YAMLError as e:
        problem, line = yaml_problem(e)
        raise InputError(manifest, problem, yaml_hint(e), line=line) from e
    if not isinstance(data, dict) or not isinstance(data.get("sessions"), list):
        raise InputError(manifest, "a round manifest needs a 'sessions:' list",
                         "see corpora/sample-round/round.yaml for the format")
    nodes: list[Any] = []
    for k, v in getattr(root, "value", []):
        if getattr(k, "value", None) == "sessions":
            nodes = list(v.value)
    sessions: list[Session] = []
    seen: dict[str, int | None] = {}
    files: dict[Path, tuple[str, int | None]] = {}
    for i, entry in enumerate(data["sessions"]):
        line = _line_of(nodes, i)
        if not isinstance(entry, dict) or "file" not in entry:
            raise InputError(manifest, f"session #{i + 1} needs at least a 'file'",
                             "give each session 'id' and 'file'", line=line)
        rel = str(entry["file"])
        target = (folder / rel).resolve()
        if not target.is_relative_to(folder):
            raise InputError(manifest, f"session file '{rel}' is outside the round folder",
                             "manifest paths must stay inside the round folder",
                             line=_line_of(nodes, i, "file"))
        if not target.is_file():
            raise InputError(manifest, f"session file '{rel}' not found",
                             "check the path (relative to the round folder)",
                             line=_line_of(nodes, i, "file"))
        sid = safe_id(str(entry.get("id") or Path(rel).stem))
        id_line = _line_of(nodes, i, "id") or line
        if sid in seen:
            raise InputError(manifest, f"duplicate session id '{sid}' (first at line {seen[sid]})",
                             "give every session a unique id", line=id_line)
        seen[sid] = id_line
        if entry.get("speakers") is not None and not isinstance(entry.get("speakers"), dict):
            raise InputError(manifest, f"session '{sid}': speakers must map a speaker label to "
                             "an organisation", "write e.g. speakers: {陳先生: 台灣淨零公民陣線}",
                             line=_line_of(nodes, i, "speakers") or line)
        file_line = _line_of(nodes, i, "file")
        if target in files:
            # An error, not counted once: a file listed twice is almost always a copied entry
            # whose `file:` was not changed, so another transcript is missing from the round.
            first, first_line = files[target]
            raise InputError(manifest, f"session '{sid}' lists file '{rel}', already listed "
                             f"for session '{first}' (line {first_line})",
                             "list each file once; check which file this session should have",
                             line=file_line)
        files[target] = (sid, file_line)
        date = _session_date(entry.get("date"), target, manifest, _line_of(nodes, i, "date"))
        columns = _columns(entry.get("columns"), manifest, _line_of(nodes, i, "columns") or line)
        sessions.append(Session(
            id=sid, path=target, date=date,
            type=_opt(entry.get("type")), location=_opt(entry.get("location")),
            participants=_as_list(entry.get("participants")), title=_opt(entry.get("title")),
            officials=_as_list(entry.get("officials")),
            moderators=_as_list(entry.get("moderators")),
            names=_as_list(entry.get("names")),
            speakers={str(k).strip(): str(v).strip()
                      for k, v in (entry.get("speakers") or {}).items()
                      if str(k).strip() and v is not None and str(v).strip()}
            if isinstance(entry.get("speakers"), dict) else {},
            extra={k: v for k, v in entry.items() if k not in KNOWN},
            columns=columns,
        ))
    name = str(data.get("round") or folder.name)
    return Round(name=name, folder=folder, sessions=sessions, manifest=manifest,
                 title=_opt(data.get("title")))


def _session_date(value: Any, target: Path, manifest: Path, line: int | None) -> str | None:
    if value is None:
        return date_from_name(target.name)
    try:
        return parse_date(value)
    except DateError as e:
        raise InputError(manifest, f"date {e}", DATE_HINT, line=line) from e


def _opt(v: Any) -> str | None:
    return None if v is None else str(v)


def _columns(value: Any, manifest: Path, line: int | None) -> dict[str, str]:
    """A session's `columns:` mapping, checked: only known keys, column names as text."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(manifest, "'columns:' must map keys to column names",
                         "e.g. columns: {text: reason, location: county}", line=line)
    unknown = [str(k) for k in value if k not in COLUMN_KEYS]
    if unknown:
        raise InputError(manifest, f"unknown key(s) in 'columns:': {', '.join(unknown)}",
                         f"use {', '.join(COLUMN_KEYS)}", line=line)
    return {str(k): str(v) for k, v in value.items() if v is not None}
