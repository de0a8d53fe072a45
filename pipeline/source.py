"""What a reader hands to the turn parser: decoded text lines or tabular records,
each still pointing at where it came from in the source file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


class InputError(Exception):
    """Bad input, reported as `file:line: reason. hint` so the user knows what to fix."""

    def __init__(self, path: Path | str, reason: str, hint: str = "", line: int | None = None):
        self.path = str(path)
        self.reason = reason
        self.hint = hint
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}" + (f". {self.hint}" if self.hint else "")


@dataclass(frozen=True)
class Line:
    """One line of text as it appears in the source (1-based line number, char offset
    of its first character in the decoded/extracted text)."""

    text: str
    lineno: int
    char_start: int


@dataclass(frozen=True)
class Record:
    """One comment from a tabular source (csv/xlsx row, jsonl object)."""

    text: str
    lineno: int
    speaker: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # Values of the mapped columns (`ingest.csv.*_column`): session, date, location, type,
    # organisation, and the vote counts agree/disagree/pass, moderated.
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Document:
    path: Path
    kind: Literal["lines", "records"]
    lines: list[Line] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    title: str | None = None
    encoding: str | None = None
    # Table rows below the header with no text in the text column (counted, not analysed).
    blank_rows: int = 0
    # The blank rows by mapped column and value: (role, value) -> rows (per-county counts
    # of endorsements without a reason).
    blank_by: dict[tuple[str, str], int] = field(default_factory=dict)
    # Which mapped columns the table had: role (session, location, ...) -> column name.
    mapped: dict[str, str] = field(default_factory=dict)
