"""Template campaigns (pipeline/campaigns.py): planted near-duplicates among real comments."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.campaigns import (
    clean_text,
    find_campaigns,
    folded_members,
    shingle_hashes,
    signatures,
)
from pipeline.config import CampaignsConfig

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
POLIS = SHARED / "polis-tw" / "comments_dev.csv"
PETITION = SHARED / "join-reservoir-solar" / "endorsements.csv"

needs_corpora = pytest.mark.skipif(not POLIS.exists() or not PETITION.exists(),
                                   reason="../shared corpora not available")

# A template written for this test (not in any corpus), 46 characters.
TEMPLATE = "我們強烈要求政府推動能源轉型時，先保障在地居民的生計與就業，並公開所有光電補助與審查資訊。"
NOTES = ["拜託！", "我住台南", "請重視", "謝謝", "支持附議", "，刻不容緩", "同意", "!!"]
SWAPS = [("強烈", "嚴正"), ("政府", "行政院"), ("居民", "鄉親"), ("公開", "公布"),
         ("所有", "全部"), ("生計", "生活")]


def edited_copies(n: int, seed: int) -> list[str]:
    """n edited copies of TEMPLATE, each with one to three edits as people make them when
    they paste a template: a word swapped, a character dropped, punctuation changed, a short
    note of their own added before or after."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = TEMPLATE
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(["swap", "drop", "punct", "note"])
            if kind == "swap":
                a, b = rng.choice(SWAPS)
                text = text.replace(a, b, 1)
            elif kind == "drop":
                i = rng.randrange(len(text))
                text = text[:i] + text[i + 1:]
            elif kind == "punct":
                text = text.replace("，", rng.choice([" ", "、", ",", "；"]), 1).rstrip("。")
            else:
                note = rng.choice(NOTES)
                text = note + text if rng.random() < 0.5 else text + note
        out.append(text)
    return out


def real_comments() -> list[str]:
    """Every real comment of the two corpora: Pol.is comments from 18 conversations and the
    petition's 648 reasons (which hold real templates of their own)."""
    polis = pd.read_csv(POLIS)["comment_body"].dropna().astype(str).tolist()
    petition = pd.read_csv(PETITION)["reason"].dropna().astype(str).tolist()
    return [t for t in polis + petition if t.strip()]


def units_of(texts: list[str], sessions: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"unit_id": [f"{s}:{i}:0" for i, s in enumerate(sessions)],
                         "session_id": sessions, "text": texts, "analysed": True})


@needs_corpora
def test_planted_template_found_and_no_real_comment_joins_it() -> None:
    real = real_comments()
    planted = edited_copies(40, seed=15)
    # Planted copies spread through the real comments (seed 15), as a campaign arrives.
    rng = random.Random(15)
    slots = sorted(rng.sample(range(len(real) + len(planted)), len(planted)))
    texts, sessions, it_real, it_planted = [], [], iter(real), iter(planted)
    for i in range(len(real) + len(planted)):
        if slots and i == slots[0]:
            slots.pop(0)
            texts.append(next(it_planted))
            sessions.append("planted")
        else:
            texts.append(next(it_real))
            sessions.append("real")
    units = units_of(texts, sessions)
    found = find_campaigns(units, CampaignsConfig())
    json.dumps(found, ensure_ascii=False)  # campaigns.json is plain JSON
    planted_ids = set(units.loc[units.session_id == "planted", "unit_id"])
    best = max(found["campaigns"], key=lambda c: len(planted_ids & set(c["unit_ids"])))
    recall = len(planted_ids & set(best["unit_ids"])) / len(planted_ids)
    wrong = [u for u in best["unit_ids"] if u not in planted_ids]
    print(f"planted recall {recall:.3f}, real comments in the group: {len(wrong)}")
    assert recall >= 0.9
    assert wrong == []
    assert best["sessions"] == ["planted"]
    assert set(best) >= {"id", "size", "unit_ids", "example", "similarity", "sessions"}
    assert best["size"] == len(best["unit_ids"])
    # The real templates of the petition are found as well: its 47 copies of one reason.
    assert any(c["size"] >= 40 and "拒絕水庫水面裝設太陽能板" in c["example"]
               for c in found["campaigns"])


def test_short_slogans_and_different_comments_are_not_campaigns() -> None:
    texts = ["支持", "支持", "支持", "支持",  # shorter than min_chars: chance, not a template
             "水庫是民生用水的來源，不應該裝設光電板",
             "離岸風電的漁業補償應該透明公開給漁民",
             "公正轉型需要照顧煤礦與電廠的勞工"]
    found = find_campaigns(units_of(texts, ["s"] * len(texts)), CampaignsConfig())
    assert found["campaigns"] == []
    assert found["units_considered"] == 3


