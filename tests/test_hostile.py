"""Hostile and faulty inputs (issue 16): paths stay under --out, budgets refuse bombs before
parsing, every failure is one line with exit code 2 (a bug: exit 1 and a saved traceback).
The whole table, with time and memory, is bench/hostile_inputs.py."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import docx
import numpy as np
import pytest
import yaml

from pipeline import failures, safeyaml
from pipeline.cli import main
from pipeline.config import Config, ConfigError, IngestConfig, load_config
from pipeline.embed.cache import EmbeddingCache
from pipeline.ingest.dates import DateError, date_from_name, parse_date
from pipeline.ingest.manifest import load_round
from pipeline.ingest.readers import read_document
from pipeline.rundir import OWNER, RunDir, RunRecord, clean_stale, safe_component
from pipeline.runner import round_name_of
from pipeline.source import InputError

REPO = Path(__file__).resolve().parents[1]
SAMPLE_FILE = REPO / "corpora" / "sample-round" / "s01-智庫座談.md"
EXT = [".md", ".txt", ".docx", ".jsonl"]


def round_with(tmp: Path, manifest: str | None = None, name: str = "r") -> Path:
    d = tmp / name
    d.mkdir(parents=True)
    shutil.copy(SAMPLE_FILE, d / "s01.md")
    if manifest is not None:
        (d / "round.yaml").write_text(manifest, encoding="utf-8")
    return d


def one_session(round_line: str = "round: r", date: str = "2023-09-15", extra: str = "") -> str:
    return f"{round_line}\nsessions:\n  - id: s01\n    file: s01.md\n    date: {date}\n{extra}"


def billion_laughs() -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for prev, c in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{c}: &{c} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    return text


# ----------------------------------------------------------------- paths under --out


@pytest.mark.parametrize("name, expected", [
    ("2024-北部場", "2024-北部場"),
    ("../../x", "x"),
    ("/etc/cron.d", "etc_cron.d"),
    ("<script>alert(1)</script>/x", "script_alert(1)_script_x"),
    ("..", "round"),
    (".tmp-20240101", "tmp-20240101"),
    ("CON", "_CON"),
    ("a\x00b\nc", "a_b_c"),
])
def test_round_names_become_one_safe_folder_name(name, expected):
    assert safe_component(name) == expected


def test_a_long_name_is_cut_to_a_valid_folder_name():
    out = safe_component("淨零" * 200)
    assert len(out.encode("utf-8")) <= 120 and out.startswith("淨零")


@pytest.mark.parametrize("round_line", [
    "round: ../../escaped", "round: /tmp/escaped-abs", 'round: "<script>x</script>/y/z"'])
def test_the_manifest_round_cannot_write_outside_out(tmp_path, round_line):
    d = round_with(tmp_path, one_session(round_line))
    out = tmp_path / "out"
    cfg = Config()
    rd = RunDir(out, round_name_of(d, cfg), "20240101T000000-abc")
    assert rd.final.parent.parent == out and rd.path.parent.parent == out
    final = rd.commit(RunRecord("ingest", "r", str(d), "x", {}, "h"))
    assert final.is_relative_to(out) and len(final.relative_to(out).parts) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "r"]


def test_two_runs_started_in_the_same_second_both_commit(tmp_path):
    a = RunDir(tmp_path, "r", "20240101T000000-abc")
    b = RunDir(tmp_path, "r", "20240101T000000-abc")
    record = RunRecord("ingest", "r", "d", "x", {}, "h")
    assert {b.commit(record).name, a.commit(record).name} == {
        "20240101T000000-abc", "20240101T000000-abc-2"}
    assert not list(tmp_path.glob("r/.tmp-*"))
    assert not (tmp_path / "r" / "20240101T000000-abc" / OWNER).exists()


def test_two_processes_claiming_the_same_run_id_both_succeed(tmp_path):
    code = ("import sys, time; from pathlib import Path; "
            "from pipeline.rundir import RunDir, RunRecord; "
            "time.sleep(max(0, float(sys.argv[2]) - time.time())); "
            "rd = RunDir(Path(sys.argv[1]), 'r', '20240101T000000-abc'); "
            "print(rd.commit(RunRecord('ingest', 'r', 'd', 'x', {}, 'h')))")
    start = str(time.time() + 5)  # both past their imports: they claim at one instant
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), start], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "20240101T000000-abc", "20240101T000000-abc-2"]


def test_stale_tmp_folders_of_dead_runs_are_cleaned(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = os.uname().nodename
    folders = {}
    for name, owner in [("dead", {"pid": dead.pid, "host": host, "started": None}),
                        ("alive", {"pid": os.getpid(), "host": host}),
                        ("other-host", {"pid": dead.pid, "host": "elsewhere"}),
                        ("no-owner", None)]:
        folders[name] = tmp_path / f".tmp-{name}"
        folders[name].mkdir()
        if owner is not None:
            (folders[name] / OWNER).write_text(json.dumps(owner))
    assert clean_stale(tmp_path) == [folders["dead"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".tmp-alive", ".tmp-no-owner", ".tmp-other-host"]


def test_a_live_run_records_its_owner_and_a_new_run_keeps_it(tmp_path):
    a = RunDir(tmp_path, "r", "id")
    owner = json.loads((a.path / OWNER).read_text())
    assert owner["pid"] == os.getpid()
    RunDir(tmp_path, "r", "id")
    assert a.path.is_dir()


def test_without_a_manifest_links_outside_the_round_are_not_followed(tmp_path):
    d = round_with(tmp_path)
    secret = tmp_path / "elsewhere" / "secret.md"
    secret.parent.mkdir()
    secret.write_text("### 王小明：\n別的專案的逐字稿。\n", encoding="utf-8")
    (d / "link.md").symlink_to(secret)
    (d / "alias.md").symlink_to(d / "s01.md")
    rnd = load_round(d, "round.yaml", EXT)
    assert [s.path.name for s in rnd.sessions] == ["s01.md"]
    reasons = {s["file"]: s["reason"] for s in rnd.skipped}
    assert "outside the round folder" in reasons["link.md"]
    assert "same file as s01.md" in reasons["alias.md"]


def test_the_same_file_under_two_session_ids_is_an_error(tmp_path):
    d = round_with(tmp_path, one_session(extra="  - id: s02\n    file: ./s01.md\n"))
    with pytest.raises(InputError) as e:
        load_round(d, "round.yaml", EXT)
    assert "round.yaml:7" in str(e.value) and "already listed for session 's01' (line 4)" \
        in str(e.value)


def test_a_file_name_that_is_not_utf8_is_one_line(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    shutil.copy(SAMPLE_FILE, os.fsdecode(bytes(d) + b"/caf\xe9.md"))
    with pytest.raises(InputError, match=r"caf\\xe9\.md: the file name is not valid UTF-8"):
        load_round(d, "round.yaml", EXT)


# ----------------------------------------------------------------- budgets


def _docx_with_body(path: Path, body_mb: float) -> Path:
    d = docx.Document()
    d.add_paragraph("x")
    buf = io.BytesIO()
    d.save(buf)
    para = "<w:p><w:r><w:t>淨零轉型要照顧勞工。</w:t></w:r></w:p>".encode()
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "word/document.xml":
                head, _ = data.split(b"<w:body>")
                data = (head + b"<w:body>" + para * int(body_mb * 2**20 / len(para))
                        + b"</w:body></w:document>")
            zout.writestr(info, data)
    return path


def test_a_docx_unpacking_over_the_budget_is_refused_before_parsing(tmp_path):
    path = _docx_with_body(tmp_path / "bomb.docx", 1.5)
    assert path.stat().st_size < 60_000
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"refused: the file unpacks to 2 MB \(limit 1 MB"):
        read_document(path, IngestConfig(max_unzipped_mb=1))
    assert time.perf_counter() - t0 < 1
    small = _docx_with_body(tmp_path / "small.docx", 0.01)
    assert read_document(small, IngestConfig(max_unzipped_mb=1)).lines  # under it: read


def test_a_zip_with_too_many_entries_is_refused(tmp_path):
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(300):
            z.writestr(f"xl/x{i}.xml", b"")
    with pytest.raises(InputError, match=r"archive of 300 parts \(limit 200\)"):
        read_document(path, IngestConfig(max_zip_entries=200))


@pytest.mark.parametrize("text, problem", [
    (billion_laughs(), "aliases expand the document to more than"),
    ("a: " + "[" * 100_000, "nested more than 50 levels deep"),
    ("".join(f"{' ' * i}k{i}:\n" for i in range(60)), "nested more than 50 levels deep"),
    ("a: " + "{b: " * 60 + "1" + "}" * 60, "nested more than 50 levels deep"),
])
def test_yaml_bombs_are_refused_in_milliseconds(text, problem):
    t0 = time.perf_counter()
    with pytest.raises(safeyaml.YamlBudgetError, match=problem):
        safeyaml.load(text)
    assert time.perf_counter() - t0 < 1


def test_ordinary_yaml_still_loads_and_dates_stay_text():
    text = ("shared: &orgs [環境部, 國發會]\ns1: {orgs: *orgs, date: 2023-09-15}\n"
            "note: \"[[[[ in a string\"\nit: it's [fine]\n# [[[[[[ in a comment\n")
    assert safeyaml.load(text) == {"shared": ["環境部", "國發會"],
                                   "s1": {"orgs": ["環境部", "國發會"], "date": "2023-09-15"},
                                   "note": "[[[[ in a string", "it": "it's [fine]"}


@pytest.mark.parametrize("make, message", [
    (lambda tmp: Path("/dev/zero"), "is not a regular file"),
    (lambda tmp: tmp, "is a folder, not a config file"),
    (lambda tmp: _write(tmp / "bin.yaml", Path(sys.executable).read_bytes()[:4096]),
     "looks like a binary file"),
    (lambda tmp: _write(tmp / "big.yaml", b"# padding\n" * 600_000), "too large"),
    (lambda tmp: _write(tmp / "laughs.yaml", billion_laughs().encode()), "line 6: refused"),
])
def test_config_files_that_are_not_small_yaml_text_are_refused(tmp_path, make, message):
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=message):
        load_config(make(tmp_path))
    assert time.perf_counter() - t0 < 2


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_big5_round_yaml_is_read(tmp_path):
    d = round_with(tmp_path)
    (d / "round.yaml").write_bytes(one_session("round: 北部場", extra="    title: 淨零座談\n")
                                   .encode("cp950"))
    rnd = load_round(d, "round.yaml", EXT)
    assert rnd.name == "北部場" and rnd.sessions[0].title == "淨零座談"


def test_a_deeply_nested_jsonl_line_is_one_line(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"text": "淨零", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(InputError, match=r"c\.jsonl: refused: nested too deeply"):
        read_document(path, IngestConfig())


# ----------------------------------------------------------------- validation


@pytest.mark.parametrize("raw, iso", [
    ("2023-09-15", "2023-09-15"), ("2023/9/5", "2023-09-05"), ("20230915", "2023-09-15"),
    ("112/09/15", "2023-09-15"), ("112.9.15", "2023-09-15"), ("民國112年9月15日", "2023-09-15"),
    ("2023年9月15日", "2023-09-15"), (20230915, "2023-09-15"),
])
def test_dates_iso_and_minguo(raw, iso):
    assert parse_date(raw) == iso


@pytest.mark.parametrize("raw, why", [
    ("2023-13-45", "not a day of the calendar"), ("15/09/2023", "not a date in a recognised"),
    ("明天", "not a date in a recognised"), ("2023-02-29", "not a day of the calendar"),
])
def test_impossible_or_ambiguous_dates_are_refused(raw, why):
    with pytest.raises(DateError, match=why):
        parse_date(raw)


def test_an_impossible_date_in_a_file_name_is_just_not_a_date():
    assert date_from_name("20231345-座談.md") is None
    assert date_from_name("2023-10-01-座談.md") == "2023-10-01"


def test_a_bad_manifest_date_names_its_line(tmp_path):
    d = round_with(tmp_path, one_session(date="15/09/2023"))
    with pytest.raises(InputError) as e:
        load_round(d, "round.yaml", EXT)
    assert str(e.value).startswith(f"{d / 'round.yaml'}:5: date '15/09/2023'")
    assert "112/09/15" in str(e.value)


@pytest.mark.parametrize("item, message", [
    ("run.seed=-1", "run.seed"), (f"run.seed={2**32}", "run.seed"),
    ("roles.procedural_patterns=['(未閉合']", r"invalid regular expression '\(未閉合'"),
    ("roles.courtesy_clauses={greeting: ['[']}", "invalid regular expression '\\['"),
])
def test_seed_and_regexes_are_checked_with_the_config(item, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [item])


# ----------------------------------------------------------------- the embedding cache


def test_an_unwritable_cache_folder_means_no_cache(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.warns(RuntimeWarning, match="continuing without a cache"):
        cache = EmbeddingCache(tmp_path / "a-file" / "cache")
    assert not cache.enabled and len(cache) == 0
    cache.put_many([(b"k", np.ones(4, np.float32))])
    assert cache.get_many([b"k"], 4) == {}
    cache.close()


def test_a_full_cache_disk_means_no_cache_from_then_on(tmp_path):
    cache = EmbeddingCache(tmp_path)
    # SQLite's own "database or disk is full" (SQLITE_FULL), as on a full disk.
    cache._db.execute("PRAGMA max_page_count = 8")
    rows = [(bytes([i]) * 32, np.full(384, i, np.float32)) for i in range(200)]
    with pytest.warns(RuntimeWarning, match="cannot be written.*full"):
        cache.put_many(rows)
    assert not cache.enabled
    cache.put_many(rows)  # no second warning, no error
    cache.close()


# ----------------------------------------------------------------- the CLI boundary


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_output_folder_that_cannot_be_created_is_one_line(tmp_path, capsys):
    d = round_with(tmp_path, one_session())
    (tmp_path / "a-file").write_text("")
    code, _, err = run_cli(capsys, "ingest", str(d), "--out", str(tmp_path / "a-file" / "x"),
                           "--quiet")
    assert code == 2 and err.count("\n") == 1
    assert "a-file/x/r: Not a directory. a file is in the way" in err


def test_segment_refuses_a_device(capsys):
    code, _, err = run_cli(capsys, "segment", "/dev/zero")
    assert (code, err) == (2, "consult segment: error: /dev/zero: not a regular file. give the "
                               "path of a text file\n")


def test_mixed_type_metadata_is_stored_as_text(tmp_path, capsys):
    d = tmp_path / "r"
    d.mkdir()
    (d / "c.jsonl").write_text(
        '{"text": "淨零轉型要照顧勞工的生計與在地社區的發展", "age": 34}\n'
        '{"text": "電價調整要考慮弱勢家庭的負擔與補貼", "age": "三十四"}\n', encoding="utf-8")
    code, out, err = run_cli(capsys, "ingest", str(d), "--out", str(tmp_path / "out"), "--quiet")
    assert code == 0, err
    import pandas as pd

    units = pd.read_parquet(Path(out.strip()) / "units.parquet")
    assert units["meta_age"].tolist() == ["34", "三十四"]


def test_a_bug_is_one_line_and_its_traceback_is_saved(tmp_path, capsys, monkeypatch):
    from pipeline import runner

    def broken(ctx, counts):  # a stand-in for a bug in a stage
        raise KeyError("蔡宜芳 0912-345-678")

    monkeypatch.setitem(runner.STAGES, "ingest", runner.Stage(broken, provides=("units",)))
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "ingest", str(round_with(tmp_path, one_session())),
                           "--out", str(out), "--quiet")
    assert code == 1 and err.count("\n") == 1
    assert "internal error (KeyError at tests/test_hostile.py:" in err
    assert "蔡宜芳" not in err and "0912" not in err
    saved = list((out / failures.ERRORS_FOLDER).iterdir())
    assert len(saved) == 1 and str(saved[0]) in err and "Traceback" in saved[0].read_text()
    assert not list(out.glob("r/*"))  # no run folder, not even a temporary one


@pytest.mark.parametrize("exc, line", [
    (OSError(28, "No space left on device", "/reports/r/x.parquet"),
     "/reports/r/x.parquet: No space left on device. free some disk space"),
    (OSError(30, "Read-only file system", "/mnt/ro"), "/mnt/ro: Read-only file system. "
     "the disk is read-only"),
    (sqlite3.OperationalError("database or disk is full"), "the embedding cache database"),
    (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
    (yaml.YAMLError("x"), "a YAML file: not valid YAML"),
])
def test_expected_failures_are_phrased_for_the_user(exc, line):
    assert line in failures.expected_message(exc)


def test_a_name_that_cannot_be_written_as_utf8_is_expected():
    with pytest.raises(UnicodeEncodeError) as e:
        "caf\udce9".encode("utf-8")
    assert "not valid UTF-8" in failures.expected_message(e.value)


def test_a_bug_is_not_mistaken_for_bad_input():
    assert failures.expected_message(KeyError("x")) is None


def test_an_arrow_error_names_the_column_not_the_value():
    import pandas as pd
    import pyarrow as pa

    try:
        pa.Table.from_pandas(pd.DataFrame({"meta_phone": [912345678, "0912-345-678"]}))
    except pa.ArrowException as e:
        message = failures.expected_message(e)
    assert "meta_phone" in message and "0912" not in message
