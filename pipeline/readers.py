"""Readers: each input format becomes a Document of text lines or tabular records.

Every reader keeps where things came from (line numbers, character offsets), and every
problem with an input file is an InputError that names the file, the line where there is
one, and what the user can do about it.

Text formats (.md .txt .csv .srt .vtt .jsonl) are decoded by `decode_text`, which accepts
UTF-8 (with or without BOM), UTF-16/UTF-32 and Big5 (decoded as CP950, the Taiwanese
Windows superset of Big5). Anything else is refused rather than guessed: a wrong guess
turns a whole transcript into plausible-looking nonsense that nobody notices until the
themes come out as garbage.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import charset_normalizer

from pipeline.config import IngestConfig
from pipeline.source import Document, InputError, Line, Record

Reader = Callable[[Path, IngestConfig], Document]

_MB = 1024 * 1024
_ENCODING_HINT = "save it as UTF-8 or Big5"

# --------------------------------------------------------------------------- decoding

# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS: list[tuple[bytes, str]] = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# C0 controls that never occur in text files (tab, LF, VT, FF, CR and ESC do).
_CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f]")
# How much of a file the Big5 plausibility check looks at.
_SAMPLE_BYTES = 64 * 1024
# Fewer double-byte characters than this say nothing about the encoding either way.
_MIN_DOUBLE_BYTE = 8


def decode_text(path: Path, data: bytes) -> tuple[str, str]:
    """Decode a text file's bytes; returns (text with LF line ends and no BOM, encoding).

    Raises InputError for binary data and for bytes that are neither UTF-8/16/32 nor Big5.
    """
    text, encoding = _decode(Path(path), data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A BOM in the middle is left over from files pasted together; it is not text.
    return text.replace("\ufeff", ""), encoding


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            name = "utf-8-sig" if codec == "utf-8" else codec
            try:
                return body.decode(codec), name
            except UnicodeDecodeError as e:
                line = _line_at(body, e.start, codec)
                raise InputError(
                    path,
                    f"cannot decode the text as {codec.upper()} (it starts with a {codec} "
                    f"byte-order mark): bad bytes on line {line}",
                    _ENCODING_HINT, line=line,
                ) from e

    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise _binary(path)
    if _CONTROL_BYTES.search(data, 0, _SAMPLE_BYTES) and charset_normalizer.is_binary(data):
        raise _binary(path)

    # Strict UTF-8 first: it is what nearly every file is, and it never decodes by accident.
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as e:
        utf8_error = e

    big5_error: UnicodeDecodeError | None = None
    try:
        text = data.decode("cp950")
    except UnicodeDecodeError as e:
        big5_error = e
    else:
        problem = _big5_problem(data)
        if problem is None:
            return text, "cp950"
    utf8_line = _line_at(data, utf8_error.start, "utf-8")
    utf8_part = f"not UTF-8 (bad byte 0x{data[utf8_error.start]:02X} on line {utf8_line})"
    if big5_error is not None:
        big5_line = _line_at(data, big5_error.start, "cp950")
        big5_part = f"not Big5/CP950 (bad byte 0x{data[big5_error.start]:02X} on line {big5_line})"
        # The encoding that got further is most likely the one the file was meant to be in,
        # so its first bad byte is the line worth looking at.
        line = big5_line if big5_error.start > utf8_error.start else utf8_line
    else:
        big5_part = f"as Big5/CP950 it would be garbage ({problem})"
        line = utf8_line
    raise InputError(
        path, f"cannot decode the text: {utf8_part}, and {big5_part}{_guess_note(data)}",
        _ENCODING_HINT, line=line,
    )


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 saved without a BOM is the only text with NUL bytes; anything else is binary."""
    if len(data) % 2:
        return None
    matches = charset_normalizer.from_bytes(
        data, cp_isolation=["utf_16_le", "utf_16_be"], enable_fallback=False
    )
    best = matches.best()
    if best is None:
        return None
    codec = "utf-16-le" if best.encoding == "utf_16_le" else "utf-16-be"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    # The wrong byte order also decodes (to CJK-looking characters); real text has line
    # breaks and no control characters.
    if "\n" not in text and "\r" not in text and len(text) > 200:
        return None
    if re.search(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]", text):
        return None
    return text, codec


