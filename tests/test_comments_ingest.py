"""Written comments as a round: column mapping, the comments profile, blank and duplicate
rows, a manifest's per-file columns, Pol.is votes (pipeline/ingest, readers/votes.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.config import Config, load_config
from pipeline.ingest import ingest_round
from pipeline.source import InputError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
PETITION = SHARED / "join-reservoir-solar" / "endorsements.csv"
UBERX = SHARED / "vtaiwan-uberx"

needs_petition = pytest.mark.skipif(not PETITION.exists(), reason="../shared corpora missing")
needs_uberx = pytest.mark.skipif(not UBERX.exists(), reason="../shared corpora missing")


def _cfg(*overrides: str) -> Config:
    return load_config(None, list(overrides))


@needs_petition
def test_petition_by_county_with_blank_rows_counted_and_short_comments_kept() -> None:
    res = ingest_round(PETITION, _cfg("ingest.csv.location_column=county"))
    u, s = res.units, res.summary
    # 1,363 endorsements: 648 with a reason, 715 without; every row is accounted for.
    assert (s["rows"], s["rows_with_text"], s["rows_blank"]) == (1363, 648, 715)
    assert s["rows_duplicate"] > 40  # the petition's template reason, pasted again and again
    assert s["breakdowns"] == {"session_location": "county"}
    assert res.inputs[0]["rows_blank"] == 715
    # The comments profile (a table input): one unit per comment, short ones analysed.
    assert len(u) == 648
    short = u[u["text"] == "我要乾淨的水"]
    assert len(short) == 1 and bool(short["analysed"].iloc[0])
    counties = u["session_location"].value_counts()
    assert counties.index[0] == "臺南市" and counties.iloc[0] == 224
    assert "county" not in "".join(c for c in u.columns if c.startswith("meta_"))


@needs_petition
def test_transcripts_profile_cuts_comments_into_sentences() -> None:
    res = ingest_round(PETITION, _cfg("ingest.profile=transcripts"))
    short = res.units[res.units["text"] == "我要乾淨的水"]
    assert short["excluded_reason"].tolist() == ["short"]


@needs_petition
def test_a_mapped_column_missing_from_the_file_is_a_clear_error() -> None:
    with pytest.raises(InputError) as e:
        ingest_round(PETITION, _cfg("ingest.csv.location_column=city"))
    msg = str(e.value)
    assert "endorsements.csv" in msg and "'city'" in msg and "county" in msg


@needs_petition
def test_session_column_makes_a_session_per_value_and_manifest_columns(tmp_path) -> None:
    folder = tmp_path / "round"
    folder.mkdir()
    shutil.copy(PETITION, folder / "petition.csv")
    (folder / "notes.csv").write_text("意見,地區\n離岸風電的漁業補償應該透明公開,澎湖縣\n",
                                      encoding="utf-8")
    (folder / "round.yaml").write_text(
        "round: r1\nsessions:\n"
        "  - file: petition.csv\n    columns: {text: reason, session: county, date: endorsed_at}\n"
        "  - file: notes.csv\n    columns: {location: 地區}\n", encoding="utf-8")
    res = ingest_round(folder, _cfg())
    u = res.units
    petition = u[u["file"] == "petition.csv"]
    assert petition["session_id"].nunique() == 21  # 21 counties
    assert "petition-臺南市" in set(petition["session_id"])
    assert petition["unit_id"].str.startswith(tuple(petition["session_id"] + ":")).all()
    assert petition["session_date"].iloc[0].startswith("2025-")
    assert u.loc[u["file"] == "notes.csv", "session_location"].tolist() == ["澎湖縣"]
    assert res.summary["breakdowns"] == {"session_id": "county", "session_date": "endorsed_at",
                                         "session_location": "地區"}


def test_manifest_columns_with_an_unknown_key_names_the_line(tmp_path) -> None:
    (tmp_path / "a.csv").write_text("text\n一則意見，內容足夠長\n", encoding="utf-8")
    (tmp_path / "round.yaml").write_text(
        "sessions:\n  - file: a.csv\n    columns: {county: x}\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        ingest_round(tmp_path, _cfg())
    assert e.value.line == 3 and "county" in e.value.reason


@needs_uberx
def test_polis_export_votes_from_the_matrix_and_rejected_comments(tmp_path) -> None:
    folder = tmp_path / "uberx"
    folder.mkdir()
    for name in ("comments.csv", "participants-votes.csv"):
        shutil.copy(UBERX / name, folder / name)
    res = ingest_round(folder / "comments.csv", _cfg())
    u = res.units
    assert len(u) == 197
    assert u["excluded_reason"].eq("moderated").sum() == 78
    assert {"votes_agree", "votes_disagree", "votes_pass", "votes_agree_min_group"} <= set(u)
    # comment 153: 139/20 in comments.csv; the matrix counts 137 agree, 19 disagree, 19 pass.
    row = u[u["text"].str.startswith("我贊成uber合法化，讓消費者多一個選擇")].iloc[0]
    assert (row["votes_agree"], row["votes_disagree"], row["votes_pass"]) == (137, 19, 19)
    analysed = u[u["analysed"]]
    assert analysed["votes_agree_min_group"].dropna().between(0, 1).all()
    # Without the matrix the comments file's own tallies are used (no passes there).
    (folder / "participants-votes.csv").unlink()
    bare = ingest_round(folder / "comments.csv", _cfg()).units
    assert "votes_pass" not in bare and bare["votes_agree"].sum() > analysed["votes_agree"].sum()
