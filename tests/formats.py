"""Builders that turn the Markdown test transcript into the other input formats.

Each builder writes one file (into a pytest tmp_path, so no binary fixtures live in git)
and returns its path. The content is the same transcript every time, laid out the way
that format is normally produced: Big5 text with Windows line ends, Word headings, a PDF
with wrapped lines and page numbers, subtitles with one sentence per cue, and tables with
one paragraph per row.

    from formats import TRANSCRIPT, build   # tests/ is on sys.path under pytest
    pdf = build("pdf", tmp_path)            # tmp_path / "transcript.pdf"
    big5 = build("txt-cp950", tmp_path)     # tmp_path / "transcript-cp950.txt"
    paths = build_all(tmp_path)             # {"md": path, "txt-cp950": path, ...}
    write_pdf(TRANSCRIPT, tmp_path / "big.pdf", font_size=20)   # builders take options
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "readers"
TRANSCRIPT = FIXTURES / "transcript.md"
SHARED = Path(__file__).resolve().parents[2] / "shared"

_SPEAKER = re.compile(r"^###\s*(?P<name>.+?)\s*[：:]\s*$")
_TITLE = re.compile(r"^#\s+(?P<title>.+?)\s*$")
# Sentence ends used to cut subtitle cues; a subset of the turn parser's, so every cue
# holds whole sentences and sentence units come out the same as from the Markdown.
_SENTENCE = re.compile(r"[^。！？]+[。！？]+[」』）]*|[^。！？]+$")


@dataclass
class Turn:
    speaker: str | None  # None for text before the first speaker heading
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class Transcript:
    title: str
    turns: list[Turn]
    markdown: str


def load_transcript(source: Path = TRANSCRIPT) -> Transcript:
    markdown = source.read_text(encoding="utf-8")
    title, turns = "", []
    for line in markdown.splitlines():
        if not line.strip():
            continue
        if m := _TITLE.match(line):
            title = m.group("title")
        elif m := _SPEAKER.match(line):
            turns.append(Turn(m.group("name")))
        else:
            if not turns:
                turns.append(Turn(None))
            turns[-1].paragraphs.append(line.strip())
    return Transcript(title, turns, markdown)


def sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(paragraph) if s.strip()]


def _rows(t: Transcript) -> list[tuple[int, str | None, str]]:
    """(sequence number, speaker, paragraph) for every paragraph."""
    rows = []
    for turn in t.turns:
        for paragraph in turn.paragraphs:
            rows.append((len(rows) + 1, turn.speaker, paragraph))
    return rows


def _date(t: Transcript) -> str:
    m = re.search(r"\d{4}-\d{2}-\d{2}", t.title)
    return m.group(0) if m else ""


# --------------------------------------------------------------------------- text


def write_text(source: Path, dest: Path, encoding: str = "utf-8", bom: bytes = b"",
               newline: str = "\n") -> Path:
    text = load_transcript(source).markdown.replace("\n", newline)
    dest.write_bytes(bom + text.encode(encoding))
    return dest


def write_cp950(source: Path, dest: Path) -> Path:
    # As saved by Notepad on a Taiwanese Windows in "ANSI": CP950 with CRLF line ends.
    return write_text(source, dest, "cp950", newline="\r\n")


def write_utf16(source: Path, dest: Path) -> Path:
    return write_text(source, dest, "utf-16-le", bom=codecs.BOM_UTF16_LE, newline="\r\n")


def write_utf16_be(source: Path, dest: Path) -> Path:
    return write_text(source, dest, "utf-16-be", bom=codecs.BOM_UTF16_BE)


def write_utf8_bom(source: Path, dest: Path) -> Path:
    return write_text(source, dest, "utf-8", bom=codecs.BOM_UTF8, newline="\r\n")


# --------------------------------------------------------------------------- docx


def write_docx(source: Path, dest: Path) -> Path:
    """Title as Heading 1, each speaker as a Heading 3 paragraph `名字：`, then paragraphs."""
    import docx

    t = load_transcript(source)
    document = docx.Document()
    document.add_heading(t.title, level=1)
    for turn in t.turns:
        if turn.speaker is not None:
            document.add_heading(f"{turn.speaker}：", level=3)
        for paragraph in turn.paragraphs:
            document.add_paragraph(paragraph)
    document.save(str(dest))
    return dest


# --------------------------------------------------------------------------- pdf

PDF_FONT = "MSung-Light"
# Characters that may not start a line (Chinese line-breaking rules); they hang at the end
# of the previous line instead, as Word does.
_NO_LINE_START = set("，。、；：？！」』）…%")


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    # Latin words and numbers wrap as a whole; every CJK character is a break opportunity.
    tokens = re.findall(r"[A-Za-z0-9.,'\-]+|\s+|.", text)
    lines, current = [], ""
    for token in tokens:
        if current and stringWidth(current + token, font, size) > width:
            if token in _NO_LINE_START:
                current += token
                continue
            lines.append(current.rstrip())
            current = "" if token.isspace() else token
        else:
            current += token
    if current.strip():
        lines.append(current.rstrip())
    return lines


def write_pdf(source: Path, dest: Path, font_size: float = 12.0) -> Path:
    """The Markdown printed as is (like printing the .md from an editor): A4, wrapped lines,
    extra space between paragraphs, a page number at the bottom of every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    t = load_transcript(source)
    page_w, page_h = A4
    margin, leading = 72.0, font_size * 1.5
    pdf = canvas.Canvas(str(dest), pagesize=A4)
    page = 1

    def footer() -> None:
        pdf.setFont(PDF_FONT, 9)
        pdf.drawCentredString(page_w / 2, margin / 2, str(page))

    y = page_h - margin
    for line in t.markdown.splitlines():
        if not line.strip():
            y -= leading / 2
            continue
        for piece in _wrap(line, PDF_FONT, font_size, page_w - 2 * margin):
            if y < margin:
                footer()
                pdf.showPage()
                page += 1
                y = page_h - margin
            pdf.setFont(PDF_FONT, font_size)
            pdf.drawString(margin, y, piece)
            y -= leading
    footer()
    pdf.save()
    return dest


