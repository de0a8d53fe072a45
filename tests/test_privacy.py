"""Personal data planted in a small round appears in no output file of `consult run`.

Like the planted-PII test of tests/test_ingest.py, but for what redaction must find beyond
plain speaker labels (issue 16): surname + personal title, kinship forms, nicknames and
self-introductions; speaker labels with an affiliation (heading and inline, 名字（單位）,
名字/單位, 單位 名字) and four-character names; names mentioned in passing; addresses, card
and account numbers, LINE IDs, local numbers; metadata columns of a csv; names given with
`--set redact.extra_names`. The round is two sessions of the sample round with planted
turns and a csv of comments, no manifest (the common case: an analyst drops transcripts into
a folder); the real embedding model and BERTopic run. Every file of the run folder, the
embedding cache (SQLite) and what the run printed are searched.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpora" / "sample-round"

# Each planted form, and the strings that must not survive it. Single surname characters
# are not checked: 黃 alone is an everyday character and identifies nobody.
PLANTED = {
    "surname + title": ["陳執行長", "林經理", "鄭理事長", "謝先生", "黃董事長", "蘇總經理",
                        "歐陽先生", "張老闆"],
    "full name + title": ["林美華", "美華"],
    "kinship": ["盧姐", "王哥"],
    "nickname": ["小洋", "阿德"],
    "self-introduced surname": ["我姓黃", "敝姓林"],
    "self-introduced name": ["陳志明", "志明"],
    "label with affiliation": ["蔡宜芳", "宜芳"],
    "inline label with affiliation": ["鄭美玲", "美玲"],
    "label organisation name": ["葉書瑋", "書瑋"],
    "label name/organisation": ["潘志豪", "志豪"],
    "four-character name": ["歐陽志遠", "志遠"],
    "passing name": ["張劭瀚", "賴宥廷"],
    "address": ["中山路一段12巷3號", "中華路二段88號"],
    "card number": ["4539 1488 0343 6467", "4539148803436467"],
    "bank account": ["0123456789012"],
    "LINE ID": ["meihua_lin88"],
    "local number": ["2345-6789", "234-5678"],
    "metadata column": ["912345678", "mei.chen@example.org"],
    "extra_names": ["林秀英", "秀英"],
}

PLANTED_TURNS = """
### 台東縣社區發展協會代表：
政委、大家早安，我是永信社會福利基金會的主任，我姓黃。我們在台東做長照跟社區的據點，
剛剛陳執行長提到的偏鄉交通問題，我們非常有感，長輩要去看病，一趟公車就要等兩個小時。
也謝謝林經理跟鄭理事長幫忙協調，但是補助的申請表格實在太複雜了，社區的志工根本填不來。

### 青年代表：
大家好，我是小洋，在池上做友善耕作。我想講的是青年返鄉的問題，農地租金一直漲，
盧姐跟王哥他們那一輩還可以撐，我們年輕人真的很難進來，希望公正轉型可以有農地的配套。
剛剛林局長說的再生能源與農業共存，我覺得要先把地方的意見放進來。

### 漁會代表：
我叫阿德，敝姓林，做養殖漁業三十年了。光電板蓋在魚塭上面，謝先生和黃董事長的公司說會照顧漁民，
可是我們看到的是電費補貼都給了業者，阿德我自己的魚塭租約快到期了，不知道要不要續約。
蘇總經理上次來說明會講的保證收購，到現在都沒有書面的東西。

### 蔡宜芳（地球公民基金會）：
我補充一下，像張劭瀚他們是縣府專案發展出來的單位，做得很辛苦，可是計畫一結束人就散了。
有問題可以寫信到我家，台東縣池上鄉中山路一段12巷3號，或打2345-6789，LINE ID 是 meihua_lin88。
鄭美玲（台東縣漁會）：我們漁會的補助款請匯到帳號 0123456789012，上次賴宥廷幫我們填的表格還在。
地球公民 葉書瑋：宜芳剛剛說的人才流失，美玲也遇到，林秀英老闆娘說她的店員都走了，秀英一個人撐。
潘志豪/台灣淨零公民陣線：我的信用卡4539 1488 0343 6467被盜刷過，電話234-5678，志豪不想再講了。

### 歐陽志遠：
我在電廠做了二十年，書瑋和志遠都知道，轉型的再訓練要有真正的工作，不要只上課。

