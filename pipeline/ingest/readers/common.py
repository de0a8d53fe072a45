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
    return InputError(path, f"not a readable {kind} file ({error_gist(e)})", hint)


# A parser's message may quote the text it failed on ('…' or "…"): errors are printed and
# logged, so quoted pieces are left out and the message is cut short (issue 16).
_QUOTED = re.compile(r"""'[^']*'|"[^"]*"|“[^”]*”|「[^」]*」""")
_GIST_CHARS = 120


def error_gist(e: BaseException) -> str:
    """A library exception as one line without the content it may quote."""
    msg = " ".join(_QUOTED.sub("'…'", str(e)).split())
    if len(msg) > _GIST_CHARS:
        msg = msg[:_GIST_CHARS] + "…"
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


# Header names are shown so the analyst can pick a column; a file without a header row has
# data there, so long cells and cells with digits or @ (phones, e-mails) show as positions.
_HEADER_CHARS = 12
_HEADER_SHOWN = 12
_DATA_LIKE = re.compile(r"[0-9０-９@]")


def header_names(names: Iterable[str]) -> str:
    """The header's column names for an error message: names, or #position for data-like."""
    shown = [f"'{h}'" if len(h) <= _HEADER_CHARS and not _DATA_LIKE.search(h) else f"#{i + 1}"
             for i, h in enumerate(names) if h]
    more = f", … ({len(shown)} columns)" if len(shown) > _HEADER_SHOWN else ""
    return (", ".join(shown[:_HEADER_SHOWN]) + more) or "(none)"
