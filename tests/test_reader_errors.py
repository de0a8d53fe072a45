"""One-line errors for bad input files name the file and what to do, but never quote the
transcript text or cell values that made the parser fail (issue 16): errors are printed,
logged and pasted into bug reports."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.ingest.readers.common import error_gist, header_names

PHONE = "0912345678"
EMAIL = "mei.chen@example.org"
COMMENT = "農地種電要先問過在地農民租約的條件應該公開"
NAME = "何佩珊"


def _ingest_error(folder: Path, tmp_path: Path) -> tuple[int, str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = main(["ingest", str(folder), "--out", str(tmp_path / "out"), "--quiet"])
    return code, printed.getvalue()


def _round(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    folder = tmp_path / "round"
    folder.mkdir()
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    return folder


CASES = {
    # No header row: the first row is data, and no column is called text.
    "csv without header": {"c.csv": f"{NAME},{PHONE},{EMAIL},{COMMENT}\n"
                                     f"王小明,0987654321,a@b.org,{COMMENT}\n"},
    "jsonl broken line": {"c.jsonl": f'{{"text": "{COMMENT}", "phone": "{PHONE}"\n'},
    "jsonl without text field": {"c.jsonl": f'{{"{COMMENT}": "{PHONE}"}}\n'},
    "manifest syntax error": {"s01.md": f"### 主持人：\n{COMMENT}\n",
                              "round.yaml": f"sessions:\n  - file: s01.md\n"
                                            f"    officials: [{NAME}, {PHONE}\n"},
    "manifest bad date": {"s01.md": f"### 主持人：\n{COMMENT}\n",
                          "round.yaml": f"sessions:\n  - file: s01.md\n"
                                        f"    date: {NAME}{PHONE}\n"},
    "broken docx": {"s01.docx": f"PK\x03\x04{NAME}{PHONE}{COMMENT}".encode()},
    "broken xlsx": {"s01.xlsx": f"PK\x03\x04{NAME}{PHONE}{COMMENT}".encode()},
}


@pytest.mark.parametrize("case", list(CASES))
def test_input_error_quotes_no_content(case: str, tmp_path: Path):
    files = CASES[case]
    code, printed = _ingest_error(_round(tmp_path, files), tmp_path)
    assert code == 2, printed
    # The file is named, the error is one line.
    lines = [ln for ln in printed.splitlines() if ln.strip()]
    assert len(lines) == 1, printed
    assert any(name in printed for name in files)
    secrets = [PHONE, EMAIL, COMMENT, COMMENT[:6], "0987654321"]
    # A name is a header only in a file with a header row; in a manifest it is content.
    if "manifest" in case or "broken" in case:
        secrets.append(NAME)
    assert not [s for s in secrets if s in printed], printed


def test_error_gist_drops_quoted_text_and_is_short():
    e = ValueError(f"invalid literal for int() with base 10: '{NAME}{PHONE}' near \"{COMMENT}\"")
    gist = error_gist(e)
    assert gist.startswith("ValueError: invalid literal for int()")
    assert NAME not in gist and PHONE not in gist and COMMENT not in gist
    assert len(error_gist(ValueError("x" * 1000))) < 140


def test_header_names_shown_but_data_like_cells_as_positions():
    shown = header_names(["意見", "聯絡電話", PHONE, EMAIL, COMMENT * 2, ""])
    assert "'意見'" in shown and "'聯絡電話'" in shown
    assert "#3" in shown and "#4" in shown and "#5" in shown
    assert PHONE not in shown and EMAIL not in shown and COMMENT not in shown