def _big5_problem(data: bytes) -> str | None:
    """Why bytes that decode as CP950 are probably not Big5 text, or None if they are.

    Strict decoding already refuses UTF-8, Shift-JIS, Latin-1 and random bytes. What gets
    through is EUC-JP, EUC-KR and GB2312 text: their characters are byte pairs in
    0xA1-0xFE, and most such pairs are valid Big5 too. But ~40% of real Big5 characters
    (，。、：？！ among them) have a second byte in 0x40-0x7E, which EUC text never has.
    charset-normalizer cannot make this call: it scores EUC-JP read as Big5 no worse than
    real Big5, and it labels short Big5 snippets as Korean or Japanese.
    """
    double = low_trail = 0
    i, n = 0, min(len(data), _SAMPLE_BYTES)
    while i < n:
        if data[i] < 0x80:
            i += 1
            continue
        double += 1
        # i + 1 exists: the bytes decoded as CP950, so a lead byte has its second byte.
        low_trail += data[i + 1] < 0x80
        i += 2
    if double >= _MIN_DOUBLE_BYTE and low_trail == 0:
        return "its bytes follow the EUC pattern of Japanese, Korean or Simplified Chinese"
    return None


def _guess_note(data: bytes) -> str:
    best = charset_normalizer.from_bytes(data[:_SAMPLE_BYTES]).best()
    if best is None or best.encoding in ("utf_8", "ascii", "big5", "cp950", "big5hkscs"):
        return ""
    language = f", {best.language}" if best.language and best.language != "Unknown" else ""
    return f"; it may be {best.encoding}{language}"


def _line_at(data: bytes, pos: int, codec: str) -> int:
    prefix = data[:pos].decode(codec, errors="replace")
    return prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n") + 1


def _binary(path: Path) -> InputError:
    return InputError(
        path, "looks like a binary file, not text",
        "check that it is the transcript and not e.g. an image or a Word file renamed to .txt",
    )


# --------------------------------------------------------------------------- shared helpers


def _read_text(path: Path) -> tuple[str, str]:
    text, encoding = decode_text(path, path.read_bytes())
    if not text.strip():
        raise InputError(path, "file is empty")
    return text, encoding


def _split_lines(text: str) -> list[Line]:
    """Lines of LF-normalised text; a final line break does not start another line."""
    parts = text.split("\n")
    if text.endswith("\n"):
        parts.pop()
    lines, pos = [], 0
    for lineno, part in enumerate(parts, 1):
        lines.append(Line(part, lineno, pos))
        pos += len(part) + 1
    return lines


_MD_TITLE = re.compile(r"^# +(.*?)(?:\s+#+)?\s*$")


def _markdown_title(lines: Iterable[Line]) -> str | None:
    for line in lines:
        m = _MD_TITLE.match(line.text)
        if m and m.group(1).strip():
            return m.group(1).strip()
    return None


def _lines_document(path: Path, lines: list[Line], title: str | None,
                    encoding: str | None) -> Document:
    return Document(path=path, kind="lines", lines=lines, title=title, encoding=encoding)


# --------------------------------------------------------------------------- plain text


def read_markdown(path: Path, cfg: IngestConfig) -> Document:
    text, encoding = _read_text(path)
    lines = _split_lines(text)
    return _lines_document(path, lines, _markdown_title(lines), encoding)


