"""Stance: cue evidence, the classifier on real e5 embeddings of real labelled units, the
evaluation's grouped folds, the proposals list, bad label files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import load_config
from pipeline.embed import embed_texts
from pipeline.evaluate.stance import eval_stance, read_labels
from pipeline.segment import get_segmenter
from pipeline.source import InputError
from pipeline.stance import model as sm
from pipeline.stance.cues import STANCES, cue_matches, cue_stance
from pipeline.stance.proposals import build_proposals
from pipeline.stance.stage import classify_units

LABELS = Path(__file__).parent / "data" / "stance_labels.jsonl"


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    return read_labels(LABELS)


def by_id(rows: list[dict], *ids: str) -> list[dict]:
    index = {r["id"]: r for r in rows}
    return [index[i] for i in ids]


def test_opposition_cue_hides_the_proposal_cue_inside_it():
    found = cue_matches("不應該是環保署修法幫這些企業主解套")
    assert found.get("opposition") == ["不應該"]
    assert "proposal" not in found


def test_cue_baseline_on_real_units(labelled):
    # st359 asks for an explanation, st585 proposes a licence (應該), st564 opposes (反對),
    # st040 explains the law.
    rows = by_id(labelled, "st359", "st585", "st564", "st040")
    assert [cue_stance(r["text"]) for r in rows] == ["question", "proposal", "opposition",
                                                     "statement"]


def test_labels_file_codes_and_groups(labelled):
    assert len(labelled) >= 600
    assert {r["label"] for r in labelled} == set(STANCES)
    meetings = {r["group"] for r in labelled if r["group"].startswith("transcripts/")}
    assert len(meetings) >= 20
    assert any("join-reservoir-solar" in r["group"] for r in labelled)
    assert any("vtaiwan-uberx" in r["group"] for r in labelled)
    assert all(r["reason"].strip() for r in labelled)


def test_bad_label_names_file_and_line(tmp_path: Path):
    bad = tmp_path / "labels.jsonl"
    bad.write_text(json.dumps({"id": "a", "group": "g", "text": "好", "label": "建議"},
                              ensure_ascii=False) + "\n"
                   + json.dumps({"id": "b", "group": "g", "text": "好", "label": "贊美"},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"labels.jsonl:2: unknown label '贊美'"):
        read_labels(bad)


def test_group_folds_keep_meetings_whole():
    groups = np.array(["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"] * 2 + ["e"])
    folds = sm.group_folds(groups, 3)
    assert np.all(np.sum(folds, axis=0) == 1)  # every unit tested exactly once
    for f in folds:
        inside = set(groups[f])
        assert not inside & set(groups[~f])


def test_classifier_on_real_embeddings(labelled):
    cfg = load_config()
    rows = [r for r in labelled if r["group"].startswith("vtaiwan")][:24]
    units = pd.DataFrame({"unit_id": [r["id"] for r in rows],
                          "text": [r["text"] for r in rows]})
    emb, _ = embed_texts(units["text"].tolist(), cfg.embed, cfg.segment, kind="query")
    table, note = classify_units(units, emb, cfg)
    assert note is None
    assert list(table.columns) == ["unit_id", "stance", "probability", "evidence"]
    assert table["unit_id"].tolist() == units["unit_id"].tolist()
    assert table["stance"].isin(STANCES).all()
    assert table["probability"].between(1 / len(STANCES), 1.0).all()
    for text, stance, evidence in zip(units["text"], table["stance"], table["evidence"],
                                      strict=True):
        for word in filter(None, evidence.split("、")):
            assert word in text and word in cue_matches(text)[stance]
    # In-sample (the shipped model was fitted on these units): a sanity floor, not a figure.
    gold = [r["label"] for r in rows]
    assert np.mean(table["stance"].to_numpy() == np.array(gold)) >= 0.6


def test_other_backend_falls_back_to_cue_rules(labelled):
    cfg = load_config(overrides=["embed.backend=tfidf"])
    rows = by_id(labelled, "st359", "st585")
    units = pd.DataFrame({"unit_id": [r["id"] for r in rows],
                          "text": [r["text"] for r in rows]})
    table, note = classify_units(units, np.zeros((2, 256), np.float32), cfg)
    assert "cue-word rules" in note
    assert table["stance"].tolist() == ["question", "proposal"]
    assert table["probability"].isna().all()


def test_eval_stance_on_a_subset(labelled, tmp_path: Path):
    groups = sorted({r["group"] for r in labelled})[:8]
    subset = tmp_path / "subset.jsonl"
    keep = [line for line in LABELS.read_text(encoding="utf-8").splitlines()
            if json.loads(line)["group"] in groups]
    subset.write_text("\n".join(keep) + "\n", encoding="utf-8")
    out = eval_stance(subset, load_config())
    assert out["units"] == len(keep) and out["groups"] == 8
    for k in ("model", "cue_baseline", "cues_only_model"):
        assert 0.0 <= out["macro_f1"][k] <= 1.0
        lo, hi = out["macro_f1_ci95"][k]
        assert lo <= hi
    confusion = out["confusion_model (rows gold, columns predicted)"]
    assert sum(sum(r.values()) for r in confusion.values()) == len(keep)


def test_proposals_merge_near_duplicates_across_sessions(labelled):
    cfg = load_config()
    # Two Pol.is comments asking Uber to pay its taxes, one on driver licences (closer to the
    # second in e5 cosine than the two tax comments are to each other), one on rural
    # service, spread over three sessions.
    rows = by_id(labelled, "st614", "st615", "st585", "st620")
    units = pd.DataFrame({
        "unit_id": ["u1", "u2", "u3", "u4"], "text": [r["text"] for r in rows],
        "session_id": ["s1", "s2", "s1", "s3"], "session_type": ["網路", "座談", "網路", "座談"],
        "session_title": ["A", "B", "A", "C"], "session_date": None,
        "speaker": ["甲", "乙", "丙", "丁"], "role": "participant", "turn": [1, 1, 2, 1],
        "file": "x", "line_start": [1, 1, 2, 1], "line_end": [1, 1, 2, 1]})
    units["tokens"] = get_segmenter(cfg.segment).tokens_many(units["text"].tolist())
    emb, _ = embed_texts(units["text"].tolist(), cfg.embed, cfg.segment, kind="query")
    stance = pd.DataFrame({"unit_id": units["unit_id"], "stance": "proposal",
                           "probability": [0.9, 0.8, 0.7, 0.95], "evidence": ""})
    areas = pd.DataFrame({"unit_id": units["unit_id"], "key_area": ["S11", "S11", "S11", "NONE"]})
    themes = pd.DataFrame({"unit_id": units["unit_id"], "theme_id": [0, 0, 1, -1]})
    out = build_proposals(units, emb, stance, areas, themes, cfg)
    assert out["proposal_units"] == 4 and out["unmapped_proposal_units"] == 1
    (area,) = out["areas"]
    assert area["area"] == "S11" and area["distinct_proposals"] == 2
    first, second = area["proposals"]
    assert {s["unit_id"] for s in first["sources"]} == {"u1", "u2"}
    assert (first["sessions"], first["speakers"], first["rank"]) == (2, 2, 1)
    assert second["unit_id"] == "u3"
    shares = out["stance_shares"]
    assert shares["all"]["counts"]["proposal"] == 4
    assert shares["session_type"]["網路"]["units"] == 2
    assert set(shares["theme"]) == {"-1", "0", "1"}
