from pathlib import Path

from pipeline.ingest.turns import Piece, cut_units, parse_turns, split_sentences
from pipeline.source import Document, Line


def doc(text: str) -> Document:
    lines, off = [], 0
    for i, t in enumerate(text.split("\n"), 1):
        lines.append(Line(t, i, off))
        off += len(t) + 1
    return Document(Path("x.md"), "lines", lines=lines)


SRC = """# 2023-10-01 測試座談

### 主持人：
各位好，我們開始。

### 林美華：
我覺得漁電共生要先問漁民。光電板放下去以後，養殖怎麼辦？
第二段在這裡；還有「這一句。」後面。

陳志明：我補充一下，碳費對中小企業壓力很大。
這是陳志明的第二段話。
"""


def test_heading_and_inline_turns_with_locations():
    turns = parse_turns(doc(SRC))
    assert [t.speaker for t in turns] == ["主持人", "林美華", "陳志明"]
    mei = turns[1]
    assert [p.line_start for p in mei.pieces] == [7, 8]
    p = mei.pieces[0]
    full = SRC
    assert full[p.char_start : p.char_end] == p.text
    chen = turns[2]
    assert chen.pieces[0].text == "我補充一下，碳費對中小企業壓力很大。"
    assert full[chen.pieces[0].char_start : chen.pieces[0].char_end] == chen.pieces[0].text


def test_sentence_split_keeps_closing_quotes_and_offsets():
    text = "第二段在這裡；還有「這一句。」後面。最後沒有標點"
    sents = split_sentences(Piece(text, 1, 1, 100, 100 + len(text)))
    assert [s.text for s in sents] == ["第二段在這裡；", "還有「這一句。」", "後面。", "最後沒有標點"]
    for s in sents:
        assert text[s.char_start - 100 : s.char_end - 100] == s.text


def test_units_turn_sentence_window():
    turn = parse_turns(doc(SRC))[1]
    assert len(cut_units(turn, "turn")) == 1
    sents = cut_units(turn, "sentence")
    assert len(sents) == 5
    windows = cut_units(turn, "window", 2)
    assert len(windows) == 3
    assert windows[0].text == sents[0].text + sents[1].text  # same line: no line break
    spanning = cut_units(turn, "window", 3)[0]
    assert spanning.text == sents[0].text + sents[1].text + "\n" + sents[2].text
    assert (spanning.line_start, spanning.line_end) == (7, 8)


def test_enumerations_are_not_speakers():
    turns = parse_turns(doc("### 林美華：\n第一：要有社會對話。\n問題：誰來付錢？"))
    assert len(turns) == 1 and len(turns[0].pieces) == 2


def test_label_forms_with_affiliation_start_turns():
    src = ("### 主持人：\n請大家發言。\n### 蔡宜芳（地球公民）：\n我先講。\n"
           "鄭美玲（台東縣漁會）：補助款太慢。\n潘志豪/台灣淨零公民陣線：我補充。\n"
           "地球公民 葉書瑋：我也是。\n(笑)：不是發言人\n問題（一）：也不是")
    turns = parse_turns(doc(src))
    assert [t.speaker for t in turns] == [
        "主持人", "蔡宜芳（地球公民）", "鄭美玲（台東縣漁會）", "潘志豪/台灣淨零公民陣線",
        "地球公民 葉書瑋"]
    assert turns[2].pieces[0].text == "補助款太慢。"
    assert [p.text for p in turns[-1].pieces] == ["我也是。", "(笑)：不是發言人", "問題（一）：也不是"]
