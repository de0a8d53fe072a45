"""Feedback about the consultation process itself (諮商過程回饋): participation fatigue,
repetition and over-mobilisation, follow-up after the sessions, access to information,
accessibility of taking part.

Found by wording, per unit, from cues written from the issue that asked for it and the
programme's own worry about 重複、過度動員 (../shared/context seed document), not grown
from labelled items: there is no labelled set yet, so recall and precision are unmeasured
and the report says a reader should judge by the quotes. Cues that are common outside the
process (負擔, 交通, 回應) count only together with a word about taking part (參與, 場次,
會議 …) in the same unit. Outputs codes (the category ids); the report words them.
"""

from __future__ import annotations

import re

import pandas as pd

from pipeline.units import analysed_mask

# A word about the consultation or taking part in it.
PROCESS = re.compile(r"參與|出席|參加|開會|會議|場次|座談|諮商|說明會|公聽會|工作坊|論壇|"
                     r"邀請|動員|這種活動|這類活動")
# category id -> (cue that needs PROCESS in the same unit, cue that stands alone)
CUES: dict[str, tuple[str, str]] = {
    "fatigue": (r"疲|負擔|累|沒有人力|抽不出|分身乏術|消耗|吃不消",
                r"參與疲乏|疲於奔命|每場都要|本業就不用做|場次太多|太多場"),
    "repetition": (r"重複|一再|又來|同一批|老面孔|一樣的問題|同樣的問題|都是同樣",
                   r"過度動員|重複動員|重複參與"),
    "follow_up": (r"回應|回覆|回饋|採納|追蹤|後續",
                  r"沒有下文|沒下文|石沉大海|(?:講|說|開)完(?:會)?就(?:沒|結束)|"
                  r"有沒有被?採納|意見(?:有沒有|是否)被?(?:採納|參考|回應)"),
    "information": (r"資訊|資料|看不懂|太專業|專有名詞|簡報",
                    r"資訊不(?:足|夠|透明|公開|對稱)|資料(?:太晚|不足|不夠)|會前(?:資料|資訊)|"
                    r"事先(?:提供|寄)"),
    "access": (r"無障礙|手語|交通|太遠|線上|視訊|上班時間|平日|翻譯|族語|報名|偏鄉",
               r"無障礙|手語翻譯|可近性|可及性"),
}
CATEGORIES = tuple(CUES)
_NEEDS = {k: re.compile(a) for k, (a, _) in CUES.items()}
_ALONE = {k: re.compile(b) for k, (_, b) in CUES.items()}


def categories_of(text: str) -> list[str]:
    """The process categories a unit's text speaks to, in CATEGORIES order."""
    about_process = PROCESS.search(text) is not None
    return [k for k in CATEGORIES
            if _ALONE[k].search(text) or (about_process and _NEEDS[k].search(text))]


def process_units(units: pd.DataFrame) -> pd.DataFrame:
    """One row per (analysed participant unit, category): unit_id, session_id, category."""
    rows = []
    mask = analysed_mask(units)
    if "role" in units:
        mask &= units["role"].isin(["participant"]) | units["role"].isna()
    sub = units[mask]
    for uid, sid, text in zip(sub["unit_id"], sub.get("session_id", [None] * len(sub)),
                              sub["text"], strict=True):
        for cat in categories_of(str(text)):
            rows.append({"unit_id": str(uid), "session_id": sid, "category": cat})
    return pd.DataFrame(rows, columns=["unit_id", "session_id", "category"])