### 工會代表：
我是陳志明，在石化廠做了二十年的操作員。林美華小姐和歐陽先生上次在工會也講過，
轉型的時候，工人的再訓練不能只是上幾堂課，要有真正可以轉過去的工作。志明我講話比較直，
張老闆那種工廠一關，整個村子的人都沒有收入，政府要先把就業的配套做出來。
"""

# Public office titles of officials in their role, mentioned in participants' text: kept.
PUBLIC = ["林局長", "政委"]


# Written comments with contact columns: 聯絡電話 and email are dropped whatever the mode
# (redact.drop_columns; the phone lost its leading 0 in a spreadsheet, so no pattern would
# find it), 備註 is kept and redacted.
COMMENTS_CSV = """speaker,organisation,聯絡電話,email,備註,text
宋美蘭,池上鄉農會,912345678,mei.chen@example.org,住台東市中華路二段88號,農地種電要先問過在地農民，租約的條件應該公開，不要讓業者私下跟地主簽約。
,,0,,,偏鄉的充換電站太少，政府應該優先補助電動機車的換電設施，不然轉型只是都市的事。
"""


def _round(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ["s01-智庫座談.md", "s02-高雄地方政府工作坊.md"]:
        text = (SAMPLE / name).read_text(encoding="utf-8")
        for secrets in PLANTED.values():
            for s in secrets:
                assert s not in text, f"{s} already in {name}: pick another planted name"
        (folder / name).write_text(text.rstrip("\n") + "\n" + PLANTED_TURNS, encoding="utf-8")
    (folder / "s07-書面意見.csv").write_text(COMMENTS_CSV, encoding="utf-8")
    return folder


def _texts(path: Path) -> list[str]:
    """Every readable rendering of a file: raw, JSON decoded, HTML/XML unescaped, sheets."""
    if path.suffix == ".parquet":
        return [pd.read_parquet(path).to_json(force_ascii=False)]
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return [html.unescape(z.read(n).decode("utf-8", errors="replace"))
                    for n in z.namelist()]
    raw = path.read_bytes()
    if raw.startswith(b"SQLite format 3"):
        with sqlite3.connect(path) as db:
            tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
            rows = [repr(db.execute(f"select * from {t}").fetchall()) for t in tables]
        return [raw.decode("utf-8", errors="replace"), *rows]
    text = raw.decode("utf-8", errors="replace")
    out = [text, html.unescape(text)]
    if path.suffix == ".json":
        out.append(json.dumps(json.loads(text), ensure_ascii=False))
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("privacy")
    rnd = _round(tmp / "round")
    cache = tmp / "cache"
    out = tmp / "reports"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = main(["run", str(rnd), "--out", str(out),
                     "--set", f"embed.cache_dir={cache}",
                     "--set", "redact.extra_names=[林秀英]"])
    assert code == 0, printed.getvalue()
    (cache / "printed.log").write_text(printed.getvalue(), encoding="utf-8")
    runs = list(out.rglob("run.json"))
    assert len(runs) == 1
    return runs[0].parent, cache


def test_planted_private_names_appear_in_no_output_file(run_dir: tuple[Path, Path]):
    folder, cache = run_dir
    files = [p for p in [*folder.rglob("*"), *cache.rglob("*")] if p.is_file()]
    suffixes = {p.suffix for p in files}
    # The check is only worth something if every kind of output was written and read.
    assert {".parquet", ".json", ".csv", ".xlsx", ".html", ".md", ".yaml", ".log"} <= suffixes
    leaks = []
    for p in files:
        for text in _texts(p):
            for kind, secrets in PLANTED.items():
                leaks += [(p.name, kind, s) for s in secrets if s in text]
    assert not sorted(set(leaks))


def test_redactions_counted_by_kind_and_public_titles_kept(run_dir: tuple[Path, Path]):
    folder, _ = run_dir
    summary = json.loads((folder / "ingest_summary.json").read_text(encoding="utf-8"))
    red = summary["redactions"]
    # per planted session copy: 8 surname + title forms (林美華小姐 is one), 2 kinship forms,
    # 2 surnames (我姓黃, 敝姓林), 小洋 + 阿德 ×2 + 陳志明 + 志明 by self-introduction.
    assert red["name_title"] >= 2 * 8
    assert red["name_kinship"] == 2 * 2
    assert red["name_surname"] == 2 * 2
    assert red["name_introduced"] == 2 * 5
    for kind in ["address", "card", "bank_account", "social_id", "phone", "name_passing",
                 "metadata_dropped"]:
        assert red.get(kind, 0) >= 1, kind
    units = pd.read_parquet(folder / "units.parquet")
    # Affiliations stay with the pseudonym; dropped columns are gone, redacted ones kept.
    assert units["speaker"].str.contains("（地球公民基金會）").any()
    assert units["speaker"].str.contains("（台東縣漁會）").any()
    assert not any("聯絡電話" in c or "email" in c for c in units.columns)
    assert set(units["meta_備註"].dropna()) == {"住台東市[地址]"}
    # The inline label form is a participant's turn, not the moderator's.
    said = units[units["text"].str.contains("補助款", na=False)]
    assert len(said) and set(said["role"]) == {"participant"}
    text = "\n".join(pd.read_parquet(folder / "units.parquet")["text"])
    for title in PUBLIC:
        assert title in text
    assert "〇執行長" in text and "〇姐" in text and "我姓〇" in text


def test_placeholders_are_no_theme_keywords(run_dir: tuple[Path, Path]):
    folder, _ = run_dir
    themes = json.loads((folder / "themes.json").read_text(encoding="utf-8"))["themes"]
    words = [k["word"] for t in themes for k in t["keywords"]]
    assert words
    planted = {s for secrets in PLANTED.values() for s in secrets}
    assert not [w for w in words if "〇" in w or w in planted or w in {"電話", "姓名"}]
