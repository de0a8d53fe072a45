"""`consult ingest` end to end on small real files: run folder, units, redaction, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.config import load_config
from pipeline.ingest import ingest_round

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpora" / "sample-round"

PLANTED = {
    "phone": ["0912-345-678", "0987654321", "(02)2345-6789", "+886 912 000 111"],
    "email": ["lin.meihua@example.org", "chen_zm@mail.example.com.tw"],
    "national_id": ["A123456789", "F287654321", "AC01234567", "A800000014"],
    "name": ["林美華", "陳志明", "黃俊傑"],
}

PII_TRANSCRIPT = """# 2023-10-20 個資測試座談

### 主持人：
歡迎大家，請林美華先發言，之後是陳志明。

### 林美華：
我是漁民代表，我的電話是0912-345-678，也可以打0987654321或市話(02)2345-6789。
有問題寄信到lin.meihua@example.org，漁電共生的補償一直沒有下來。

### 陳志明：
剛剛美華講得很好，我補充：我的身分證字號A123456789，太太是F287654321。
外籍配偶居留證AC01234567和A800000014也被要求提供，這樣的個資蒐集太多了。
有事請聯絡chen_zm@mail.example.com.tw或+886 912 000 111，謝謝志明自己。

### 黃俊傑：
我同意陳志明說的，碳費的配套要讓中小企業也看得懂，黃俊傑在這裡。
"""


def _all_output_text(run_dir: Path) -> str:
    chunks = []
    for p in run_dir.rglob("*"):
        if p.suffix == ".parquet":
            chunks.append(pd.read_parquet(p).to_json(force_ascii=False))
        elif p.is_file():
            chunks.append(p.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(chunks)


def test_planted_personal_data_appears_nowhere_in_outputs(tmp_path: Path, capsys):
    rnd = tmp_path / "pii-round"
    rnd.mkdir()
    (rnd / "2023-10-20-個資測試.md").write_text(PII_TRANSCRIPT, encoding="utf-8")
    out = tmp_path / "reports"
    assert main(["ingest", str(rnd), "--out", str(out), "--quiet"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert run_dir.is_dir() and (run_dir / "units.parquet").exists()
    text = _all_output_text(run_dir)
    for kind, secrets in PLANTED.items():
        for s in secrets:
            assert s not in text, f"{kind} {s!r} leaked"
    assert "志明" not in text and "美華" not in text
    summary = json.loads((run_dir / "ingest_summary.json").read_text(encoding="utf-8"))
    assert summary["redactions"]["phone"] == 4
    assert summary["redactions"]["email"] == 2
    assert summary["redactions"]["national_id"] == 4
    units = pd.read_parquet(run_dir / "units.parquet")
    assert set(units["speaker"]) == {"主持人", "與會者A", "與會者B", "與會者C"}


def test_units_table_contract(tmp_path: Path):
    rnd = tmp_path / "r"
    rnd.mkdir()
    (rnd / "a.md").write_text(PII_TRANSCRIPT, encoding="utf-8")
    res = ingest_round(rnd, load_config())
    u = res.units
    assert u["unit_id"].is_unique
    assert u["unit_id"].iloc[0].count(":") == 2
    mod = u[u["role"] == "moderator"]
    assert len(mod) and not mod["analysed"].any()
    assert set(mod["excluded_reason"]) == {"moderator"}
    kept = u[u["analysed"]]
    assert all(isinstance(t, list | tuple) or hasattr(t, "__len__") for t in kept["tokens"])
    assert any("漁電共生" in list(t) for t in kept["tokens"])
    # line ranges point at the source lines of the turn
    src = PII_TRANSCRIPT.split("\n")
    first = kept.iloc[0]
    assert first["text"][:6] in src[first["line_start"] - 1]
    # 「我是漁民代表，我的電話是…」 only introduces the speaker: procedural, not feedback.
    intro = u[u["text"].str.startswith("我是漁民代表")]
    assert intro["procedural_kind"].tolist() == ["self_intro"]


def test_unit_ids_stable_across_reingest(tmp_path: Path):
    rnd = tmp_path / "r"
    rnd.mkdir()
    (rnd / "a.md").write_text(PII_TRANSCRIPT, encoding="utf-8")
    a = ingest_round(rnd, load_config()).units
    b = ingest_round(rnd, load_config()).units
    assert a["unit_id"].tolist() == b["unit_id"].tolist()
    assert a["text"].tolist() == b["text"].tolist()


@pytest.mark.parametrize("unit,expect_more", [("turn", False), ("window", False)])
def test_granularity(tmp_path: Path, unit: str, expect_more: bool):
    rnd = tmp_path / "r"
    rnd.mkdir()
    (rnd / "a.md").write_text(PII_TRANSCRIPT, encoding="utf-8")
    sent = ingest_round(rnd, load_config()).units
    other = ingest_round(rnd, load_config(overrides=[f"segment.unit={unit}"])).units
    assert len(other) < len(sent)


def test_bad_file_strict_and_skip(tmp_path: Path, capsys):
    rnd = tmp_path / "r"
    rnd.mkdir()
    (rnd / "a.md").write_text(PII_TRANSCRIPT, encoding="utf-8")
    (rnd / "b.txt").write_bytes(b"")
    out = tmp_path / "reports"
    assert main(["ingest", str(rnd), "--out", str(out), "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "b.txt" in err and "empty" in err
    assert not list(out.rglob("run.json")), "a failed run must not leave a finished-looking folder"
    assert main(["ingest", str(rnd), "--out", str(out), "--quiet",
                 "--set", "ingest.on_error=skip"]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["skipped"][0]["file"] == "b.txt" and "empty" in record["skipped"][0]["reason"]
    assert [i["file"] for i in record["inputs"]] == ["a.md"]
    assert len(record["inputs"][0]["sha256"]) == 64


def test_run_folder_contents_and_provenance(tmp_path: Path):
    out = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "ingest", str(SAMPLE), "--out", str(out),
         "--set", "segment.unit=turn"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"}, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.strip().splitlines()[-1])
    assert run_dir.parent.name == "2023-sample"
    assert run_dir.name.split("-")[-1] == load_config(overrides=["segment.unit=turn"]).hash()
    for name in ["units.parquet", "ingest_summary.json", "config.yaml", "run.json"]:
        assert (run_dir / name).exists(), name
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["config"]["segment"]["unit"] == "turn"
    assert record["stages"]["ingest"]["units"] > 0 and record["stages"]["ingest"]["seconds"] >= 0
    assert "jieba" in record["packages"]
    assert len(record["inputs"]) == 6
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".tmp")]


def test_interrupted_run_leaves_no_finished_folder(tmp_path: Path, monkeypatch):
    import pipeline.runner as runner

    def boom(ctx, counts):
        raise RuntimeError("disk full")

    monkeypatch.setitem(runner.STAGES, "ingest", runner.Stage(boom, provides=("units",)))
    with pytest.raises(RuntimeError):
        runner.run("ingest", SAMPLE, load_config(), tmp_path / "reports", quiet=True)
    assert list((tmp_path / "reports").glob("*/*")) == []


@pytest.mark.parametrize("unit", ["sentence", "turn"])
def test_same_transcript_in_every_line_format_gives_same_units(tmp_path: Path, unit: str):
    from formats import LINE_FORMATS, build

    texts = {}
    for name in LINE_FORMATS:
        rnd = tmp_path / name
        rnd.mkdir()
        build(name, rnd)
        units = ingest_round(rnd, load_config(overrides=[f"segment.unit={unit}"])).units
        texts[name] = list(zip(units["speaker"], units["text"], strict=True))
    assert len(texts["md"]) >= 5
    for name in ["txt-cp950", "docx", "pdf", "txt-utf16"]:
        assert texts[name] == texts["md"], name


def test_every_command_gets_the_tables_its_stages_require(monkeypatch):
    import pipeline.runner as runner

    for command in runner.COMMANDS:
        runner.check_stages(command)
    monkeypatch.setitem(runner.COMMANDS, "broken", ["embed"])
    with pytest.raises(RuntimeError, match="stage embed requires units"):
        runner.check_stages("broken")
