"""The learned mapper's conversational context (pipeline/mapping/context.py) and the NONE
threshold's objective: the variants measured for the NONE-vs-area decision (docs/mapping.md,
"Conversational context"). Off in the shipped recipe; what is tested is that the context is
defined the same way at run time (the round's units table) and in the evaluation (the dev
file's meetings ingested by the pipeline), and that an unknown objective is an error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Config
from pipeline.mapping.context import dev_neighbour_texts, neighbour_pairs, neighbour_vectors


def test_neighbours_stay_inside_a_session_and_between_speakers():
    units = pd.DataFrame({
        "session_id": ["a", "a", "a", "b", "b", "c"],
        "speaker": ["甲", "乙", "甲", "丙", None, None],
        "text": ["一", "二", "三", "四", "五", "六"],
    })
    assert neighbour_pairs(units) == [(None, 1), (0, 2), (1, None), (None, None),
                                      (None, None), (None, None)]


def test_neighbour_vectors_are_unit_length_means_and_zero_without_context():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) / [[1], [1], [np.sqrt(2)]]
    xn = neighbour_vectors(x, [(None, 1), (0, 1), (None, None)])
    assert np.allclose(xn[0], [0.0, 1.0])
    assert np.allclose(xn[1], np.array([1.0, 1.0]) / np.sqrt(2))
    assert not xn[2].any()


def test_context_features_are_no_information_without_neighbours():
    from pipeline.mapping.prototypes import ProtoModel, ProtoSet

    v = np.eye(3)
    ps = ProtoSet(v, np.array(["A", "B", "B"], dtype=object),
                  np.array(["m1", "m2", "m3"], dtype=object))
    plain = ProtoModel(["A", "B"], {"dev": ps}, False)
    ctx = ProtoModel(["A", "B"], {"dev": ps}, False, use_neighbours=True)
    f0 = plain.feats(v[:2], None)
    f1 = ctx.feats(v[:2], None, xn=np.vstack([v[1], np.zeros(3)]))
    assert f1.shape[2] == 2 * f0.shape[2]
    assert np.allclose(f1[:, :, : f0.shape[2]], f0)
    assert f1[0, :, f0.shape[2]:].any() and not f1[1, :, f0.shape[2]:].any()


def test_unknown_none_objective_is_an_error():
    from pipeline.mapping.calibration import calibrate
    from pipeline.mapping.examples import Example

    raw = {"Z": np.zeros((2, 2)), "J": np.zeros((2, 0)), "F": np.zeros((2, 1))}
    gold = [Example("x", "NONE", "dev"), Example("y", "S01", "dev")]
    with pytest.raises(ValueError, match="none_objective"):
        calibrate(raw, gold, ["S01", "NONE"], [], [""], "accuracy")


def test_evaluation_context_is_the_ingested_meetings_neighbours(tmp_path: Path):
    turns = [("王小明", "今天我們討論社區的太陽光電板要裝在哪裡，大家可以先想一想屋頂的條件。"),
             ("李大華", "我覺得學校屋頂很適合裝太陽光電，而且可以讓學生學習再生能源的知識。"),
             ("陳美玲", "對，這個很重要，而且要跟社區的居民先溝通好，才不會有反彈的聲音。"),
             ("張志強", "另外儲能設備的成本也要考慮，不然晚上還是要用電網的電力來補足。")]
    body = "# 2024-01-01 社區光電座談\n\n" + "".join(f"### {s}：\n{t}\n\n" for s, t in turns)
    (tmp_path / "2024-01-01-社區光電座談.md").write_text(body, encoding="utf-8")
    rows = [{"file": "2024-01-01-社區光電座談.md", "text": turns[2][1]},
            {"file": "reasons.csv", "text": "不要"}]
    got = dev_neighbour_texts(rows, tmp_path, Config())
    prev, nxt = got[0]
    assert prev is not None and "學校屋頂" in prev
    assert nxt is not None and "儲能設備" in nxt
    assert got[1] == (None, None)