# --------------------------------------------------------------------------- docx

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
        raise _unreadable(path, ".docx", e,
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
    return _lines_document(path, lines, title, None)


# --------------------------------------------------------------------------- pdf

# A paragraph ends after these; a line that stops without one was wrapped.
_PARAGRAPH_END = tuple("。！？；：」』）…!?;:.)")
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-–—]\s*)?(?:第\s*)?\d{1,4}\s*(?:頁|/\s*\d{1,4}|of\s+\d{1,4})?(?:\s*[-–—])?\s*$"
    r"|^\s*(?:page|p\.)\s*\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?\s*$",
    re.IGNORECASE,
)
# A line wider than this fraction of the longest line fills the column: if it does not end a
# sentence, the paragraph goes on in the next line.
_FULL_LINE = 0.8
# A line that does end a sentence was still wrapped if it reaches the margin (within this
# many display columns of the column width). Only a paragraph whose last line happens to
# end right at the margin is then joined wrongly, a far rarer case than a wrapped line
# that happens to end with 。: on 60 shared transcripts printed to PDF, this cut paragraph
# errors from 1.2% (never joining after 。) to 0.2%.
_AT_MARGIN = 1


def _display_width(text: str) -> int:
    # CJK characters are about twice as wide as Latin ones in the same font.
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def _column_width(widths: list[int]) -> int:
    """The width most wrapped lines have: the commonest among the long lines. The longest
    line would do if widths were exact, but Latin letters, digits and URLs are narrower
    or wider than the one column we count for them, so the longest line overshoots."""
    longest = max(widths)
    counts = Counter(w for w in widths if w >= _FULL_LINE * longest)
    return max(counts, key=lambda w: (counts[w], w))


def _starts_paragraph(text: str) -> bool:
    """Headings, quotes, bullets and indented lines start a paragraph however the
    previous line ended."""
    if text[:1] == "\u3000" or text[:2] == "  ":
        return True
    return re.match(r"\s*(?:#{1,6}\s|[•●■◆▪]\s|>)", text) is not None


def _speaker_line(text: str, max_label: int) -> bool:
    label = rf"[^\s，。！？；、「」『』（）()：:]{{1,{max_label}}}"
    return re.match(rf"\s*{label}[：:]", text) is not None


def _wrapped(prev: str, text: str, full: int, max_label: int) -> bool:
    """Whether `text` continues the paragraph whose last line so far is `prev`."""
    if _starts_paragraph(text):
        return False
    width = _display_width(prev)
    if not prev.endswith(_PARAGRAPH_END):
        # Not a speaker check here: in a wrapped line, `段：第一個…` is just a colon that
        # landed near the start of the line, and turns start after a finished sentence.
        return width >= _FULL_LINE * full
    return width >= full - _AT_MARGIN and not _speaker_line(text, max_label)


def _join(prev: str, nxt: str) -> str:
    # Chinese has no spaces between words; English words wrapped at a space get it back.
    if prev[-1:].isascii() and prev[-1:].isalnum() and nxt[:1].isascii() and nxt[:1].isalnum():
        return prev + " " + nxt
    return prev + nxt


def _unreadable(path: Path, kind: str, e: Exception, hint: str) -> InputError:
    return InputError(path, f"not a readable {kind} file ({type(e).__name__}: {e})", hint)


def _pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        encrypted = reader.is_encrypted and not reader.decrypt("")
        pages = [] if encrypted else [page.extract_text() or "" for page in reader.pages]
    # Damaged files make parsers fail in many ways (KeyError, struct.error, zlib.error...);
    # whatever the parser raises on a user's file is a problem with that file.
    except Exception as e:
        raise _unreadable(path, "PDF", e, "check that it opens in a PDF viewer, or export "
                          "the transcript as .docx or .txt") from e
    if encrypted:
        raise InputError(path, "the PDF is password-protected",
                         "save an unprotected copy, or export the transcript as .docx or .txt")
    return pages


