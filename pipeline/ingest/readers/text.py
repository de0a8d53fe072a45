"""Plain text and Markdown (.md, .txt) and subtitles (.srt, .vtt; timestamps dropped)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from pipeline.config import IngestConfig
from pipeline.ingest.decode import read_text, split_lines
from pipeline.ingest.readers.common import lines_document, markdown_title
from pipeline.source import Document, InputError, Line


def read_markdown(path: Path, cfg: IngestConfig) -> Document:
    text, encoding = read_text(path)
    lines = split_lines(text)
    return lines_document(path, lines, markdown_title(lines), encoding)


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
    text, encoding = read_text(path)
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

    for line in split_lines(text):
        if line.text.strip():
            block.append(line)
        else:
            flush()
            block.clear()
    flush()
    if not lines:
        raise InputError(path, "no subtitle text found", "check that the cues have text")
    return lines_document(path, lines, title, encoding)


def read_srt(path: Path, cfg: IngestConfig) -> Document:
    return _read_subtitles(path, vtt=False)


def read_vtt(path: Path, cfg: IngestConfig) -> Document:
    return _read_subtitles(path, vtt=True)
