from pathlib import Path

import pytest

from pipeline.ingest.manifest import load_round
from pipeline.source import InputError

EXT = [".md", ".txt"]


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def test_manifest_sessions_and_extra_fields(tmp_path: Path):
    write(tmp_path / "a.md", "### 林美華：\n你好。\n")
    write(tmp_path / "round.yaml", """round: r1
sessions:
  - id: s1
    file: a.md
    date: 2023-10-01
    type: 地方政府
    location: 高雄
    participants: [勞工團體, 漁會]
    organisations: [地球公民基金會]
""")
    rnd = load_round(tmp_path, "round.yaml", EXT)
    s = rnd.sessions[0]
    assert rnd.name == "r1" and s.id == "s1" and s.type == "地方政府"
    assert s.participants == ["勞工團體", "漁會"]
    assert s.extra == {"organisations": ["地球公民基金會"]}


def test_manifest_path_escaping_the_folder(tmp_path: Path):
    rnd = tmp_path / "round"
    write(tmp_path / "secret.md", "### 林美華：\n你好。\n")
    write(rnd / "round.yaml", "sessions:\n  - id: s1\n    file: ../secret.md\n")
    with pytest.raises(InputError) as e:
        load_round(rnd, "round.yaml", EXT)
    msg = str(e.value)
    assert "round.yaml:3" in msg and "outside the round folder" in msg


def test_manifest_symlink_escaping_the_folder(tmp_path: Path):
    rnd = tmp_path / "round"
    target = write(tmp_path / "secret.md", "### 林美華：\n你好。\n")
    rnd.mkdir()
    (rnd / "link.md").symlink_to(target)
    write(rnd / "round.yaml", "sessions:\n  - id: s1\n    file: link.md\n")
    with pytest.raises(InputError, match=r"outside the round folder"):
        load_round(rnd, "round.yaml", EXT)


def test_duplicate_session_ids(tmp_path: Path):
    write(tmp_path / "a.md", "x")
    write(tmp_path / "b.md", "x")
    write(tmp_path / "round.yaml",
          "sessions:\n  - id: s1\n    file: a.md\n  - id: s1\n    file: b.md\n")
    with pytest.raises(InputError) as e:
        load_round(tmp_path, "round.yaml", EXT)
    assert "round.yaml:4" in str(e.value) and "duplicate session id 's1'" in str(e.value)
    assert "line 2" in str(e.value)


def test_missing_file_in_manifest(tmp_path: Path):
    write(tmp_path / "round.yaml", "sessions:\n  - id: s1\n    file: nope.md\n")
    with pytest.raises(InputError, match=r"nope\.md' not found"):
        load_round(tmp_path, "round.yaml", EXT)


def test_without_manifest_every_file_is_a_session(tmp_path: Path):
    write(tmp_path / "2023-10-01-高雄座談.md", "# 2023-10-01 高雄座談\n")
    write(tmp_path / "notes.txt", "x")
    write(tmp_path / "image.png", "x")
    rnd = load_round(tmp_path, "round.yaml", EXT)
    assert [s.id for s in rnd.sessions] == ["2023-10-01-高雄座談", "notes"]
    assert rnd.sessions[0].date == "2023-10-01"


def test_manifest_speakers_name_organisations_and_never_reach_the_units(tmp_path: Path):
    """`speakers:` maps a speaker label to the organisation it speaks for: ingest writes the
    organisation beside the unit (speaker_org), the label (a name) only as its pseudonym."""
    from pipeline.config import load_config
    from pipeline.ingest import ingest_round

    write(tmp_path / "a.md", "### 林美華：\n我們協會覺得電價補貼要先照顧弱勢家庭的需求。\n"
                             "### 陳大同：\n工會希望轉職訓練可以在地開班，不要都在台北。\n")
    write(tmp_path / "round.yaml", """round: r1
title: 示範輪次
sessions:
  - id: s1
    file: a.md
    organisations: [花蓮婦女協會, 產業工會]
    speakers: {林美華: 花蓮婦女協會}
""")
    res = ingest_round(tmp_path, load_config(None, []))
    units = res.units
    assert res.summary["title"] == "示範輪次"
    by_org = dict(zip(units["text"].str[:4], units["speaker_org"], strict=True))
    assert by_org["我們協會"] == "花蓮婦女協會"
    assert units.loc[units["text"].str.startswith("工會"), "speaker_org"].isna().all()
    assert "林美華" not in " ".join(map(str, units.to_numpy().ravel()))


def test_manifest_speakers_must_be_a_mapping(tmp_path: Path):
    write(tmp_path / "a.md", "### 林美華：\n你好。\n")
    write(tmp_path / "round.yaml", "sessions:\n  - id: s1\n    file: a.md\n"
                                   "    speakers: [林美華]\n")
    with pytest.raises(InputError) as e:
        load_round(tmp_path, "round.yaml", EXT)
    assert "speakers must map a speaker label" in str(e.value) and "round.yaml:4:" in str(e.value)
