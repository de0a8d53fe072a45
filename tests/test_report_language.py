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
from test_report_comments import make_comments_run

from pipeline.config import load_config
from pipeline.report import render_report

FIXTURE = Path(__file__).parent / "fixtures" / "report" / "run"
# Sheet names and column headers are short: one English word ("campaigns", "agree") is already
# a header in the wrong language. Abbreviations that are the same in both (SHA-256) are kept.
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
SAME_IN_BOTH = frozenset({"SHA"})
# Three or more English words in a row: a sentence or phrase, not a name or an identifier.
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'’]+(?:[ ,;:()-]+[A-Za-z][A-Za-z'’]+){2,}")


@pytest.fixture(scope="module", params=["transcripts", "comments"])
def rendered(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture run, and the same run with a comments round's files (campaigns, breakdown,
    votes) so the written-comments section and its sheets are checked too."""
    run_dir = Path(shutil.copytree(FIXTURE, tmp_path_factory.mktemp(request.param) / "run"))
    if request.param == "comments":
        make_comments_run(run_dir)
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


def xlsx_names(path: Path) -> list[str]:
    """Every sheet's name and column headers (the first row)."""
    out = []
    for ws in load_workbook(path).worksheets:
        out.append(ws.title)
        out += [str(v) for v in next(ws.iter_rows(max_row=1, values_only=True), ()) if v]
    return out


def english_names(names: list[str]) -> list[str]:
    return sorted({n for n in names if set(LATIN_WORD.findall(n)) - SAME_IN_BOTH})


def test_zh_tw_workbook_names_and_headers_are_chinese(rendered):
    names = xlsx_names(rendered["xlsx"])
    assert "主題" in names and "說明" in names
    assert english_names(names) == []


def test_english_name_check_can_fail():
    assert english_names(["範本意見", "by_縣市", "agree", "SHA-256", "主題 1：電價"]) == [
        "agree", "by_縣市"]


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


def _numbers_comment_sheets(path: Path) -> list[dict[int, str]]:
    """Theme numbers on the written-comments sheets: the agreement sheet's rows, the
    breakdown sheets' theme columns and the templates' theme cells ("主題 n：label")."""
    wb = load_workbook(path)
    out = []
    if "贊同程度" in wb.sheetnames:
        out.append({int(r[0]): r[1] for r in list(wb["贊同程度"].iter_rows(values_only=True))[1:]})
    for name in wb.sheetnames:
        if name.startswith("依"):
            header = next(wb[name].iter_rows(max_row=1, values_only=True))
            out.append({int(m.group(1)): m.group(2) for m in (
                re.fullmatch(r"主題 (\d+)：(.+)", str(h)) for h in header) if m})
    if "範本意見" in wb.sheetnames:
        out.append({int(m.group(1)): m.group(2) for m in (
            re.fullmatch(r"主題 (\d+)：(.+)", str(r[4] or ""))
            for r in list(wb["範本意見"].iter_rows(values_only=True))[1:]) if m})
    return out


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
    comment_sheets = _numbers_comment_sheets(rendered["xlsx"])
    if "comments" in str(rendered["xlsx"]):
        assert len(comment_sheets) == 3 and all(comment_sheets)
    for numbers in comment_sheets:
        assert numbers.items() <= want.items()


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


def untranslated(zh: dict[str, str], en: dict[str, str]) -> list[str]:
    """Label keys an English report would show in Chinese: missing, or the zh text copied."""
    cjk = re.compile(r"[\u3400-\u9fff]")
    return sorted(k for k in zh if k not in en or (en[k] == zh[k] and cjk.search(zh[k])))


def test_every_label_has_an_english_value():
    from pipeline.report.labels import EN, ZH_TW

    assert untranslated(ZH_TW, EN) == []
    assert set(EN) == set(ZH_TW)
    assert untranslated({"a": "主題", "b": "SHA-256", "c": "主題"}, {"b": "SHA-256", "c": "主題"}) \
        == ["a", "c"]
