"""Votes on comments: the Pol.is participants' vote matrix read from beside a comments table.

A Pol.is export has `comments.csv` (one row per comment, with `agrees`/`disagrees` tallies)
and `participants-votes.csv` (one row per participant: `participant`, `group-id`, then one
column per comment id holding 1 agree, -1 disagree, 0 pass, empty = not voted). When the
matrix is there, each comment's agree/disagree/pass counts come from it (it is the only
source of passes and opinion groups; its tallies can be a vote or two below the comments
file's), and `agree_min_group` is the lowest agree share over the opinion groups: a point
agreed across groups, not only by one camp.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from pathlib import Path

from pipeline.ingest.decode import read_text
from pipeline.source import Document, InputError

_VOTE = {"1": "agree", "1.0": "agree", "-1": "disagree", "-1.0": "disagree",
         "0": "pass", "0.0": "pass"}
_MATRIX_LEAD = ("participant", "group-id")


def _tally(matrix: Path) -> tuple[dict[str, Counter[str]], dict[str, dict[str, Counter[str]]]]:
    """Per comment id: vote counts, and vote counts per opinion group."""
    text, _ = read_text(matrix)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or any(h not in header for h in _MATRIX_LEAD):
        raise InputError(matrix, "not a Pol.is vote matrix (no 'participant' and 'group-id' "
                         "columns)", "remove the file or set ingest.csv.votes_file", line=1)
    group_col = header.index("group-id")
    comment_cols = [(i, h) for i, h in enumerate(header) if h.isdigit()]
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    by_group: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for row in reader:
        group = row[group_col].strip() if group_col < len(row) else ""
        for i, cid in comment_cols:
            vote = _VOTE.get(row[i].strip()) if i < len(row) else None
            if vote is None:
                continue
            totals[cid][vote] += 1
            if group:
                by_group[cid][group][vote] += 1
    return totals, by_group


def add_votes(doc: Document, matrix: Path) -> None:
    """Fill the records' agree/disagree/pass fields from the vote matrix, when the table has
    comment ids and the matrix file exists; otherwise leave the table's own counts."""
    if not matrix.is_file() or not any("id" in r.fields for r in doc.records):
        return
    totals, by_group = _tally(matrix)
    for r in doc.records:
        cid = str(r.fields.get("id") or "").strip()
        if cid.endswith(".0"):
            cid = cid[:-2]
        if cid not in totals:
            continue
        t = totals[cid]
        r.fields.update(agree=t["agree"], disagree=t["disagree"], **{"pass": t["pass"]})
        shares = [g["agree"] / n for g in by_group[cid].values() if (n := sum(g.values()))]
        r.fields["agree_min_group"] = round(min(shares), 6) if shares else None
