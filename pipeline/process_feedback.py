"""Feedback about the consultation process itself (諮商過程回饋): participation fatigue,
repetition and over-mobilisation, follow-up after the sessions, access to information,
accessibility of taking part.

Found by wording, per unit, from cues written from the issue that asked for it and the
programme's own worry about 重複、過度動員 (../shared/context seed document), not grown
from labelled items: there is no labelled set yet, so recall and precision are unmeasured
and the report says a reader should judge by the quotes. Cues that are common outside the
process (負擔, 交通, 回應) count only in a sentence that also names the consultation (諮商,
座談, 說明會, 場次 …) and judges or asks (不夠, 沒辦法, 希望, 是否 …): a mention of the meeting
is not feedback on it. Greetings, thanks and introductions (ingest's courtesy clauses), the
redaction's pseudonyms (與會者TU) and forms of address (各位與會的先進) are set aside first.
Precision on flagged units of real meetings the rules were not tuned on:
tests/data/process_feedback_labels.md. Outputs codes (the category ids); the report words them.
"""

from __future__ import annotations

import re

import pandas as pd

from pipeline.config import RolesConfig
from pipeline.ingest.procedural import content_chars
from pipeline.units import analysed_mask

# A word about the consultation or taking part in it.
PROCESS = re.compile(r"諮商|座談|說明會|公聽會|工作坊|場次|出席|與會|動員|參與的人|來參加|"
                     r"這(?:種|類|場|些)(?:會|會議|活動)|開會")
# category id -> (cue that needs PROCESS in the same unit, cue that stands alone)
CUES: dict[str, tuple[str, str]] = {
    "fatigue": (r"疲|負擔|累|沒有人力|抽不出|分身乏術|消耗|吃不消",
                r"參與疲乏|每場都要去|本業就不用做|場次太多|太多場"),
    "repetition": (r"重複|一再|又來|同一批|老面孔|一樣的問題|同樣的問題|都是同樣",
                   r"過度動員|重複動員|重複參與"),
    "follow_up": (r"回應|回覆|回饋|採納|追蹤|後續",
                  r"沒有下文|沒下文|石沉大海|(?:講|說|開)完(?:會)?就(?:沒|結束)|"
                  r"有沒有被?採納|意見(?:有沒有|是否)被?(?:採納|參考|回應)"),
    "information": (r"資訊|資料|看不懂|太專業|專有名詞|簡報",
                    r"會前(?:資料|資訊)|諮商(?:資訊|資料)"),
    "access": (r"無障礙|手語|交通|太遠|線上|視訊|上班時間|平日|翻譯|族語|報名|偏鄉|可近性|可及性",
               r"手語翻譯"),
}
CATEGORIES = tuple(CUES)
_NEEDS = {k: re.compile(a) for k, (a, _) in CUES.items()}
_ALONE = {k: re.compile(b) for k, (_, b) in CUES.items()}


# Pseudonyms the redaction writes (與會者TU, 主持人CY) and web addresses: 與會者 is not talk
# about attending, and a link is not talk about information.
_PLACEHOLDER = re.compile(r"(?:與會者|主持人|發言人|官員)[A-Z]{1,3}|\w+://\S+|〇+|"
                          # Forms of address: 「各位與會的先進」 greets, it does not judge.
                          r"(?:各位)?與會(?:的)?(?:關心\w{1,4}的)?(?:先進|夥伴|貴賓|專家|朋友|委員|代表)")
# A sentence gives feedback when it judges or asks for something: a lack, a difficulty, a wish,
# a question about what was done. Description of the meeting's own agenda ("我們會同步線上",
# "請上傳簡報") has none of these and is not feedback on the process.
JUDGEMENT = re.compile(r"不夠|不足|不清楚|看不懂|沒有|沒辦法|無法|很難|困難|太|不便|不方便|不易|"
                       r"希望|應該|應當|要考慮|可以更|能不能|可不可以|是否|有沒有|為什麼|"
                       r"為何|請假|擔心|問題是|可惜|遺憾|不要再|卻|只有")
_SENTENCE = re.compile(r"[^。！!？?；;\n]+[。！!？?；;]?")


def _sentences(text: str, roles: RolesConfig) -> list[str]:
    """The unit's sentences without courtesy clauses (greetings, thanks, introductions):
    「在場及線上的夥伴大家好」 names the meeting but says nothing about it."""
    out = []
    for sentence in _SENTENCE.findall(_PLACEHOLDER.sub("", text)):
        _, kind = content_chars(sentence, roles)
        if kind and content_chars(sentence, roles)[0] <= roles.procedural_max_content:
            continue
        out.append(sentence)
    return out


def categories_of(text: str, roles: RolesConfig | None = None) -> list[str]:
    """The process categories a unit's text speaks to, in CATEGORIES order.

    A category counts when one sentence holds a standalone cue (參與疲乏, 沒有下文), or holds
    a general cue, a word about the consultation and a judgement or request together: the
    cue must be about the consultation and be feedback, not a mention."""
    roles = roles or RolesConfig()
    found = set()
    for sentence in _sentences(text, roles):
        about = PROCESS.search(sentence) is not None and JUDGEMENT.search(sentence) is not None
        for k in CATEGORIES:
            if _ALONE[k].search(sentence) or (about and _NEEDS[k].search(sentence)):
                found.add(k)
    return [k for k in CATEGORIES if k in found]


def process_units(units: pd.DataFrame, roles: RolesConfig | None = None) -> pd.DataFrame:
    """One row per (analysed participant unit, category): unit_id, session_id, category."""
    rows = []
    mask = analysed_mask(units)
    if "role" in units:
        mask &= units["role"].isin(["participant"]) | units["role"].isna()
    if "procedural_kind" in units:  # ingest's greetings, hand-offs, logistics
        mask &= units["procedural_kind"].isna()
    sub = units[mask]
    for uid, sid, text in zip(sub["unit_id"], sub.get("session_id", [None] * len(sub)),
                              sub["text"], strict=True):
        for cat in categories_of(str(text), roles):
            rows.append({"unit_id": str(uid), "session_id": sid, "category": cat})
    return pd.DataFrame(rows, columns=["unit_id", "session_id", "category"])