def write_pdf_no_text(source: Path, dest: Path) -> Path:
    """A PDF with only drawings, like a scan: pages but no text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(dest), pagesize=A4)
    pdf.rect(72, 72, 300, 500, fill=1)
    pdf.showPage()
    pdf.save()
    return dest


# --------------------------------------------------------------------------- subtitles


def _cues(t: Transcript) -> list[tuple[str | None, str, bool]]:
    """(speaker, sentence, first sentence of the turn) per cue."""
    cues = []
    for turn in t.turns:
        first = True
        for paragraph in turn.paragraphs:
            for sentence in sentences(paragraph):
                cues.append((turn.speaker, sentence, first))
                first = False
    return cues


def _timestamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def write_srt(source: Path, dest: Path) -> Path:
    """One sentence per cue; the speaker is named (`名字：`) on a turn's first cue only."""
    t = load_transcript(source)
    blocks = []
    for i, (speaker, sentence, first) in enumerate(_cues(t)):
        start = i * 4.0
        text = f"{speaker}：{sentence}" if first and speaker else sentence
        blocks.append(f"{i + 1}\n{_timestamp(start, ',')} --> {_timestamp(start + 3.5, ',')}\n{text}\n")
    dest.write_text("\n".join(blocks), encoding="utf-8")
    return dest


def write_vtt(source: Path, dest: Path) -> Path:
    """One sentence per cue, each with a voice tag `<v 名字>`, as speech-to-text tools write;
    with a title, a NOTE block, a STYLE block and cue identifiers to be ignored."""
    t = load_transcript(source)
    out = [
        f"WEBVTT - {t.title}\nKind: captions\nLanguage: zh-TW\n",
        "STYLE\n::cue { color: yellow; }\n",
        "NOTE 自動轉寫後人工校對\n",
    ]
    for i, (speaker, sentence, _first) in enumerate(_cues(t)):
        start = i * 4.0
        out.append(
            f"cue-{i + 1}\n{_timestamp(start, '.')} --> {_timestamp(start + 3.5, '.')} line:90%\n"
            + (f"<v {speaker}>{sentence}</v>\n" if speaker else f"{sentence}\n")
        )
    dest.write_text("\n".join(out), encoding="utf-8")
    return dest


# --------------------------------------------------------------------------- tables


def write_csv(source: Path, dest: Path, text_column: str = "text",
              speaker_column: str = "speaker", encoding: str = "utf-8-sig") -> Path:
    """One paragraph per row, as exported by Excel (UTF-8 with BOM, CRLF)."""
    t = load_transcript(source)
    with dest.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["seq", speaker_column, text_column, "date"])
        for seq, speaker, paragraph in _rows(t):
            writer.writerow([seq, speaker, paragraph, _date(t)])
    return dest


def write_xlsx(source: Path, dest: Path, text_column: str = "text",
               speaker_column: str = "speaker") -> Path:
    import openpyxl

    t = load_transcript(source)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["seq", speaker_column, text_column, "date"])
    day = dt.date.fromisoformat(_date(t)) if _date(t) else None
    for seq, speaker, paragraph in _rows(t):
        sheet.append([seq, speaker, paragraph, day])
    workbook.save(dest)
    return dest


def write_jsonl(source: Path, dest: Path) -> Path:
    t = load_transcript(source)
    lines = [
        json.dumps({"seq": seq, "speaker": speaker, "text": paragraph, "date": _date(t)},
                   ensure_ascii=False)
        for seq, speaker, paragraph in _rows(t)
    ]
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


# --------------------------------------------------------------------------- registry


def _copy_md(source: Path, dest: Path) -> Path:
    dest.write_bytes(source.read_bytes())
    return dest


Builder = Callable[[Path, Path], Path]

# name -> (file suffix, builder). Names say what is special about the variant.
FORMATS: dict[str, tuple[str, Builder]] = {
    "md": (".md", _copy_md),
    "txt-cp950": (".txt", write_cp950),
    "txt-utf16": (".txt", write_utf16),
    "txt-utf16be": (".txt", write_utf16_be),
    "txt-utf8bom": (".txt", write_utf8_bom),
    "docx": (".docx", write_docx),
    "pdf": (".pdf", write_pdf),
    "srt": (".srt", write_srt),
    "vtt": (".vtt", write_vtt),
    "csv": (".csv", write_csv),
    "xlsx": (".xlsx", write_xlsx),
    "jsonl": (".jsonl", write_jsonl),
}
# Formats that keep the transcript's line structure (kind "lines").
LINE_FORMATS = ["md", "txt-cp950", "txt-utf16", "txt-utf16be", "txt-utf8bom", "docx", "pdf"]


def build(name: str, dest_dir: Path, source: Path = TRANSCRIPT) -> Path:
    """Write the `name` variant of `source` into dest_dir; returns its path."""
    suffix, builder = FORMATS[name]
    # transcript.pdf, transcript-cp950.txt, ...: every variant can share one folder.
    variant = name.partition("-")[2]
    stem = f"{source.stem}-{variant}" if variant else source.stem
    return builder(source, Path(dest_dir) / f"{stem}{suffix}")


def build_all(dest_dir: Path, source: Path = TRANSCRIPT,
              names: list[str] | None = None) -> dict[str, Path]:
    return {name: build(name, dest_dir, source) for name in names or FORMATS}
