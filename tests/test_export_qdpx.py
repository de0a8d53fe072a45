"""`consult export RUN_DIR --format qdpx`: a REFI-QDA project of a finished run, checked against
the published schema and read back by an independent reader (pyqdpx, tests/qdpx_reader.py).

The slow tests export a real run of the sample round; the fast ones the report fixture run
(hostile text, an older unit_areas table) and a copy of it with characters outside the BMP."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from lxml import etree
from qdpx_reader import read_back, validate

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.runner import run

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpora" / "sample-round"
NS = {"q": "urn:QDA-XML:project:1.0"}


def export(run_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> Path:
    code = main(["export", str(run_dir), "--format", "qdpx", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    path = Path(out.strip().splitlines()[-1])
    assert path.is_file() and path.suffix == ".qdpx"
    return path


def project_xml(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("project.qde"))


def units_by_id(run_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "units.parquet").set_index("unit_id")


# --- a real run of the sample round -------------------------------------------------------

@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    html = run("run", SAMPLE, load_config(None, []), tmp_path_factory.mktemp("reports"),
               quiet=True)
    return html.parent


@pytest.mark.slow
def test_sample_round_export_is_valid_and_reads_back(sample_run: Path, capsys):
    path = export(sample_run, capsys=capsys)
    assert path == sample_run / "round.qdpx"
    assert validate(path) == []
    back = read_back(path)
    units = units_by_id(sample_run)
    analysed = units[units["analysed"]]
    # One source per session; every coded selection is exactly its unit's text.
    assert len(back["sources"]) == units["session_id"].nunique() == 6
    assert back["selections"]
    for sel in back["selections"]:
        assert sel["text"] == units.loc[sel["unit_id"], "text"], sel
    # Every analysed unit is coded with its theme, named as the report numbers it (主題 n).
    themes = json.loads((sample_run / "themes.json").read_text(encoding="utf-8"))
    ut = pd.read_parquet(sample_run / "unit_themes.parquet").set_index("unit_id")
    theme_names = {f"主題 {n}：{t['label'].split('｜')[0]}": t["id"]
                   for n, t in enumerate(themes["themes"], start=1)}
    coded = {s["unit_id"]: theme_names[s["code"]] for s in back["selections"]
             if s["code"] in theme_names}
    assert set(coded) == set(analysed.index)
    assert all(ut.loc[u, "theme_id"] == t for u, t in coded.items())
    # Strategy areas, JT dimensions and focuses are codes with the framework's zh-TW names.
    areas = pd.read_parquet(sample_run / "unit_areas.parquet").drop_duplicates("unit_id")
    area_units = areas[areas["key_area"] != "NONE"]
    by_code: dict[str, set[str]] = {}
    for s in back["selections"]:
        by_code.setdefault(s["code"], set()).add(s["unit_id"])
    assert by_code["公正轉型"] == set(area_units.loc[area_units["key_area"] == "S12", "unit_id"])
    assert by_code["勞動市場"] == {r.unit_id for r in areas.itertuples()
                                  if "勞動市場" in list(r.jt_dimensions)}
    assert by_code["配套與執行協調"] == set(areas.loc[areas["focus"] == "配套與執行協調",
                                                 "unit_id"])
    for group in ["主題", "戰略領域", "公正轉型面向", "諮商重點"]:
        assert not back["codes"][group].is_codable
    # The stance stage's unit_stance.parquet: every analysed unit coded with its stance.
    names = {"proposal": "建議", "concern": "擔憂", "support": "支持", "opposition": "反對",
             "question": "提問", "statement": "陳述"}
    stances = pd.read_parquet(sample_run / "unit_stance.parquet")
    coded_stance = {s["unit_id"]: s["code"] for s in back["selections"]
                    if s["code"] in set(names.values())}
    assert coded_stance == {u: names[v] for u, v in zip(stances["unit_id"], stances["stance"],
                                                        strict=True)}
    assert set(coded_stance) == set(analysed.index)


@pytest.mark.slow
def test_sources_hold_every_unit_in_order_and_sessions_are_cases(sample_run: Path, capsys):
    path = export(sample_run, capsys=capsys)
    back = read_back(path)
    units = pd.read_parquet(sample_run / "units.parquet")
    root = project_xml(path)
    names = {}
    for src in root.iterfind("q:Sources/q:TextSource", NS):
        names[src.get("guid")] = src.get("name")
    for sid, g in units.groupby("session_id"):
        (text,) = [t for n, t in back["sources"].items() if n.split(" ")[0] == sid]
        pos, rest = 0, []
        for unit_text in g.sort_values(["turn", "seq"])["text"]:
            # Moderators' and procedural units stay in the text, in transcript order.
            at = text.index(unit_text, pos)
            rest.append(text[pos:at])
            pos = at + len(unit_text)
        rest.append(text[pos:])
        # Besides the redacted units there are only pseudonyms and separators.
        pseudonyms = set(g["speaker"].dropna())
        for piece in "".join(rest).split("\n"):
            assert piece.strip(" ").removesuffix("：") in pseudonyms | {""}, piece
    # The speakers' real names (the Markdown transcripts' headings) are in no file of it.
    with zipfile.ZipFile(path) as z:
        exported = "".join(z.read(n).decode("utf-8") for n in z.namelist())
    headings = [h.removeprefix("### ").rstrip("：") for f in SAMPLE.glob("*.md")
             for h in f.read_text(encoding="utf-8").splitlines() if h.startswith("### ")]
    people = [n for n in headings if len(n) == 3 and n != "主持人"]
    assert len(people) >= 5
    assert not [n for n in people if n in exported]
    cases = root.findall("q:Cases/q:Case", NS)
    assert len(cases) == units["session_id"].nunique()
    variables = {v.get("guid"): v.get("name") for v in root.iterfind("q:Variables/q:Variable", NS)}
    assert {"場次編號", "場次類型", "地點", "日期", "單元數"} <= set(variables.values())
    for case in cases:
        (ref,) = case.findall("q:SourceRef", NS)
        assert names[ref.get("targetGUID")] == case.get("name")
        values = {variables[vv.find("q:VariableRef", NS).get("targetGUID")]: vv[1].text
                  for vv in case.iterfind("q:VariableValue", NS)}
        sid = values["場次編號"]
        g = units[units["session_id"] == sid]
        assert values["場次類型"] == g["session_type"].iloc[0]
        assert int(values["單元數"]) == len(g)


@pytest.mark.slow
def test_export_is_byte_identical_and_has_stable_guids(sample_run: Path, tmp_path: Path, capsys):
    a = export(sample_run, "--out", str(tmp_path / "a.qdpx"), capsys=capsys)
    b = export(sample_run, "--out", str(tmp_path), capsys=capsys)
    assert b == tmp_path / "round.qdpx"
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        infos = z.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert infos[0].filename == "project.qde"
    assert all(i.filename.startswith("sources/") for i in infos[1:])
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert not list(tmp_path.glob(".*"))  # no temp file left behind


@pytest.mark.slow
def test_stances_become_codes_when_the_run_has_them(sample_run: Path, tmp_path: Path, capsys):
    run_dir = Path(shutil.copytree(sample_run, tmp_path / "run"))
    units = pd.read_parquet(run_dir / "units.parquet")
    analysed = units[units["analysed"]]
    # Stand-in stances (the stance stage writes this file): by a visible cue of each unit.
    stance = ["question" if "？" in t or "嗎" in t else "concern" if "擔心" in t
              else "statement" for t in analysed["text"]]
    pd.DataFrame({"unit_id": analysed["unit_id"], "stance": stance, "probability": 0.8,
                  "evidence": ["？" if s == "question" else "擔心" if s == "concern" else ""
                               for s in stance]}).to_parquet(run_dir / "unit_stance.parquet")
    path = export(run_dir, capsys=capsys)
    assert validate(path) == []
    back = read_back(path)
    assert not back["codes"]["立場"].is_codable
    assert {"建議", "擔憂", "支持", "反對", "提問", "陳述"} <= set(back["codes"])
    coded = {s["unit_id"]: s for s in back["selections"] if s["code"] in {"擔憂", "提問", "陳述"}}
    assert set(coded) == set(analysed["unit_id"])
    want = dict(zip(analysed["unit_id"], stance, strict=True))
    names = {"question": "提問", "concern": "擔憂", "statement": "陳述"}
    assert all(s["code"] == names[want[u]] for u, s in coded.items())
    concern = next(s for s in coded.values() if s["code"] == "擔憂")
    assert "依據：擔心" in concern["description"] and "機率 0.80" in concern["description"]


# --- the report fixture run: hostile text, an older unit_areas table ----------------------

@pytest.fixture
def fixture_run(report_run: Path) -> Path:
    return report_run


def test_hostile_text_is_plain_text_in_sources_and_escaped_in_xml(fixture_run: Path, capsys):
    path = export(fixture_run, capsys=capsys)
    assert validate(path) == []
    back = read_back(path)
    units = units_by_id(fixture_run)
    hostile = [t for t in units["text"] if "<" in t or t.startswith("=")]
    assert hostile, "the fixture has units with markup and formulas"
    texts = "\n".join(back["sources"].values())
    for t in hostile:
        assert t in texts
    for sel in back["selections"]:
        assert sel["text"] == units.loc[sel["unit_id"], "text"]
    # The older table (unit_id, area_id, score): each unit's best area is its code.
    ua = pd.read_parquet(fixture_run / "unit_areas.parquet")
    best = ua.sort_values("score", ascending=False, kind="stable").drop_duplicates("unit_id")
    s12 = {s["unit_id"] for s in back["selections"] if s["code"] == "公正轉型"}
    analysed = set(units.index[units["analysed"]])
    assert s12 == set(best.loc[best["area_id"] == "S12", "unit_id"]) & analysed


def test_offsets_count_utf16_units_by_default_and_code_points_on_request(
        fixture_run: Path, tmp_path: Path, capsys):
    units = pd.read_parquet(fixture_run / "units.parquet")
    # A CJK extension-B ideograph and an emoji (each two UTF-16 units) early in a session.
    first = units.index[units["session_id"] == "s01"][0]
    units.loc[first, "text"] = "𠀋𠀋先說一下😀，" + units.loc[first, "text"]
    units.to_parquet(fixture_run / "units.parquet", index=False)
    by_id = units.set_index("unit_id")

    utf16 = export(fixture_run, "--out", str(tmp_path / "u.qdpx"), capsys=capsys)
    assert validate(utf16) == []
    back = read_back(utf16)  # pyqdpx counts as NVivo does: UTF-16 code units
    assert back["selections"]
    for sel in back["selections"]:
        assert sel["text"] == by_id.loc[sel["unit_id"], "text"]

    points = export(fixture_run, "--out", str(tmp_path / "p.qdpx"), "--offsets", "codepoints",
                    capsys=capsys)
    assert validate(points) == []
    # Code points: what QualCoder does with them, slicing the source as a Python string.
    root = project_xml(points)
    with zipfile.ZipFile(points) as z:
        for src in root.iterfind("q:Sources/q:TextSource", NS):
            text = z.read(f"sources/{src.get('guid')}.txt").decode("utf-8")
            assert not text.startswith("\ufeff")
            for sel in src.iterfind("q:PlainTextSelection", NS):
                a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
                assert text[a:b] == by_id.loc[sel.get("name"), "text"]
    # The two differ by the 3 astral characters before every s01 selection after the first unit.
    start = {s.get("guid"): int(s.get("startPosition"))
             for s in project_xml(utf16).iterfind(".//q:PlainTextSelection", NS)}
    shifts = {start[s.get("guid")] - int(s.get("startPosition"))
              for s in root.iterfind(".//q:PlainTextSelection", NS)}
    assert shifts == {0, 3}


def test_a_folder_that_is_not_a_run_is_a_one_line_error(tmp_path: Path, capsys):
    code = main(["export", str(tmp_path), "--format", "qdpx"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip().count("\n") == 0
    assert str(tmp_path) in err and "not a finished run folder" in err
    assert not list(tmp_path.iterdir())


def test_a_run_without_mapping_or_themes_exports_what_it_has(fixture_run: Path, capsys):
    (fixture_run / "unit_areas.parquet").unlink()
    path = export(fixture_run, capsys=capsys)
    assert validate(path) == []
    groups = [c.get("name") for c in project_xml(path).iterfind("q:CodeBook/q:Codes/q:Code", NS)]
    assert groups == ["主題"]
    for name in ["themes.json", "unit_themes.parquet"]:
        (fixture_run / name).unlink()
    path = export(fixture_run, capsys=capsys)
    assert validate(path) == []
    root = project_xml(path)
    assert root.find("q:CodeBook", NS) is None
    assert root.find(".//q:PlainTextSelection", NS) is None
    assert len(read_back(path)["sources"]) == pd.read_parquet(
        fixture_run / "units.parquet")["session_id"].nunique()
