"""What several readers share: a Document of lines, the Markdown-style title, the error for a
file its parser cannot open."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pipeline.source import Document, InputError, Line

_MD_TITLE = re.compile(r"^# +(.*?)(?:\s+#+)?\s*$")


def markdown_title(lines: Iterable[Line]) -> str | None:
    for line in lines:
        m = _MD_TITLE.match(line.text)
        if m and m.group(1).strip():
            return m.group(1).strip()
    return None


def lines_document(path: Path, lines: list[Line], title: str | None,
                    encoding: str | None) -> Document:
    return Document(path=path, kind="lines", lines=lines, title=title, encoding=encoding)


def unreadable(path: Path, kind: str, e: Exception, hint: str) -> InputError:
    return InputError(path, f"not a readable {kind} file ({type(e).__name__}: {e})", hint)
