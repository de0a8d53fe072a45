"""Fuzzing the readers and the round manifest loader (issue 16): whatever the bytes, reading
either works or fails with an error the CLI prints as one line (failures.expected_message);
never another exception, never a hang. Bounded: a fixed number of examples per target and
a per-example deadline, about a minute in all on a laptop; derandomized so CI is repeatable.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import failures
from pipeline.config import IngestConfig
from pipeline.ingest.manifest import load_round
from pipeline.ingest.readers import read_document

FUZZ = settings(max_examples=60, deadline=5000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
CFG = IngestConfig(max_unzipped_mb=2, max_zip_entries=200)

# Bytes that matter to the text formats: speaker labels, timestamps, CSV and JSON syntax,
# CJK in UTF-8 and Big5, BOMs, NUL and control bytes.
_PIECES = [b"### ", "王小明：".encode(), "王小明：".encode("cp950"), b"\n", b"\r\n", b",",
           b'"', b"{", b"}", b"[", b"]", b":", b"00:00:01,000 --> 00:00:02,000\n", b"WEBVTT\n",
           b"<v A>", b'{"text": "', b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\x1b", b"\xe9",
           "淨零轉型".encode(), b"text,speaker\n", b"\\"]
text_bytes = st.lists(st.one_of(st.sampled_from(_PIECES), st.binary(max_size=8)),
                      max_size=60).map(b"".join)


def _expected(e: BaseException) -> bool:
    return failures.expected_message(e) is not None


def _check_read(path: Path) -> None:
    try:
        read_document(path, CFG)
    except Exception as e:  # the point: every exception must be an expected one
        assert _expected(e), f"{type(e).__name__}: {e}"


@pytest.mark.parametrize("ext", [".md", ".txt", ".srt", ".vtt", ".csv", ".jsonl"])
@FUZZ
@given(data=text_bytes)
def test_text_readers_never_raise_a_bug(tmp_path, ext, data):
    path = tmp_path / f"f{ext}"
    path.write_bytes(data)
    _check_read(path)


def _docx_template() -> dict[str, bytes]:
    d = docx.Document()
    d.add_paragraph("x")
    buf = io.BytesIO()
    d.save(buf)
    with zipfile.ZipFile(buf) as z:
        return {n: z.read(n) for n in z.namelist()}


_DOCX = _docx_template()
xml_bytes = st.lists(st.sampled_from([b"<w:p>", b"</w:p>", b"<w:r>", b"</w:r>", b"<w:t>",
                                      b"</w:t>", "發言".encode(), b"&", b"<!DOCTYPE x [",
                                      b"<!ENTITY a 'b'>", b"]>", b"&a;", b"\x00", b"<w:tbl>"]),
                     max_size=40).map(b"".join)


@FUZZ
@given(body=xml_bytes, drop=st.sampled_from([None, "word/styles.xml", "[Content_Types].xml"]),
       truncate=st.integers(min_value=0, max_value=3000))
def test_docx_reader_never_raises_a_bug(tmp_path, body, drop, truncate):
    """A real .docx with a fuzzed body, a missing part, or cut short."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in _DOCX.items():
            if name == drop:
                continue
            if name == "word/document.xml":
                head, _ = data.split(b"<w:body>")
                data = head + b"<w:body>" + body + b"</w:body></w:document>"
            z.writestr(name, data)
    raw = buf.getvalue()
    path = tmp_path / "f.docx"
    path.write_bytes(raw[: len(raw) - truncate] if truncate else raw)
    _check_read(path)


@pytest.mark.parametrize("ext", [".xlsx", ".pdf"])
@FUZZ
@given(data=st.binary(max_size=2000))
def test_binary_readers_never_raise_a_bug_on_garbage(tmp_path, ext, data):
    path = tmp_path / f"f{ext}"
    path.write_bytes(data)
    _check_read(path)


# Manifests: random YAML-ish text, and structured documents with hostile values.
_YAML_PIECES = ["round: ", "sessions:\n", "  - ", "id: ", "file: ", "date: ", "a.md", "../x",
                "/etc/passwd", "&a ", "*a", "[", "]", "{", "}", ": ", "\n", "    ", "- ",
                "2023-13-45", "112/09/15", "明天", "'", '"', "#", "!!python/object:os.system",
                "~", "null", "1e9", "<<: *a\n", "\t", "%YAML 1.1\n", "---\n", "...\n"]
yaml_text = st.lists(st.sampled_from(_YAML_PIECES), max_size=50).map("".join)
values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                   st.text(max_size=20),
                   st.sampled_from(["a.md", "b.md", "../a.md", "/etc/passwd", "a.md/", ".",
                                    "2023-13-45", "112/09/15", "明天", "15/09/2023", "s:1"]))
session = st.dictionaries(st.sampled_from(["id", "file", "date", "type", "names", "officials",
                                           "participants", "title", "extra"]),
                          st.one_of(values, st.lists(values, max_size=3)), max_size=6)
manifest_doc = st.fixed_dictionaries({"sessions": st.one_of(values, st.lists(session,
                                                                             max_size=4))},
                                     optional={"round": values, "title": values})


def _check_manifest(folder: Path, text: str) -> None:
    (folder / "round.yaml").write_text(text, encoding="utf-8")
    try:
        load_round(folder, "round.yaml", [".md"])
    except Exception as e:
        assert _expected(e), f"{type(e).__name__}: {e}"


@pytest.fixture
def round_folder(tmp_path: Path) -> Path:
    d = tmp_path / "round"
    d.mkdir()
    for name in ("a.md", "b.md"):
        (d / name).write_text("### 王小明：\n淨零轉型。\n", encoding="utf-8")
    return d


@FUZZ
@given(text=yaml_text)
def test_manifest_loader_never_raises_a_bug_on_yaml_like_text(round_folder, text):
    _check_manifest(round_folder, text)


@FUZZ
@given(doc=manifest_doc)
def test_manifest_loader_never_raises_a_bug_on_hostile_values(round_folder, doc):
    _check_manifest(round_folder, yaml.safe_dump(doc, allow_unicode=True))
