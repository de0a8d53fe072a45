"""report.docx: the report as a Word document for circulation in a ministry.

Built from each section's Markdown lines (report/sections/), so the document has the same
sections, headings, tables and quotes with their sources as report.md and the HTML, and a
new section appears here without code of its own; a section's `figures` (the charts as PNG,
chart_images.py) follow its heading. Text reaches the document only as runs of plain text
(python-docx escapes XML), never as fields or markup.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from pipeline.config import Config
from pipeline.report.mdtext import render_markdown_head
from pipeline.report.model import RunData
from pipeline.report.sections import SECTIONS, numbered

# Word on a Taiwanese ministry desktop has 微軟正黑體; LibreOffice substitutes a CJK font.
EAST_ASIAN_FONT = "Microsoft JhengHei"
_UNESCAPE = re.compile(r"\\([\\`*_\[\]|~#+=\-.():/!<>{}])")
_INLINE = re.compile(r"(?<!\\)\*\*(.+?)(?<!\\)\*\*|`([^`]*)`")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_FENCE = re.compile(r"^(~{3,}|`{3,})")


def plain(s: str) -> str:
    """Markdown text as written by markdown.md() back to the text itself."""
    return html.unescape(_UNESCAPE.sub(r"\1", s))


def _runs(par: Paragraph, text: str, italic: bool = False) -> None:
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            par.add_run(plain(text[pos:m.start()])).italic = italic
        if m.group(1) is not None:
            r = par.add_run(plain(m.group(1)))
            r.bold = True
        else:
            r = par.add_run(m.group(2))
            r.font.name = "Consolas"
        r.italic = italic
        pos = m.end()
    if pos < len(text):
        par.add_run(plain(text[pos:])).italic = italic


def _cells(line: str) -> list[str]:
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    return [c.strip() for c in _CELL_SPLIT.split(inner)]


def _blocks(lines: list[str]) -> Iterator[tuple[str, list[str]]]:
    """(kind, lines): heading1-4, table, quote, list, code, rule, text."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if _FENCE.match(line):
            fence = _FENCE.match(line).group(1)
            j = i + 1
            while j < len(lines) and not lines[j].startswith(fence):
                j += 1
            yield "code", lines[i + 1:j]
            i = j + 1
            continue
        m = re.match(r"^(#{1,4}) (.*)$", line)
        if m:
            yield f"heading{len(m.group(1))}", [m.group(2)]
        elif line.startswith("|"):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            yield "table", lines[i:j]
            i = j
            continue
        elif line.startswith(">"):
            j = i
            while j < len(lines) and lines[j].startswith(">"):
                j += 1
            yield "quote", [x[1:].strip() for x in lines[i:j] if x[1:].strip()]
            i = j
            continue
        elif line.startswith("- "):
            yield "list", [line[2:]]
        elif line.strip() == "---":
            yield "rule", []
        else:
            yield "text", [line.strip()]
        i += 1


def _table(doc: Document, rows: list[str]) -> None:
    body = [r for r in rows if not re.fullmatch(r"\|(-{3}\|)+", r.strip())]
    cells = [_cells(r) for r in body]
    width = max(len(r) for r in cells)
    t = doc.add_table(rows=len(cells), cols=width)
    t.style = "Table Grid"
    # Row by row: `Table.cell(i, j)` walks the whole grid on every call, which made a large
    # round's tables quadratic (minutes for a 25-meeting round).
    for i, (row, tr) in enumerate(zip(cells, t.rows, strict=True)):
        for j, cell in enumerate(tr.cells):
            par = cell.paragraphs[0]
            _runs(par, row[j] if j < len(row) else "")
            for r in par.runs:
                r.font.size = Pt(9)
                r.bold = r.bold or i == 0
    doc.add_paragraph()


def _add(doc: Document, lines: list[str], figures: list[tuple[str, bytes]]) -> None:
    for kind, block in _blocks(lines):
        if kind.startswith("heading"):
            level = int(kind[-1])
            doc.add_heading(plain(block[0]), level=level - 1)  # 0 = the document's title
            if level == 2:
                for title, png in figures:
                    doc.add_picture(io.BytesIO(png), width=Cm(16))
                    cap = doc.add_paragraph(title, style="Caption")
                    cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
                figures = []
        elif kind == "table":
            _table(doc, block)
        elif kind == "quote":
            for x in block:
                par = doc.add_paragraph(style="Quote")
                _runs(par, x)
        elif kind == "list":
            _runs(doc.add_paragraph(style="List Bullet"), block[0])
        elif kind == "code":
            par = doc.add_paragraph()
            r = par.add_run("\n".join(block))
            r.font.name = "Consolas"
            r.font.size = Pt(8)
        elif kind == "rule":
            doc.add_paragraph("—" * 20)
        else:
            _runs(doc.add_paragraph(), block[0])


def _style(doc: Document, lang: str) -> None:
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang_el)
    lang_el.set(qn("w:eastAsia"), "zh-TW" if lang == "zh-TW" else "en-US")
    lang_el.set(qn("w:val"), "zh-TW" if lang == "zh-TW" else "en-US")


def render_docx(run: RunData, cfg: Config, L: dict[str, str]) -> bytes:
    doc = Document()
    _style(doc, cfg.report.language)
    doc.core_properties.title = f"{L['title']} {run.round}"
    doc.core_properties.language = cfg.report.language
    lines = render_markdown_head(run, L)
    _add(doc, lines, [])
    for n, section in numbered(SECTIONS, run):
        figures = section.figures(run, cfg, L) if section.figures else []
        _add(doc, section.markdown(run, cfg, L, n), figures)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
