"""The process-feedback detector (pipeline/process_feedback.py) on sentences from real
meetings (../shared/corpora/transcripts, CC0; redaction pseudonyms as ingest writes them).
Precision on a random sample of flagged units: tests/data/process_feedback_labels.md."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.process_feedback import categories_of, process_units

FEEDBACK = [
    ("如果把開會地點設計在交通相對不是那麼方便的地方，擔心會影響邀請這幾位的出席狀況。", "access"),
    ("先是有關開放政府，有參加兩次工作坊，最近是鞭刑的案子，我希望不要再協作了，真的很累。",
     "fatigue"),
    ("我們開會如果沒有在適當的時間前把議題給大家，其實我們今天來沒有辦法找資料，我覺得很可惜。",
     "information"),
]
NOT_FEEDBACK = [
    # A greeting names the meeting (線上) but says nothing about it.
    "在場的夥伴及線上的夥伴大家好，我是與會者UF，謝謝我們這組的夥伴給我機會來表達。",
    # The redaction's pseudonym 與會者TU is not talk about attending.
    "衛福部先作他們的簡報，要花多少的與會者TU？",
    # A form of address and the agency's own answer (回應) to the proposals.
    "非常感謝與會關心幼教現場的夥伴提出了很多建議，我先綜整回應，等一下請各位再提出指教。",
    # Agenda talk: the meeting and its material, without a judgement or a request.
    "現在正在把簡報上傳，上傳到開會通知單資料下載的這個雲端上。",
]


@pytest.mark.parametrize(("text", "category"), FEEDBACK)
def test_feedback_on_the_process_is_found(text, category):
    assert category in categories_of(text)


@pytest.mark.parametrize("text", NOT_FEEDBACK)
def test_greetings_pseudonyms_and_agenda_are_not_feedback(text):
    assert categories_of(text) == []


def test_only_analysed_participant_units_that_ingest_did_not_set_aside():
    text = FEEDBACK[0][0]
    units = pd.DataFrame({
        "unit_id": ["a", "b", "c", "d"], "session_id": ["s"] * 4, "text": [text] * 4,
        "analysed": [True, True, False, True],
        "role": ["participant", "official", "participant", "participant"],
        "procedural_kind": [None, None, None, "greeting"]})
    assert process_units(units)["unit_id"].tolist() == ["a"]
