"""Readers: every format of the same transcript gives the same text, and every bad input
gives an error that names the file, the line where there is one, and the reason."""

from __future__ import annotations

import codecs
import json
import random
from pathlib import Path

import pytest
from formats import (
    FORMATS,
    LINE_FORMATS,
    SHARED,
    TRANSCRIPT,
    build,
    load_transcript,
    sentences,
    write_csv,
    write_pdf,
    write_pdf_no_text,
)

from pipeline.config import CsvConfig, IngestConfig
from pipeline.ingest.decode import decode_text
from pipeline.ingest.readers import SUPPORTED, read_document
from pipeline.source import Document, InputError

TITLE = "2023-10-01 淨零公正轉型座談（測試）"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formats")
    return {name: build(name, folder) for name in FORMATS}


@pytest.fixture
def cfg() -> IngestConfig:
    return IngestConfig()


def texts(doc: Document) -> list[str]:
    """Non-blank line texts with runs of whitespace collapsed."""
    return [" ".join(line.text.split()) for line in doc.lines if line.text.strip()]


def paragraphs() -> list[tuple[str | None, str]]:
    return [(turn.speaker, p) for turn in load_transcript().turns for p in turn.paragraphs]


def error(path: Path, cfg: IngestConfig | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        read_document(path, cfg or IngestConfig())
    return info.value


# --------------------------------------------------------------------------- same text


@pytest.mark.parametrize("name", LINE_FORMATS)
def test_line_formats_give_the_same_lines_as_markdown(built, cfg, name):
    expected = texts(read_document(built["md"], cfg))
    doc = read_document(built[name], cfg)
    assert doc.kind == "lines"
    assert texts(doc) == expected
    assert doc.title == TITLE


@pytest.mark.parametrize(("name", "encoding"), [
    ("md", "utf-8"), ("txt-cp950", "cp950"), ("txt-utf16", "utf-16-le"),
    ("txt-utf16be", "utf-16-be"), ("txt-utf8bom", "utf-8-sig"),
])
def test_text_encodings_are_detected(built, cfg, name, encoding):
    doc = read_document(built[name], cfg)
    assert doc.encoding == encoding
    assert "\ufeff" not in doc.lines[0].text
    assert not any("\r" in line.text for line in doc.lines)


@pytest.mark.parametrize("name", ["md", "txt-cp950", "txt-utf16"])
def test_lines_keep_blank_lines_numbers_and_offsets(built, cfg, name):
    doc = read_document(built[name], cfg)
    text, _ = decode_text(built[name], built[name].read_bytes())
    source_lines = TRANSCRIPT.read_text(encoding="utf-8").splitlines()
    assert [line.text for line in doc.lines] == source_lines
    assert [line.lineno for line in doc.lines] == list(range(1, len(source_lines) + 1))
    for line in doc.lines:
        assert text[line.char_start : line.char_start + len(line.text)] == line.text


def test_docx_heading_styles_become_markdown_headings(built, cfg):
    import docx

    styles = [p.style.name for p in docx.Document(str(built["docx"])).paragraphs]
    assert styles[:3] == ["Heading 1", "Heading 3", "Normal"]
    doc = read_document(built["docx"], cfg)
    assert doc.lines[0].text == f"# {TITLE}"
    assert doc.lines[1].text == "### 主持人："
    # One line per paragraph; offsets are into the paragraphs joined with "\n".
    assert [line.lineno for line in doc.lines] == list(range(1, len(doc.lines) + 1))
    joined = "\n".join(line.text for line in doc.lines)
    for line in doc.lines:
        assert joined[line.char_start : line.char_start + len(line.text)] == line.text


def test_docx_tables_follow_the_body_and_merged_cells_count_once(tmp_path, cfg):
    import docx

    document = docx.Document()
    document.add_paragraph("主持人：請大家看一下議程。")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "議程"
    table.cell(1, 0).text = "第一場"
    table.cell(1, 1).text = "能源轉型"
    document.add_paragraph("主持人：謝謝。")
    path = tmp_path / "agenda.docx"
    document.save(str(path))

    doc = read_document(path, cfg)
    assert [line.text for line in doc.lines] == [
        "主持人：請大家看一下議程。", "主持人：謝謝。", "議程", "第一場", "能源轉型", "",
    ]
    assert [line.lineno for line in doc.lines] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("font_size", [9.0, 11.0, 14.0, 20.0])
def test_pdf_rejoins_wrapped_lines_into_the_markdown_paragraphs(tmp_path, cfg, font_size):
    from pypdf import PdfReader

    pdf = write_pdf(TRANSCRIPT, tmp_path / "t.pdf", font_size=font_size)
    doc = read_document(pdf, cfg)
    assert texts(doc) == texts(read_document(TRANSCRIPT, cfg))
    # lineno is the paragraph's first line in the extracted text (pages joined by "\n"),
    # and the page numbers printed in the footer are gone.
    pages = PdfReader(pdf).pages
    extracted = "\n".join((p.extract_text() or "").rstrip("\n") for p in pages).split("\n")
    for line in doc.lines:
        first = extracted[line.lineno - 1]
        assert line.text.startswith(first.strip())
    assert all(not line.text.strip().isdigit() for line in doc.lines)
    if font_size >= 20:
        assert len(pages) > 1


def test_pdf_without_text_layer(tmp_path):
    e = error(write_pdf_no_text(TRANSCRIPT, tmp_path / "scan.pdf"))
    assert "scan.pdf" in str(e) and "no text layer" in str(e) and "OCR" in str(e)


# --------------------------------------------------------------------------- subtitles


def test_srt_keeps_cue_text_with_its_line_numbers(built, cfg):
    doc = read_document(built["srt"], cfg)
    file_lines = built["srt"].read_text(encoding="utf-8").split("\n")
    assert doc.kind == "lines"
    for line in doc.lines:
        assert file_lines[line.lineno - 1] == line.text
        assert "-->" not in line.text and not line.text.isdigit()
    # The speaker is named on the first cue of each turn only.
    expected = []
    for turn in load_transcript().turns:
        said = [s for p in turn.paragraphs for s in sentences(p)]
        expected += [f"{turn.speaker}：{said[0]}", *said[1:]]
    assert [line.text for line in doc.lines] == expected


def test_vtt_voice_tags_become_speaker_labels(built, cfg):
    doc = read_document(built["vtt"], cfg)
    assert doc.title == TITLE
    expected = [f"{speaker}：{s}" for speaker, p in paragraphs() for s in sentences(p)]
    assert [line.text for line in doc.lines] == expected
    file_lines = built["vtt"].read_text(encoding="utf-8").split("\n")
    for line in doc.lines:
        assert line.text.split("：", 1)[1] in file_lines[line.lineno - 1]


def test_vtt_tags_entities_and_blocks(tmp_path, cfg):
    path = tmp_path / "tags.vtt"
    path.write_text(
        "WEBVTT\n\n"
        "NOTE 這段不是字幕\n還是註解\n\n"
        "STYLE\n::cue(.yellow) { color: yellow; }\n\n"
        "1\n00:00:01.000 --> 00:00:03.000\n"
        "<v.loud 林阿姨>電價<c.yellow>要漲</c>，<i>我們</i>怎麼辦？\n"
        "這是同一個人繼續說&amp;補充\n\n"
        "00:00:03.500 --> 00:00:05.000\n"
        "<00:00:03.600><ruby>碳<rt>tàn</rt></ruby>費 &lt; 碳稅\n",
        encoding="utf-8",
    )
    doc = read_document(path, cfg)
    assert [(line.lineno, line.text) for line in doc.lines] == [
        (11, "林阿姨：電價要漲，我們怎麼辦？"),
        (12, "這是同一個人繼續說&補充"),
        (15, "碳費 < 碳稅"),
    ]
    assert doc.title is None


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize("name", ["csv", "xlsx", "jsonl"])
def test_tables_give_one_record_per_row(built, cfg, name):
    doc = read_document(built[name], cfg)
    assert doc.kind == "records"
    assert [(r.speaker, r.text) for r in doc.records] == paragraphs()
    header = 0 if name == "jsonl" else 1
    assert [r.lineno for r in doc.records] == [i + 1 + header for i in range(len(doc.records))]
    assert doc.records[0].meta["date"] == "2023-10-01"
    assert int(doc.records[0].meta["seq"]) == 1
    assert "text" not in doc.records[0].meta and "speaker" not in doc.records[0].meta


def test_csv_text_column_fallback_metadata_columns_and_multiline_cells(tmp_path):
    path = tmp_path / "comments.csv"
    path.write_text(
        "編號,內容,縣市,備註\n"
        '1,"電價調漲要有配套，\n弱勢家庭怎麼辦？",台中市,\n'
        "2,,彰化縣,空白\n"
        "3,希望多辦地方說明會。,南投縣,現場\n",
        encoding="utf-8",
    )
    cfg = IngestConfig(csv=CsvConfig(metadata_columns=["縣市"]))
    doc = read_document(path, cfg)
    assert [(r.lineno, r.text, r.speaker, r.meta) for r in doc.records] == [
        (2, "電價調漲要有配套，\n弱勢家庭怎麼辦？", None, {"縣市": "台中市"}),
        (5, "希望多辦地方說明會。", None, {"縣市": "南投縣"}),
    ]


def test_xlsx_header_below_a_title_row_and_row_numbers_as_excel_shows_them(tmp_path, cfg):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "2023 淨零公正轉型 意見彙整"
    sheet.append([])
    sheet.append(["縣市", "意見"])
    sheet.append(["台中市", "電價調漲要有配套。"])
    sheet.append([None, None])
    sheet.append(["彰化縣", "中小企業需要碳盤查補助。"])
    path = tmp_path / "opinions.xlsx"
    workbook.save(path)

    doc = read_document(path, cfg)
    assert [(r.lineno, r.text, r.meta) for r in doc.records] == [
        (4, "電價調漲要有配套。", {"縣市": "台中市"}),
        (6, "中小企業需要碳盤查補助。", {"縣市": "彰化縣"}),
    ]


def test_csv_in_big5(tmp_path, cfg):
    path = write_csv(TRANSCRIPT, tmp_path / "big5.csv", encoding="cp950")
    doc = read_document(path, cfg)
    assert doc.encoding == "cp950"
    assert [(r.speaker, r.text) for r in doc.records] == paragraphs()


# --------------------------------------------------------------------------- errors


def test_empty_files(tmp_path):
    for name, data in [("empty.md", b""), ("blank.txt", b" \r\n\t\n"),
                       ("bom.txt", codecs.BOM_UTF8), ("bom16.csv", codecs.BOM_UTF16_LE + b" \x00")]:
        path = tmp_path / name
        path.write_bytes(data)
        e = error(path)
        assert name in str(e) and "file is empty" in str(e)


def test_binary_file(tmp_path):
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    e = error(path)
    assert "photo.txt" in str(e) and "binary" in str(e)


@pytest.mark.parametrize(("label", "bad"), [
    ("shift-jis", "会議の記録を保存します。\n".encode("shift_jis")),
    ("euc-jp", "これは日本語のテキストです。会議の記録を保存します。\n".encode("euc_jp")),
    ("random", bytes(random.Random(3).randrange(0x80, 0x100) for _ in range(300))),
])
def test_undecodable_text_names_the_line(tmp_path, label, bad):
    path = tmp_path / f"{label}.txt"
    path.write_bytes("# 會議紀錄\n\n".encode() + bad)
    e = error(path)
    assert e.line == 3
    assert f"{label}.txt:3:" in str(e)
    assert "UTF-8" in str(e) and "Big5" in str(e) and "save it as UTF-8 or Big5" in str(e)


def test_big5_with_a_broken_byte_names_its_line(tmp_path):
    data = "# 座談\n\n主持人：大家好。\n林阿姨：電價會漲嗎？\n".encode("cp950")
    broken = data.replace("電".encode("cp950"), b"\xa3\x80")
    path = tmp_path / "broken.txt"
    path.write_bytes(broken)
    e = error(path)
    assert e.line == 4 and "Big5" in str(e)


def test_oversized_file(built):
    e = error(built["md"], IngestConfig(max_file_mb=0.001))
    assert "transcript.md" in str(e) and "too large" in str(e)
    assert "ingest.max_file_mb" in str(e)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "notes.doc"
    path.write_bytes(b"old word file")
    e = error(path)
    assert "notes.doc" in str(e) and "unsupported" in str(e)
    assert ".docx" in str(e) and ".md" in str(e)


def test_missing_file(tmp_path):
    assert "not found" in str(error(tmp_path / "gone.md"))


def test_csv_without_text_column(tmp_path):
    path = tmp_path / "votes.csv"
    path.write_text("id,姓名,票數\n1,王小明,3\n", encoding="utf-8")
    e = error(path)
    assert e.line == 1
    assert "votes.csv:1:" in str(e) and "no text column" in str(e)
    assert "'姓名'" in str(e) and "'票數'" in str(e) and "ingest.csv.text_column" in str(e)


def test_bad_jsonl_line(tmp_path):
    path = tmp_path / "comments.jsonl"
    lines = [json.dumps({"text": "支持綠電。"}, ensure_ascii=False), "",
             '{"text": "少了引號}', json.dumps({"text": "反對。"}, ensure_ascii=False)]
    path.write_text("\n".join(lines), encoding="utf-8")
    e = error(path)
    assert e.line == 3 and "comments.jsonl:3:" in str(e) and "not valid JSON" in str(e)


def test_password_protected_pdf(tmp_path):
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen import canvas

    path = tmp_path / "locked.pdf"
    pdf = canvas.Canvas(str(path), encrypt=StandardEncryption("secret"))
    pdf.drawString(72, 720, "hello")
    pdf.save()
    e = error(path)
    assert "locked.pdf" in str(e) and "password" in str(e)


def test_documents_without_text(tmp_path):
    import docx

    docx.Document().save(str(tmp_path / "blank.docx"))
    (tmp_path / "blank.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\n\n", encoding="utf-8")
    (tmp_path / "header.csv").write_text("text,speaker\n", encoding="utf-8")
    assert "file is empty" in str(error(tmp_path / "blank.docx"))
    assert "no subtitle text" in str(error(tmp_path / "blank.srt"))
    assert "no rows with text in column 'text'" in str(error(tmp_path / "header.csv"))


def test_corrupt_office_files(tmp_path):
    for name in ("broken.docx", "broken.xlsx", "broken.pdf"):
        path = tmp_path / name
        path.write_bytes(b"this is not really a document" * 10)
        e = error(path)
        assert name in str(e) and "not a readable" in str(e)


# --------------------------------------------------------------------------- misc


def test_decode_text_api():
    text = "第一行\r\n第二行\r第三行"
    assert decode_text(Path("a.txt"), codecs.BOM_UTF8 + text.encode()) == (
        "第一行\n第二行\n第三行", "utf-8-sig")
    assert decode_text(Path("a.txt"), text.encode("cp950"))[1] == "cp950"
    # UTF-16 saved without a byte-order mark.
    assert decode_text(Path("a.txt"), text.encode("utf-16-le")) == (
        "第一行\n第二行\n第三行", "utf-16-le")


def test_every_default_extension_has_a_reader():
    assert set(IngestConfig().extensions) <= set(SUPPORTED)


def test_real_transcript_keeps_every_line(cfg):
    folder = SHARED / "corpora" / "transcripts" / "meetings"
    files = sorted(folder.glob("*.md")) if folder.is_dir() else []
    if not files:
        pytest.skip(f"shared transcripts not found at {folder}")
    path = files[len(files) // 2]
    data = path.read_bytes()
    doc = read_document(path, cfg)
    assert len(doc.lines) == data.count(b"\n") + (not data.endswith(b"\n"))
    assert doc.encoding == "utf-8"
    assert doc.title and doc.lines[0].text == f"# {doc.title}"
