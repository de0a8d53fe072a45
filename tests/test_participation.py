"""Collaboration map on the real sample round: manifest counts, flags, pairs, attribution."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.config import ParticipationConfig, load_config
from pipeline.ingest import ingest_round
from pipeline.participation import (
    LONG_COLUMNS,
    CollaborationMap,
    collaboration_map,
    parse_names,
    self_introduced,
    session_organisations,
    to_json,
)

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpora" / "sample-round"
CIVIC = ["台灣淨零公民陣線", "青年綠領行動網絡"]
ORGANISER = "國家發展委員會"
OUTLIER_SESSION = "s02"


@pytest.fixture(scope="module")
def manifest() -> dict[str, list[str]]:
    """Session id -> organisations, read straight from round.yaml (the ground truth)."""
    data = yaml.safe_load((SAMPLE / "round.yaml").read_text(encoding="utf-8"))
    return {s["id"]: list(s["organisations"]) for s in data["sessions"]}


@pytest.fixture(scope="module")
def participants() -> dict[str, list[str]]:
    data = yaml.safe_load((SAMPLE / "round.yaml").read_text(encoding="utf-8"))
    return {s["id"]: list(s["participants"]) for s in data["sessions"]}


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return ingest_round(SAMPLE, load_config(None, [])).units


@pytest.fixture(scope="module")
def themed(units: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """One theme per session (s01 -> 0, ...), s02's units outliers: expected counts are then
    simply the analysed units per attended session."""
    sids = sorted(units["session_id"].unique())
    analysed = units[units["analysed"]]
    tids = [-1 if s == OUTLIER_SESSION else sids.index(s) for s in analysed["session_id"]]
    unit_themes = pd.DataFrame({"unit_id": analysed["unit_id"].to_numpy(), "theme_id": tids,
                                "probability": 1.0})
    themes = {"themes": [{"id": i, "label": f"主題{s}", "size": tids.count(i)}
                         for i, s in enumerate(sids) if s != OUTLIER_SESSION]}
    return unit_themes, themes


def _map(units, themed, max_sessions: int = 3, **kw) -> CollaborationMap:
    cfg = load_config(None, [f"participation.max_sessions={max_sessions}"]).participation
    return collaboration_map(units, *themed, cfg, **kw)


def _attends(manifest: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for sid, orgs in manifest.items():
        for org in orgs:
            out.setdefault(org, []).append(sid)
    return out


# --- session_organisations ------------------------------------------------------------


def test_long_table_is_the_manifest(units, manifest):
    long = session_organisations(units)
    assert list(long.columns) == LONG_COLUMNS
    got = {sid: g["organisation"].tolist() for sid, g in long.groupby("session_id", sort=False)}
    assert got == manifest
    # Sessions ordered by date: the sample's ids already are.
    assert list(dict.fromkeys(long["session_id"])) == sorted(manifest)
    s03 = long[long["session_id"] == "s03"].iloc[0]
    assert (s03["session_type"], s03["session_location"], s03["session_date"]) == (
        "各類團體", "花蓮", "2023-10-27")


def test_participants_fallback_when_a_session_has_no_organisations(units, manifest, participants):
    u = units.copy()
    u.loc[u["session_id"] == "s01", "session_organisations"] = None
    long = session_organisations(u)
    got = {sid: g["organisation"].tolist() for sid, g in long.groupby("session_id", sort=False)}
    assert got == {**manifest, "s01": participants["s01"]}
    # Without the column at all every session falls back.
    long = session_organisations(units.drop(columns=["session_organisations"]))
    got = {sid: g["organisation"].tolist() for sid, g in long.groupby("session_id", sort=False)}
    assert got == participants


@pytest.mark.parametrize("value, expected", [
    (["甲會", " 乙會 ", "甲會", ""], ["甲會", "乙會"]),
    ('["甲會", "乙會", "甲會"]', ["甲會", "乙會"]),
    ("甲會、乙會、 甲會", ["甲會", "乙會"]),
    ("甲會，乙會; 丙會", ["甲會", "乙會", "丙會"]),
    (np.array(["甲會", "乙會"], dtype=object), ["甲會", "乙會"]),
    ("[待補]", ["[待補]"]),
    (None, []),
    (float("nan"), []),
    ("  ", []),
])
def test_parse_names_forms(value, expected):
    assert parse_names(value) == expected


# --- counts and flags -----------------------------------------------------------------


def test_counts_per_organisation_equal_the_manifest(units, themed, manifest):
    cmap = _map(units, themed)
    attends = _attends(manifest)
    summary = cmap.org_summary.set_index("organisation")
    assert set(summary.index) == set(attends)
    for org, sids in attends.items():
        assert summary.loc[org, "sessions"] == len(sids), org
        assert summary.loc[org, "session_ids"] == sids, org
        assert cmap.org_sessions.loc[org].sum() == len(sids), org
        assert [s for s in cmap.org_sessions.columns if cmap.org_sessions.loc[org, s]] == sids
    assert list(cmap.org_sessions.columns) == sorted(manifest)
    assert list(cmap.org_sessions.index) == cmap.org_summary["organisation"].tolist()
    # Most sessions first.
    assert cmap.org_summary["sessions"].is_monotonic_decreasing
    # The sample is built so the two civic groups attend four sessions each.
    assert [len(attends[o]) for o in CIVIC] == [4, 4]


def test_civic_groups_flagged_at_three_not_at_four(units, themed):
    cmap = _map(units, themed, max_sessions=3)
    assert cmap.flagged == CIVIC
    summary = cmap.org_summary.set_index("organisation")
    for org in CIVIC:
        assert summary.loc[org, "flagged"]
        assert summary.loc[org, "reason"] == "max_sessions"  # the report words it
    assert summary.loc[ORGANISER, "sessions"] == 5
    assert summary.loc[ORGANISER, "organiser"]
    assert not summary.loc[ORGANISER, "flagged"]
    assert summary.loc[ORGANISER, "reason"] is None
    assert summary["flagged"].sum() == 2

    raised = _map(units, themed, max_sessions=4)
    assert raised.flagged == []
    assert not raised.org_summary["flagged"].any()


def test_organiser_never_flagged_but_would_be_without_the_exemption(units, themed):
    low = _map(units, themed, max_sessions=1)
    assert ORGANISER not in low.flagged
    # Everyone else with two or more sessions is.
    multi = low.org_summary.query("sessions > 1 and not organiser")["organisation"].tolist()
    assert low.flagged == multi and len(multi) == 5
    bare = collaboration_map(units, *themed, ParticipationConfig(max_sessions=3, organisers=[]))
    assert bare.flagged == [ORGANISER, *CIVIC]


# --- network --------------------------------------------------------------------------


def test_pairs_are_symmetric_counted_once_and_complete(units, themed, manifest):
    cmap = _map(units, themed)
    attends = {o: set(s) for o, s in _attends(manifest).items()}
    order = cmap.org_summary["organisation"].tolist()
    keys = [frozenset((a, b)) for a, b in zip(cmap.pairs["org_a"], cmap.pairs["org_b"],
                                                 strict=True)]
    assert len(keys) == len(set(keys))
    for row in cmap.pairs.itertuples():
        assert row.org_a != row.org_b
        assert order.index(row.org_a) < order.index(row.org_b)
        shared = sorted(attends[row.org_a] & attends[row.org_b])
        assert row.sessions == len(shared) and row.session_ids == shared
        assert row.organiser == (ORGANISER in (row.org_a, row.org_b))
    expected = {frozenset((a, b)) for a, b in combinations(attends, 2)
                if len(attends[a] & attends[b]) >= 2}
    assert set(keys) == expected
    assert frozenset(CIVIC) in expected
    assert cmap.pairs["sessions"].is_monotonic_decreasing
    # The co-attendance matrix is symmetric: rebuilding it from the edges both ways agrees.
    presence = cmap.org_sessions.to_numpy()
    co = presence @ presence.T
    idx = {o: i for i, o in enumerate(order)}
    for row in cmap.pairs.itertuples():
        assert co[idx[row.org_a], idx[row.org_b]] == co[idx[row.org_b], idx[row.org_a]] == \
            row.sessions
    assert collaboration_map(units, *themed, ParticipationConfig(), min_shared=3).pairs[
        "sessions"].min() == 3


# --- themes ---------------------------------------------------------------------------


def test_themes_are_attributed_by_session_presence(units, themed, manifest):
    cmap = _map(units, themed)
    per_session = units[units["analysed"]].groupby("session_id").size()
    sids = sorted(manifest)
    # The outlier session's "theme" never becomes a column.
    assert list(cmap.org_themes.columns) == [i for i, s in enumerate(sids)
                                            if s != OUTLIER_SESSION]
    for org, attended in _attends(manifest).items():
        row = cmap.org_themes.loc[org]
        for tid in cmap.org_themes.columns:
            expected = per_session[sids[tid]] if sids[tid] in attended else 0
            assert row[tid] == expected, (org, tid)
    summary = cmap.org_summary.set_index("organisation")
    assert summary.loc["台灣淨零公民陣線", "analysed_units"] == sum(
        per_session[s] for s in ["s01", "s03", "s05", "s06"])
    top = summary.loc["台灣淨零公民陣線", "top_themes"]
    assert [t["theme_id"] for t in top] == sorted(
        [0, 2, 4, 5], key=lambda t: (-per_session[sids[t]], t))[:3]
    assert all(t["label"] == f"主題{sids[t['theme_id']]}" for t in top)


def test_direct_attribution_from_unit_organisation_column_and_speaker(units, themed, manifest):
    cmap = _map(units, themed)
    analysed = units[units["analysed"]]
    summary = cmap.org_summary.set_index("organisation")
    # s06 is a CSV with an organisation column: those units are directly attributed.
    said = analysed[analysed["meta_organisation"] == "台灣淨零公民陣線"]
    assert len(said) > 0
    # ... and so are the units of speakers who introduced themselves as from it (「我是台灣
    # 淨零公民陣線的…」), in the sessions whose manifest lists it.
    intro = self_introduced(units, list(summary.index))
    assert intro[("s01", "與會者E")] == "台灣淨零公民陣線"
    listed = {s for s, orgs in manifest.items() if "台灣淨零公民陣線" in orgs}
    introduced = analysed[[intro.get((s, sp)) == "台灣淨零公民陣線" and s in listed
                           for s, sp in zip(analysed["session_id"], analysed["speaker"],
                                            strict=True)]]
    assert len(introduced) > 0
    own = set(said["unit_id"]) | set(introduced["unit_id"])
    assert summary.loc["台灣淨零公民陣線", "direct_units"] == len(own)
    assert summary.loc["台灣淨零公民陣線", "attribution"] == "speaker"
    assert cmap.org_themes_direct.loc["台灣淨零公民陣線"].sum() == len(own)
    assert summary.loc["國家發展委員會", "direct_units"] == 0
    # An organisation the CSV names but the manifest does not list is reported, not counted.
    csv_orgs = set(analysed["meta_organisation"].dropna())
    missing = csv_orgs - set(manifest["s06"])
    assert missing
    assert set(cmap.unlisted["organisation"]) == missing
    assert not missing & set(summary.index)

    # In the sample, participants' redacted labels never carry an organisation name (officials'
    # carry the body they speak for: 官員B（經濟部能源署）) ...
    names = {o for orgs in manifest.values() for o in orgs}
    people = units.loc[units["role"] == "participant", "speaker"].dropna().unique()
    assert not any(n in str(s) for s in people for n in names)
    # ... but a kept label that does counts as directly raised where the org was listed,
    # and as unlisted where it was not.
    u = units.copy()
    s01 = u.index[(u["session_id"] == "s01") & u["analysed"]][:2]
    s02 = u.index[(u["session_id"] == "s02") & u["analysed"]][:1]
    u.loc[s01, "speaker"] = "台灣經濟研究院代表"
    u.loc[s02, "speaker"] = "台灣經濟研究院代表"
    direct = collaboration_map(u, *themed, ParticipationConfig())
    assert direct.org_summary.set_index("organisation").loc[
        "台灣經濟研究院", "direct_units"] == 2
    row = direct.unlisted[direct.unlisted["source"] == "speaker"]
    assert row[["session_id", "organisation", "units"]].values.tolist() == [
        ["s02", "台灣經濟研究院", 1]]


# --- robustness and output ------------------------------------------------------------


@pytest.mark.parametrize("drop", [
    ["session_organisations", "session_participants"],
    ["session_id"],
])
def test_missing_columns_give_an_empty_map(units, themed, drop):
    cmap = _map(units.drop(columns=drop), themed)
    assert cmap.empty and cmap.flagged == [] and cmap.pairs.empty and cmap.org_themes.empty
    assert session_organisations(units.drop(columns=drop)).empty
    out = to_json(cmap)
    assert out["organisations"] == [] and out["flagged"] == []
    json.dumps(out)


def test_empty_inputs(themed):
    cmap = collaboration_map(pd.DataFrame(), None, None, ParticipationConfig())
    assert cmap.empty
    assert json.dumps(to_json(cmap))


def test_no_themes_still_gives_presence(units, manifest):
    cmap = collaboration_map(units, None, None, ParticipationConfig())
    assert cmap.flagged == CIVIC
    assert cmap.org_themes.shape == (len(_attends(manifest)), 0)
    assert all(t == [] for t in cmap.org_summary["top_themes"])


def test_names_are_exactly_manifest_names(units, themed, manifest):
    cfg = load_config(None, [])
    out = to_json(_map(units, themed))
    names = {o for orgs in manifest.values() for o in orgs}
    seen = {o["organisation"] for o in out["organisations"]}
    seen |= set(out["org_sessions"]["rows"]) | set(out["org_themes"]["rows"])
    seen |= {p[k] for p in out["pairs"] for k in ("org_a", "org_b")} | set(out["flagged"])
    assert seen == names
    text = json.dumps(out, ensure_ascii=False)
    for prefix in (cfg.redact.pseudonym_prefix, cfg.redact.official_prefix):
        assert prefix not in text


def test_json_is_deterministic_and_independent_of_row_order(units, themed):
    out = json.dumps(to_json(_map(units, themed)), ensure_ascii=False)
    unit_themes, themes = themed
    shuffled = collaboration_map(
        units.sample(frac=1.0, random_state=1), unit_themes.sample(frac=1.0, random_state=2),
        themes, load_config(None, ["participation.max_sessions=3"]).participation)
    assert json.dumps(to_json(shuffled), ensure_ascii=False) == out
    data = json.loads(out)
    assert data["flagged"] == CIVIC
    assert data["org_sessions"]["columns"] == ["s01", "s02", "s03", "s04", "s05", "s06"]
    assert isinstance(data["organisations"][0]["sessions"], int)


def test_participation_json_round_trips_and_limit_reapplies(units, themed):
    """participation.json (the stage's file) reads back into the same map, and the report's
    session limit re-flags it without re-running the stage."""
    from pipeline.participation import from_json, participation_json, to_json, with_limit

    cmap = collaboration_map(units, *themed, ParticipationConfig(max_sessions=1, organisers=[]))
    doc = json.loads(participation_json(cmap))
    back = from_json(doc)
    assert to_json(back) == doc
    assert back.flagged, "with a limit of 1 some organisation attends more sessions"
    relaxed = with_limit(back, 99)
    assert relaxed.flagged == [] and not relaxed.org_summary["flagged"].any()
    assert relaxed.org_summary["reason"].isna().all()
    strict = with_limit(relaxed, 1)
    assert strict.flagged == back.flagged
