"""Names given to the program (manifest `officials:`, `moderators:`, `names:`; config
`roles.officials`, `roles.moderators`, `redact.extra_names`) appear in no output of a run,
and a rejected value of a key that can hold names is not echoed in the error (issue 16).

Ingest only: the outputs that hold config and manifest text (config.yaml, run.json,
ingest_summary.json, speakers.json, units.parquet) are all written by it; the whole run
with report files is tests/test_privacy.py.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.config import ConfigError, load_config

# Speaker labels with a role given in the manifest or the config, and names listed to redact.
MANIFEST_OFFICIAL = "何佩珊"
MANIFEST_MODERATOR = "簡文彬"
MANIFEST_NAME = "溫子涵"
CONFIG_OFFICIAL = "曾柏翰"
CONFIG_MODERATOR = "湯雅雯"
SECRETS = [MANIFEST_OFFICIAL, MANIFEST_MODERATOR, MANIFEST_NAME, CONFIG_OFFICIAL,
           CONFIG_MODERATOR]

TRANSCRIPT = f"""# 淨零公正轉型座談

### {MANIFEST_MODERATOR}：
各位好，今天的座談由我主持，先請{MANIFEST_OFFICIAL}說明目前的規劃，再請大家發言。

### {MANIFEST_OFFICIAL}：
謝謝主持人。國發會這次的公正轉型規劃，會先盤點受影響的產業與勞工，再研擬再訓練的配套。

### 產業代表：
我們石化業的員工很擔心轉型之後沒有工作，{MANIFEST_NAME}上次也說過，再訓練要有真正的職缺。
希望政府在淘汰燃煤電廠之前，先把勞工的就業安置講清楚，而不是事後補救。

### {CONFIG_MODERATOR}：
接下來請{CONFIG_OFFICIAL}回應剛剛的問題。

### {CONFIG_OFFICIAL}：
勞動部會和地方政府合作，在電廠周邊開設職訓課程，也會提供轉職期間的生活津貼。

### 青年代表：
偏鄉的青年很難參與這些會議，建議政府多辦線上座談，讓在外地讀書的人也可以表達意見。
"""

MANIFEST = f"""round: roles-privacy
title: 淨零公正轉型座談（{MANIFEST_NAME}整理）
sessions:
  - id: s01
    file: s01.md
    date: 2023-09-15
    location: 台北（{MANIFEST_NAME}辦公室）
    participants: [台灣淨零公民陣線, {MANIFEST_NAME}]
    officials: [{MANIFEST_OFFICIAL}]
    moderators: [{MANIFEST_MODERATOR}]
    names: [{MANIFEST_NAME}]
"""


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("roles")
    rnd = tmp / "round"
    rnd.mkdir()
    (rnd / "s01.md").write_text(TRANSCRIPT, encoding="utf-8")
    (rnd / "round.yaml").write_text(MANIFEST, encoding="utf-8")
    out = tmp / "reports"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = main(["ingest", str(rnd), "--out", str(out),
                     "--set", f"roles.officials=[{CONFIG_OFFICIAL}]",
                     "--set", f"roles.moderators=[{CONFIG_MODERATOR}]",
                     "--set", f"redact.extra_names=[{MANIFEST_NAME}]"])
    assert code == 0, printed.getvalue()
    runs = list(out.rglob("run.json"))
    assert len(runs) == 1
    (runs[0].parent / "printed.log").write_text(printed.getvalue(), encoding="utf-8")
    return runs[0].parent


def test_names_given_as_roles_or_in_the_manifest_appear_in_no_output(run_folder: Path):
    files = [p for p in run_folder.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"config.yaml", "run.json", "units.parquet", "speakers.json",
            "ingest_summary.json"} <= names
    leaks = []
    for p in files:
        texts = [p.read_bytes().decode("utf-8", errors="replace")]
        if p.suffix == ".parquet":
            texts.append(pd.read_parquet(p).to_json(force_ascii=False))
        elif p.suffix == ".json":
            texts.append(json.dumps(json.loads(texts[0]), ensure_ascii=False))
        leaks += [(p.name, s) for s in SECRETS for t in texts if s in t]
    assert not leaks


def test_roles_still_assigned_from_the_given_names(run_folder: Path):
    # The names are used, only not written: the speakers got the roles they were given.
    units = pd.read_parquet(run_folder / "units.parquet")
    roles = set(units["role"])
    assert {"official", "moderator", "participant"} <= roles
    config = (run_folder / "config.yaml").read_text(encoding="utf-8")
    assert config.count("sha256:") >= 3  # two role lists and extra_names, as digests


@pytest.mark.parametrize("key", ["redact.extra_names", "roles.officials", "roles.moderators"])
def test_rejected_personal_value_is_not_echoed(key: str):
    with pytest.raises(ConfigError) as e:
        load_config(overrides=[f"{key}=謝婉君"])
    assert key in str(e.value)
    assert "謝婉君" not in str(e.value)


def test_rejected_ordinary_value_is_echoed():
    with pytest.raises(ConfigError, match="got 'many'"):
        load_config(overrides=["segment.window_size=many"])
