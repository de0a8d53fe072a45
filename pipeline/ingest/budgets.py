"""Budgets for zip-based inputs (.docx, .xlsx, and the OpenDocument formats): checked from the
archive's directory before any part is decompressed or parsed.

A 390 KB .docx can hold 100 MB of XML, which python-docx then parses for minutes in
gigabytes of memory; a file with a million tiny entries costs memory just to list. So:
- entries: at most `ingest.max_zip_entries`, read from the end-of-central-directory record
  (a few bytes at the end of the file) before the archive is opened;
- size: the declared uncompressed sizes together at most `ingest.max_unzipped_mb`. Python's
  zipfile never returns more than an entry's declared size (a lying header gives a CRC
  error, not more data), so the declared sizes bound what the readers can decompress.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from pipeline.config import IngestConfig
from pipeline.source import InputError

ZIP_FORMATS = {".docx", ".xlsx", ".odt", ".ods", ".pptx"}
_MB = 1024 * 1024
_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"
_TAIL = 22 + 65535 + 20 + 56  # EOCD + longest comment + ZIP64 locator and record


def check_zip(path: Path, cfg: IngestConfig) -> None:
    """Raise InputError when the archive is over a budget; a file that is not a zip archive
    at all passes (its reader reports it as unreadable, in the reader's words)."""
    entries = _declared_entries(path)
    if entries is None:
        return
    if entries > cfg.max_zip_entries:
        raise InputError(path, f"refused: the file is an archive of {entries:,} parts "
                         f"(limit {cfg.max_zip_entries:,}); a document has a few dozen",
                         "if the file is genuine, raise ingest.max_zip_entries")
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    if total > cfg.max_unzipped_mb * _MB:
        raise InputError(path, f"refused: the file unpacks to {total / _MB:,.0f} MB "
                         f"(limit {cfg.max_unzipped_mb:g} MB; a zip bomb?)",
                         "if the file is genuine, raise ingest.max_unzipped_mb "
                         "(e.g. --set ingest.max_unzipped_mb=200) or split the document")


def _declared_entries(path: Path) -> int | None:
    """Entry count from the end-of-central-directory record, or None if there is none."""
    with path.open("rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - _TAIL))
        tail = f.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) < at + 22:
        return None
    (entries,) = struct.unpack("<H", tail[at + 10 : at + 12])
    if entries == 0xFFFF:  # ZIP64: the real count is in the ZIP64 record before the locator
        at64 = tail.rfind(_EOCD64, 0, at)
        if at64 >= 0 and len(tail) >= at64 + 40:
            (entries,) = struct.unpack("<Q", tail[at64 + 32 : at64 + 40])
    return entries
