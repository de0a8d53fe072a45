"""Tables, one comment per row: .csv, .xlsx (columns set in `ingest.csv`) and .jsonl (fields set
in `ingest.jsonl_*`)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from pipeline.config import IngestConfig
from pipeline.ingest.decode import read_text, split_lines
from pipeline.ingest.readers.common import error_gist, header_names, unreadable
from pipeline.ingest.readers.votes import add_votes
from pipeline.source import Document, InputError, Record

# Mapped columns (`ingest.csv.<role>_column`), in the order breakdowns are shown.
MAPPED_ROLES = ("session", "date", "location", "type", "organisation")
# Vote and moderation columns, used when the table has them (Pol.is exports).
_OPTIONAL_ROLES = ("agree", "disagree", "pass", "id", "moderated")


@dataclass(frozen=True)
class _Columns:
    text: int
    speaker: int | None
    meta: list[int]
    # role -> column index, for the mapped and optional columns the header has.
    roles: dict[str, int]


def _pick_columns(path: Path, header: Sequence[str], cfg: IngestConfig, line: int) -> _Columns:
    """The text, speaker, mapped and metadata columns as indices into the header."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        if name:
            index.setdefault(name, i)
    folded = {name.casefold(): i for name, i in reversed(index.items())}
    found = header_names(header)

    def find(name: str | None) -> int | None:
        if not name:
            return None
        return index.get(name, folded.get(name.casefold()))

    wanted = [cfg.csv.text_column, *cfg.csv.text_column_fallbacks]
    text_col = next((i for i in map(find, wanted) if i is not None), None)
    if text_col is None:
        raise InputError(
            path,
            f"no text column: none of {', '.join(repr(w) for w in wanted)} is in the header; "
            f"the columns are {found}",
            "set ingest.csv.text_column to the column holding the comments, "
            "e.g. --set ingest.csv.text_column=<name>",
            line=line,
        )
    speaker_col = find(cfg.csv.speaker_column)
    if speaker_col == text_col:
        speaker_col = None
    roles: dict[str, int] = {}
    for role in MAPPED_ROLES:
        name = getattr(cfg.csv, f"{role}_column")
        if not name:
            continue
        col = find(name)
        if col is None:
            # A mapping the analyst asked for: silently ignoring it would lose the breakdown.
            raise InputError(
                path, f"ingest.csv.{role}_column is '{name}', which is not in the header; "
                f"the columns are {found}",
                f"set ingest.csv.{role}_column to one of these columns (or to null)", line=line)
        roles[role] = col
    for role in _OPTIONAL_ROLES:
        col = find(getattr(cfg.csv, f"{role}_column"))
        if col is not None:
            roles[role] = col
    taken = {text_col, speaker_col, *roles.values()}
    if cfg.csv.metadata_columns:
        meta = [i for i in map(find, cfg.csv.metadata_columns) if i is not None]
    else:
        meta = [i for i, h in enumerate(header) if h]
    return _Columns(text_col, speaker_col, [i for i in meta if i not in taken], roles)


def _iso(value: datetime | date | time) -> str:
    # Excel has no date type: a date cell comes back as a datetime at midnight.
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    return value.isoformat()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return _iso(value)
    return str(value).strip()


def _meta_value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, datetime | date | time):
        return _iso(value)
    return value


# Rows searched for the header: spreadsheets often have a title row or two above it.
_HEADER_ROWS = 5


def _records(
    path: Path, rows: Iterable[tuple[int, Sequence[Any]]], cfg: IngestConfig
) -> Document:
    """Records from (line number, cells) rows, below the first row naming the text column."""
    columns: _Columns | None = None
    header: list[str] = []
    records: list[Record] = []
    blank = 0
    blank_by: Counter[tuple[str, str]] = Counter()
    no_header: InputError | None = None
    tried = 0
    for lineno, cells in rows:
        if not any(_cell_text(c) for c in cells):
            continue
        if columns is None:
            header = [_cell_text(c) for c in cells]
            try:
                columns = _pick_columns(path, header, cfg, lineno)
            except InputError as e:
                # The error names the columns of the first row, the likeliest header.
                no_header = no_header or e
                tried += 1
                if tried >= _HEADER_ROWS:
                    raise no_header from None
            continue

        def cell(i: int | None, cells: Sequence[Any] = cells) -> Any:
            return cells[i] if i is not None and i < len(cells) else None

        text = _cell_text(cell(columns.text))
        if not text:
            # A row without text (an endorsement with no reason): counted, never silently lost.
            blank += 1
            for role, i in columns.roles.items():
                if role in MAPPED_ROLES:
                    blank_by[role, _cell_text(cell(i))] += 1
            continue
        speaker = _cell_text(cell(columns.speaker)) or None
        meta = {header[i]: _meta_value(cell(i)) for i in columns.meta if _cell_text(cell(i))}
        fields = {role: _cell_text(cell(i)) or None for role, i in columns.roles.items()}
        records.append(Record(text=text, lineno=lineno, speaker=speaker, meta=meta,
                              fields=fields))
    if columns is None:
        raise no_header or InputError(path, "file is empty (no header row)")
    if not records:
        raise InputError(
            path, f"no rows with text in column '{header[columns.text]}'",
            "check that the file holds comments below its header row",
        )
    mapped = {role: header[i] for role, i in columns.roles.items() if role in MAPPED_ROLES}
    return Document(path=path, kind="records", records=records, blank_rows=blank, mapped=mapped,
                    blank_by=dict(blank_by))