def test_same_input_same_campaigns_and_disabled() -> None:
    texts = edited_copies(12, seed=3) + ["完全不同的一段意見，談的是電價與產業"] * 1
    units = units_of(texts, ["a"] * 6 + ["b"] * 7)
    first = find_campaigns(units, CampaignsConfig())
    assert first == find_campaigns(units, CampaignsConfig())
    (c,) = first["campaigns"]
    assert c["sessions"] == ["a", "b"] and c["size"] == 12
    assert len(folded_members(first)) == 11
    assert find_campaigns(units, CampaignsConfig(enabled=False))["campaigns"] == []


def trigrams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(max(len(text) - 2, 1))}


def test_shingle_hashes_are_the_character_ngrams_of_each_text() -> None:
    texts = [clean_text(t) for t in [TEMPLATE, *edited_copies(20, seed=5), "水庫", "a"]]
    hashes, offsets = shingle_hashes(texts, 3)
    assert len(offsets) == len(texts) + 1
    for i, t in enumerate(texts):
        own = set(hashes[offsets[i]:offsets[i + 1]].tolist())
        assert len(own) == len(trigrams(t))  # no collisions, no window across texts
        if i:
            first = set(hashes[offsets[0]:offsets[1]].tolist())
            assert len(own & first) == len(trigrams(t) & trigrams(texts[0]))


def test_signature_agreement_estimates_jaccard_similarity() -> None:
    texts = [clean_text(t) for t in [TEMPLATE, *edited_copies(60, seed=9),
                                     "公正轉型需要照顧煤礦與電廠的勞工，也要照顧他們的家庭與社區"]]
    sig = signatures(*shingle_hashes(texts, 3), num_perm=256)
    true = np.array([len(trigrams(t) & trigrams(texts[0])) / len(trigrams(t) | trigrams(texts[0]))
                     for t in texts[1:]])
    est = (sig[1:] == sig[0]).mean(axis=1)
    assert true.min() < 0.2 and true.max() > 0.9
    assert np.abs(est - true).mean() < 0.03  # 256 permutations: error about ±0.03 each
    assert np.array_equal(sig, signatures(*shingle_hashes(texts, 3), num_perm=256))


def test_a_campaign_of_hundreds_is_one_group() -> None:
    """Copies share LSH buckets by the hundred; each is checked against a bucket's first
    members only, and the group must still come out whole."""
    texts = edited_copies(400, seed=21)
    found = find_campaigns(units_of(texts, ["s"] * len(texts)), CampaignsConfig())
    assert found["campaigns"][0]["size"] >= 0.95 * len(texts)


@needs_corpora
@pytest.mark.slow
def test_a_template_campaign_counts_once_in_the_themes() -> None:
    """Real comments of four Pol.is conversations (30 each) and 40 edited copies of one
    template: fitted as they are, the copies make a theme of their own; with the campaign
    folded into its representative they join one topical theme, and its size counts them.
    The real end-to-end check (embedding model and BERTopic), kept small: 160 comments."""
    from pipeline.campaigns import fit_with_campaigns
    from pipeline.config import load_config
    from pipeline.embed import embed_texts

    df = pd.read_csv(POLIS, dtype=str)
    df = df[df["conversation"].isin(["6bsn3yezre", "talkto02-12-04", "talkto16-11-17",
                                     "vtaiwan-uberx-08-09"])]
    real = df.groupby("conversation", sort=True).head(30)
    texts = real["comment_body"].tolist() + edited_copies(40, seed=7)
    sessions = real["conversation"].tolist() + ["planted"] * 40
    units = units_of(texts, sessions).assign(role="participant", session_type=None,
                                             session_location=None)
    cfg = load_config()
    emb, _ = embed_texts(texts, cfg.embed, cfg.segment, kind="query")
    found = find_campaigns(units, cfg.campaigns)
    planted = set(units.loc[units.session_id == "planted", "unit_id"])

    def planted_share(result) -> float:
        ut = result.unit_themes
        best = 0.0
        for _tid, sub in ut[ut.theme_id >= 0].groupby("theme_id"):
            best = max(best, sub.unit_id.isin(planted).mean())
        return best

    plain = fit_with_campaigns(units, emb, cfg, None)
    folded = fit_with_campaigns(units, emb, cfg, found)
    assert planted_share(plain) > 0.8  # the template is a theme of its own
    assert planted_share(folded) < 0.6  # it counts once, inside a topical theme
    ut = folded.unit_themes.set_index("unit_id")
    assert len(ut) == len(units) and ut.loc[list(planted), "theme_id"].nunique() == 1
    tid = int(ut.loc[sorted(planted)[0], "theme_id"])
    theme = next(t for t in folded.themes if t["id"] == tid)
    assert theme["size"] == int((ut["theme_id"] == tid).sum())
    assert folded.stats["campaign_members_folded"] >= 38
    sizes = [t["size"] for t in folded.themes]
    assert sizes == sorted(sizes, reverse=True)
    assert np.isclose(sum(t["share"] for t in folded.themes) + folded.stats["outlier_share"], 1)
