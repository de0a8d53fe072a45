"""Word documents (.docx): paragraphs in order, heading styles kept as Markdown headings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.config import IngestConfig
from pipeline.ingest.readers.common import lines_document, unreadable
from pipeline.source import Document, InputError, Line

_HEADING_STYLE = re.compile(r"^(?:heading|標題)\s*(\d)$", re.IGNORECASE)


def _heading_level(paragraph: Any) -> int | None:
    # Custom styles are often based on a built-in heading, so follow the base styles.
    style = paragraph.style
    for _ in range(10):
        if style is None:
            return None
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 1
        m = _HEADING_STYLE.match(name)
        if m:
            return min(max(int(m.group(1)), 1), 6)
        style = style.base_style
    return None


def _docx_blocks(document: Any) -> list[tuple[str, int | None]]:
    """(text, heading level) for each body paragraph, then each table cell's paragraphs."""
    blocks = [(p.text, _heading_level(p)) for p in document.paragraphs]

    def cells(table: Any) -> None:
        for row in table.rows:
            seen: set[int] = set()
            for cell in row.cells:
                # A merged cell is returned once for every grid column it spans.
                if id(cell._tc) in seen:
                    continue
                seen.add(id(cell._tc))
                blocks.extend((p.text, _heading_level(p)) for p in cell.paragraphs)
                for inner in cell.tables:
                    cells(inner)

    for table in document.tables:
        cells(table)
    return blocks


def read_docx(path: Path, cfg: IngestConfig) -> Document:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as e:  # see _pdf_pages
        raise unreadable(path, ".docx", e,
                          "open it in Word and save it again as .docx (not .doc)") from e
    lines: list[Line] = []
    title = None
    pos = 0
    for lineno, (raw, level) in enumerate(_docx_blocks(document), 1):
        # python-docx renders manual line breaks as "\n" and tabs as "\t".
        text = raw.replace("\r", "\n")
        if level and text.strip():
            text = " ".join(text.split("\n")).strip()
            if title is None and level == 1:
                title = text
            # As Markdown, so the turn parser sees `### 名字：` speaker headings.
            text = "#" * level + " " + text
        for part in text.split("\n"):
            lines.append(Line(part, lineno, pos))
            pos += len(part) + 1
    if not any(line.text.strip() for line in lines):
        raise InputError(path, "file is empty (the document has no text)")
    return lines_document(path, lines, title, None)