def _csv_delimiter(text: str) -> str:
    # Excel writes commas, or semicolons in some locales; tabs come from copy-paste.
    first = next((line for line in text.split("\n") if line.strip()), "")
    for delimiter in (",", "\t", ";"):
        if delimiter in first:
            return delimiter
    return ","


def read_csv(path: Path, cfg: IngestConfig) -> Document:
    text, encoding = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_csv_delimiter(text))

    def rows() -> Iterable[tuple[int, list[str]]]:
        start = 1
        try:
            for row in reader:
                # A quoted cell may span lines; a row's number is the line it starts on.
                yield start, row
                start = reader.line_num + 1
        except csv.Error as e:
            raise InputError(path, f"not valid CSV ({error_gist(e)})",
                             "check the quotes on this line", line=reader.line_num) from e

    doc = _records(path, rows(), cfg)
    doc.encoding = encoding
    add_votes(doc, path.parent / cfg.csv.votes_file)
    return doc


def read_xlsx(path: Path, cfg: IngestConfig) -> Document:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # see _pdf_pages
        raise unreadable(path, ".xlsx", e, "open it in Excel and save it again as .xlsx "
                          "(not .xls)") from e
    try:
        sheet = workbook.worksheets[0]
        # Some writers store a wrong sheet size, which read-only mode would trust.
        sheet.reset_dimensions()

        def rows() -> Iterable[tuple[int, list[Any]]]:
            for row in sheet.iter_rows():
                # Row numbers as Excel shows them: empty rows are not always stored.
                number = next((c.row for c in row if getattr(c, "row", None)), None)
                if number is not None:
                    yield number, [c.value for c in row]

        doc = _records(path, rows(), cfg)
    finally:
        workbook.close()
    return doc


# --------------------------------------------------------------------------- jsonl


def read_jsonl(path: Path, cfg: IngestConfig) -> Document:
    text, encoding = read_text(path)
    text_field, speaker_field = cfg.jsonl_text_field, cfg.jsonl_speaker_field
    records: list[Record] = []
    keys_seen: set[str] = set()
    for line in split_lines(text):
        if not line.text.strip():
            continue
        try:
            obj = json.loads(line.text)
        except json.JSONDecodeError as e:
            raise InputError(path, f"not valid JSON ({e.msg}, column {e.colno})",
                             "each line must be one JSON object", line=line.lineno) from e
        if not isinstance(obj, dict):
            raise InputError(path, f"expected a JSON object, got {type(obj).__name__}",
                             "each line must be one JSON object", line=line.lineno)
        keys_seen.update(obj)
        value = obj.get(text_field)
        if isinstance(value, dict | list):
            raise InputError(path, f"field '{text_field}' is not text",
                             "set ingest.jsonl_text_field to the field holding the comment",
                             line=line.lineno)
        body = _cell_text(value)
        if not body:
            continue
        speaker = _cell_text(obj.get(speaker_field)) or None
        meta = {k: v for k, v in obj.items() if k not in (text_field, speaker_field)}
        records.append(Record(text=body, lineno=line.lineno, speaker=speaker, meta=meta))
    if not records:
        if text_field not in keys_seen:
            found = header_names(sorted(keys_seen))
            raise InputError(path, f"no '{text_field}' field in any line; the fields are {found}",
                             "set ingest.jsonl_text_field to the field holding the comments")
        raise InputError(path, f"no line has text in field '{text_field}'")
    return Document(path=path, kind="records", records=records, encoding=encoding)