def read_pdf(path: Path, cfg: IngestConfig) -> Document:
    pages = _pdf_pages(path)
    # The extracted text: pages in order, one line break between pages.
    raw_lines: list[tuple[str, int, int]] = []  # (text, lineno, char_start)
    lineno, pos = 0, 0
    for page in pages:
        page_lines = page.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")
        filled = [i for i, t in enumerate(page_lines) if t.strip()]
        # Page numbers in headers or footers would otherwise be glued into the text.
        skip = {i for i in (filled[:1] + filled[-1:]) if _PAGE_NUMBER.match(page_lines[i])}
        for i, text in enumerate(page_lines):
            lineno += 1
            if i not in skip:
                raw_lines.append((text.rstrip(), lineno, pos))
            pos += len(text) + 1
    if not any(text.strip() for text, _, _ in raw_lines):
        raise InputError(path, "PDF has no text layer (scanned?)",
                         "run OCR on it first (e.g. `ocrmypdf -l chi_tra in.pdf out.pdf`) "
                         "or supply the transcript as .docx or .txt")

    full = _column_width([_display_width(t) for t, _, _ in raw_lines])
    lines: list[Line] = []
    last: str | None = None  # last physical line of the paragraph being built
    for text, n, start in raw_lines:
        if not text.strip():
            last = None
            continue
        wrapped = last is not None and _wrapped(last, text, full, cfg.max_inline_speaker_chars)
        if wrapped and lines:
            prev = lines[-1]
            lines[-1] = Line(_join(prev.text, text.strip()), prev.lineno, prev.char_start)
        else:
            lines.append(Line(text, n, start))
        last = text
    return _lines_document(path, lines, _markdown_title(lines), None)


# --------------------------------------------------------------------------- tables


