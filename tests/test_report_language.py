"""One language per report, one numbering of themes in every format.

A zh-TW report holds no English sentence (HTML, Markdown, Word); theme numbers (主題 n) name
the same theme in report.html, report.md, themes.xlsx and report.docx; report.docx opens in
LibreOffice (converted to PDF headlessly) with its sections' text. Transcript text (quotes),
code (file names, hashes, the configuration listing) and package names are data, not the
report's language, and are left out of the language check.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from pipeline.config import load_config
from pipeline.report import render_report

FIXTURE = Path(__file__).parent / "fixtures" / "report" / "run"
# Three or more English words in a row: a sentence or phrase, not a name or an identifier.
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'’]+(?:[ ,;:()-]+[A-Za-z][A-Za-z'’]+){2,}")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    run_dir = Path(shutil.copytree(FIXTURE, tmp_path_factory.mktemp("run") / "run"))
    return render_report(run_dir, load_config(None, ["report.language=zh-TW"]))


class _Visible(HTMLParser):
    """Text a reader sees, without quotes, code and scripts."""

    SKIP = frozenset({"script", "style", "code", "pre", "blockquote", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def html_text(path: Path) -> str:
    p = _Visible()
    p.feed(path.read_text(encoding="utf-8"))
    return "\n".join(p.parts)


def md_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"~~~~~~~~yaml.*?~~~~~~~~", "", text, flags=re.S)
    lines = [ln for ln in text.splitlines() if not ln.startswith(">")]
    from pipeline.report.docx import plain

    return plain(re.sub(r"`[^`]*`", "", "\n".join(lines)))


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    out = []
    paragraphs = list(doc.paragraphs) + [p for t in doc.tables for row in t.rows
                                         for c in row.cells for p in c.paragraphs]
    for p in paragraphs:
        if p.style is not None and p.style.name == "Quote":
            continue
        out.append("".join(r.text for r in p.runs if r.font.name != "Consolas"))
    return "\n".join(out)


def english_sentences(text: str) -> list[str]:
    return sorted(set(ENGLISH.findall(text)))


@pytest.mark.parametrize("fmt", ["html", "md", "docx"])
def test_zh_tw_report_has_no_english_sentence(rendered, fmt):
    text = {"html": html_text, "md": md_text, "docx": docx_text}[fmt](rendered[fmt])
    assert "主題" in text
    assert english_sentences(text) == []


def test_english_sentence_check_can_fail():
    assert english_sentences("理由：15 of 19 units are about net-zero。") == [
        "of 19 units are about net-zero"[6:]]
    assert english_sentences("電價、UberX、CO2 與 sha256 值") == []


def _numbers_html(path: Path) -> dict[int, str]:
    import html as h

    text = path.read_text(encoding="utf-8")
    return {int(n): h.unescape(label).strip() for n, label in re.findall(
        r'<span class="num">主題 (\d+)</span> ([^<]+)</h3>', text)}


def _numbers_md(path: Path) -> dict[int, str]:
    from pipeline.report.docx import plain

    return {int(n): plain(label) for n, label in re.findall(
        r"^### 主題 (\d+)：(.+)$", path.read_text(encoding="utf-8"), flags=re.M)}


def _numbers_xlsx(path: Path) -> dict[int, str]:
    rows = list(load_workbook(path)["主題"].iter_rows(values_only=True))[1:]
    return {int(r[0]): r[1] for r in rows}


def _numbers_docx(path: Path) -> dict[int, str]:
    out = {}
    for p in Document(str(path)).paragraphs:
        m = re.fullmatch(r"主題 (\d+)：(.+)", p.text)
        if m and p.style.name.startswith("Heading 2"):
            out[int(m.group(1))] = m.group(2)
    return out


def _numbers_charts(path: Path) -> dict[int, str]:
    """The theme-size chart's bars: "n. label" (their <title> holds the full label)."""
    import html as h

    text = path.read_text(encoding="utf-8")
    chart = text[text.index('id="chart-sizes"'):]
    chart = chart[:chart.index("</figure>")]
    return {int(n): h.unescape(label) for n, label in re.findall(
        r"<title>(\d+)\. ([^<]+?)：\d", chart)}


def test_theme_numbers_agree_across_formats(rendered):
    import json

    doc = json.loads((FIXTURE / "themes.json").read_text(encoding="utf-8"))
    want = {i: t["label"] for i, t in enumerate(
        (t for t in doc["themes"] if str(t["id"]) != "-1"), start=1)}
    assert len(want) > 2
    assert _numbers_html(rendered["html"]) == want
    assert _numbers_md(rendered["md"]) == want
    assert _numbers_xlsx(rendered["xlsx"]) == want
    assert _numbers_docx(rendered["docx"]) == want
    assert _numbers_charts(rendered["html"]) == want


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="needs LibreOffice (apt-get install "
                    "libreoffice-writer; `make test` installs it)")
def test_docx_converts_to_pdf_with_its_sections(rendered, tmp_path: Path):
    out = tmp_path / "pdf"
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(out), str(rendered["docx"])],
                   check=True, capture_output=True, timeout=300)
    pdf = out / "report.pdf"
    assert pdf.stat().st_size > 10_000
    from pypdf import PdfReader

    text = "".join(page.extract_text() or "" for page in PdfReader(str(pdf)).pages)
    text = re.sub(r"\s+", "", text)
    for heading in ("總覽", "反饋調整戰略", "各類場次的意見", "諮商過程回饋", "主題", "圖表",
                    "方法與來源"):
        assert heading in text, heading
    first = _numbers_docx(rendered["docx"])[1]
    assert re.sub(r"\s+", "", first)[:8] in text
