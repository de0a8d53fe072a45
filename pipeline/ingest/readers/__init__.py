"""Readers: each input format becomes a Document of text lines or tabular records.

A registry: `SUPPORTED` maps a file extension to its reader, one small module per format
family (text.py: .md .txt .srt .vtt; word.py: .docx; pdf.py; tables.py: .csv .xlsx .jsonl).
Adding a format = a module with a `read_x(path, cfg) -> Document` and one line here (and the
extension in `ingest.extensions` when it should be read by default).

Every reader keeps where things came from (line numbers, character offsets), and every
problem with an input file is an InputError that names the file, the line where there is
one, and what the user can do about it. Text formats are decoded by `decode.decode_text`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.config import IngestConfig
from pipeline.ingest.budgets import ZIP_FORMATS, check_zip
from pipeline.ingest.readers.pdf import read_pdf
from pipeline.ingest.readers.tables import read_csv, read_jsonl, read_xlsx
from pipeline.ingest.readers.text import read_markdown, read_srt, read_vtt
from pipeline.ingest.readers.word import read_docx
from pipeline.source import Document, InputError

Reader = Callable[[Path, IngestConfig], Document]

_MB = 1024 * 1024

SUPPORTED: dict[str, Reader] = {
    ".md": read_markdown,
    ".txt": read_markdown,
    ".docx": read_docx,
    ".pdf": read_pdf,
    ".csv": read_csv,
    ".xlsx": read_xlsx,
    ".srt": read_srt,
    ".vtt": read_vtt,
    ".jsonl": read_jsonl,
}


def read_document(path: Path, cfg: IngestConfig) -> Document:
    """Read one input file with the reader for its extension, after the common checks."""
    path = Path(path)
    ext = path.suffix.lower()
    reader = SUPPORTED.get(ext)
    if reader is None:
        raise InputError(path, f"unsupported file type '{ext or path.name}'",
                         f"supported types: {', '.join(SUPPORTED)}")
    if not path.is_file():
        raise InputError(path, "file not found" if not path.exists() else "not a file")
    size = path.stat().st_size
    if size > cfg.max_file_mb * _MB:
        raise InputError(
            path, f"file is too large ({size / _MB:.3g} MB > limit {cfg.max_file_mb:g} MB)",
            "raise the limit with ingest.max_file_mb (e.g. --set ingest.max_file_mb=200) "
            "or split the file",
        )
    if size == 0:
        raise InputError(path, "file is empty")
    if ext in ZIP_FORMATS:
        check_zip(path, cfg)
    try:
        return reader(path, cfg)
    except RecursionError as e:  # json.loads and XML parsers recurse per nesting level
        raise InputError(path, "refused: nested too deeply to read (a hostile or broken file?)",
                         "check the file; save it again from the program that made it") from e