def _pick_columns(
    path: Path, header: Sequence[str], cfg: IngestConfig, line: int
) -> tuple[int, int | None, list[int]]:
    """(text column, speaker column, metadata columns) as indices into the header."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        if name:
            index.setdefault(name, i)
    folded = {name.casefold(): i for name, i in reversed(index.items())}

    def find(name: str | None) -> int | None:
        if not name:
            return None
        return index.get(name, folded.get(name.casefold()))

    wanted = [cfg.csv.text_column, *cfg.csv.text_column_fallbacks]
    text_col = next((i for i in map(find, wanted) if i is not None), None)
    if text_col is None:
        found = ", ".join(f"'{h}'" for h in header if h) or "(none)"
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
    if cfg.csv.metadata_columns:
        meta = [i for i in map(find, cfg.csv.metadata_columns) if i is not None]
    else:
        meta = [i for i, h in enumerate(header) if h and i not in (text_col, speaker_col)]
    return text_col, speaker_col, [i for i in meta if i not in (text_col, speaker_col)]


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
) -> list[Record]:
    """Records from (line number, cells) rows, below the first row naming the text column."""
    columns: tuple[int, int | None, list[int]] | None = None
    header: list[str] = []
    records: list[Record] = []
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
        text_col, speaker_col, meta_cols = columns

        def cell(i: int | None, cells: Sequence[Any] = cells) -> Any:
            return cells[i] if i is not None and i < len(cells) else None

        text = _cell_text(cell(text_col))
        if not text:
            continue
        speaker = _cell_text(cell(speaker_col)) or None
        meta = {header[i]: _meta_value(cell(i)) for i in meta_cols if _cell_text(cell(i))}
        records.append(Record(text=text, lineno=lineno, speaker=speaker, meta=meta))
    if columns is None:
        raise no_header or InputError(path, "file is empty (no header row)")
    if not records:
        raise InputError(
            path, f"no rows with text in column '{header[columns[0]]}'",
            "check that the file holds comments below its header row",
        )
    return records


def _csv_delimiter(text: str) -> str:
    # Excel writes commas, or semicolons in some locales; tabs come from copy-paste.
    first = next((line for line in text.split("\n") if line.strip()), "")
    for delimiter in (",", "\t", ";"):
        if delimiter in first:
            return delimiter
    return ","


def read_csv(path: Path, cfg: IngestConfig) -> Document:
    text, encoding = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_csv_delimiter(text))

    def rows() -> Iterable[tuple[int, list[str]]]:
        start = 1
        try:
            for row in reader:
                # A quoted cell may span lines; a row's number is the line it starts on.
                yield start, row
                start = reader.line_num + 1
        except csv.Error as e:
            raise InputError(path, f"not valid CSV ({e})",
                             "check the quotes on this line", line=reader.line_num) from e

    return Document(path=path, kind="records", records=_records(path, rows(), cfg),
                    encoding=encoding)


def read_xlsx(path: Path, cfg: IngestConfig) -> Document:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # see _pdf_pages
        raise _unreadable(path, ".xlsx", e, "open it in Excel and save it again as .xlsx "
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

        records = _records(path, rows(), cfg)
    finally:
        workbook.close()
    return Document(path=path, kind="records", records=records)


# --------------------------------------------------------------------------- jsonl


def read_jsonl(path: Path, cfg: IngestConfig) -> Document:
    text, encoding = _read_text(path)
    text_field, speaker_field = cfg.jsonl_text_field, cfg.jsonl_speaker_field
    records: list[Record] = []
    keys_seen: set[str] = set()
    for line in _split_lines(text):
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
            found = ", ".join(f"'{k}'" for k in sorted(keys_seen)) or "(none)"
            raise InputError(path, f"no '{text_field}' field in any line; the fields are {found}",
                             "set ingest.jsonl_text_field to the field holding the comments")
        raise InputError(path, f"no line has text in field '{text_field}'")
    return Document(path=path, kind="records", records=records, encoding=encoding)


# --------------------------------------------------------------------------- subtitles

_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*?)\s*>")
_RUBY_TEXT = re.compile(r"<rt>.*?</rt>")
_VTT_TAG = re.compile(r"</?(?:c|i|b|u|v|lang|ruby|rt)(?:[.\s][^>]*)?>|<\d[\d:.]*>")
_SRT_TAG = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^>]*)?>|\{\\[^}]*\}", re.IGNORECASE)
_VTT_BLOCK = re.compile(r"^(?:NOTE|STYLE|REGION)(?:\s|$)")


def _cue_text(text: str, vtt: bool) -> str:
    if vtt:
        text = _VOICE.sub(lambda m: f"{m.group(1)}：", text)
        text = _VTT_TAG.sub("", _RUBY_TEXT.sub("", text))
        return html.unescape(text)
    return _SRT_TAG.sub("", text)


def _read_subtitles(path: Path, vtt: bool) -> Document:
    text, encoding = _read_text(path)
    title = None
    lines: list[Line] = []
    block: list[Line] = []

    def flush() -> None:
        nonlocal title
        if not block:
            return
        first = block[0].text.strip()
        if vtt and first.startswith("WEBVTT"):
            title = first[len("WEBVTT") :].strip(" \t-") or None
            return
        if vtt and _VTT_BLOCK.match(first):
            return
        timing = next((i for i, b in enumerate(block) if "-->" in b.text), None)
        # Cue numbers and identifiers come before the timing line, the text after it.
        body = block[timing + 1 :] if timing is not None else [
            b for b in block if not b.text.strip().isdigit()
        ]
        for b in body:
            cue = _cue_text(b.text, vtt).strip()
            if cue:
                lines.append(Line(cue, b.lineno, b.char_start))

    for line in _split_lines(text):
        if line.text.strip():
            block.append(line)
        else:
            flush()
            block.clear()
    flush()
    if not lines:
        raise InputError(path, "no subtitle text found", "check that the cues have text")
    return _lines_document(path, lines, title, encoding)


def read_srt(path: Path, cfg: IngestConfig) -> Document:
    return _read_subtitles(path, vtt=False)


def read_vtt(path: Path, cfg: IngestConfig) -> Document:
    return _read_subtitles(path, vtt=True)


# --------------------------------------------------------------------------- entry point

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
    return reader(path, cfg)
