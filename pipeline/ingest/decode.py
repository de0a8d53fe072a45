"""Decoding text files: bytes become text with LF line ends, or an InputError that says why not.

UTF-8 (with or without BOM), UTF-16/UTF-32 and Big5 (decoded as CP950, the Taiwanese
Windows superset of Big5) are accepted. Anything else is refused rather than guessed: a wrong
guess turns a whole transcript into plausible-looking nonsense that nobody notices until the
themes come out as garbage.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import charset_normalizer

from pipeline.source import InputError, Line

_ENCODING_HINT = "save it as UTF-8 or Big5"

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


def read_text(path: Path) -> tuple[str, str]:
    text, encoding = decode_text(path, path.read_bytes())
    if not text.strip():
        raise InputError(path, "file is empty")
    return text, encoding


def split_lines(text: str) -> list[Line]:
    """Lines of LF-normalised text; a final line break does not start another line."""
    parts = text.split("\n")
    if text.endswith("\n"):
        parts.pop()
    lines, pos = [], 0
    for lineno, part in enumerate(parts, 1):
        lines.append(Line(part, lineno, pos))
        pos += len(part) + 1
    return lines
