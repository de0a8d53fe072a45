"""The written-comments view model (docs/comments.md), read from the run folder.

From ingest_summary.json (rows read, blank, repeated; mapped columns), campaigns.json,
themes.json's `agreement`, units and unit_themes: the campaigns, a breakdown by every mapped
column (county, date, ...) with the themes, and each theme's votes. `RunData.comments`;
shown by `report/sections/comments.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import rundir
from pipeline.units import analysed_mask, best_theme_per_unit
from pipeline.values import text_or_none

# A breakdown shows at most this many values; the rest are summed in one row.
MAX_VALUES = 30


@dataclass
class BreakdownRow:
    value: str | None
    blank: int  # table rows without text (endorsements without a reason)
    units: int
    analysed: int
    in_campaigns: int
    by_theme: list[int]


@dataclass
class Breakdown:
    column: str  # units column (session_location, ...)
    source: str  # the file's column (county)
    rows: list[BreakdownRow]
    other_values: int = 0  # values summed into the last row


@dataclass
class CampaignRow:
    id: int
    size: int
    similarity: float
    distinct_texts: int | None
    example: str
    sessions: list[str]
    theme_number: int | None  # 主題 n of the representative's theme (ThemeView.number)
    theme_label: str | None


@dataclass
class AgreementRow:
    number: int  # 主題 n, as everywhere in the report
    label: str
    size: int
    comments_voted: int
    votes: int
    agree: int
    disagree: int
    passes: int
    agree_share: float | None
    broadly_agreed: int | None
    comments_in_groups: int | None


@dataclass
class CommentsView:
    rows: int | None = None
    rows_with_text: int | None = None
    rows_blank: int | None = None
    rows_duplicate: int | None = None
    campaigns: list[CampaignRow] = field(default_factory=list)
    campaign_settings: dict[str, Any] = field(default_factory=dict)
    units_considered: int = 0
    units_in_campaigns: int = 0
    campaigns_folded: int | None = None  # members that took their representative's theme
    breakdowns: list[Breakdown] = field(default_factory=list)
    theme_cols: list[tuple[int, str]] = field(default_factory=list)  # (number, label)
    agreement: list[AgreementRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return (self.rows is None and not self.campaigns and not self.breakdowns
                and not self.agreement)


def _json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def build_comments(run_dir: Path, summary: dict[str, Any], units: pd.DataFrame,
                   unit_themes: pd.DataFrame | None, themes: list[Any],
                   theme_stats: dict[str, Any], themes_doc: dict[str, Any] | None
                   ) -> CommentsView | None:
    """The section's view, or None when the run has no table input, campaigns or votes."""
    view = CommentsView(rows=summary.get("rows"), rows_with_text=summary.get("rows_with_text"),
                        rows_blank=summary.get("rows_blank"),
                        rows_duplicate=summary.get("rows_duplicate"),
                        campaigns_folded=theme_stats.get("campaign_members_folded"))
    view.theme_cols = [(t.number, t.label) for t in themes]
    theme_of: dict[str, str] = {}
    if unit_themes is not None and len(unit_themes):
        best = best_theme_per_unit(unit_themes)
        theme_of = dict(zip(best["unit_id"].astype(str), best["theme_id"].astype(str),
                            strict=True))
    by_id = {t.id: t for t in themes}
    found = _json(Path(run_dir) / rundir.CAMPAIGNS) or {}
    view.campaign_settings = found.get("settings") or {}
    view.units_considered = int(found.get("units_considered") or 0)
    view.units_in_campaigns = int(found.get("units_in_campaigns") or 0)
    members: set[str] = set()
    for c in found.get("campaigns") or []:
        members.update(map(str, c["unit_ids"]))
        tid = theme_of.get(str(c.get("representative")))
        view.campaigns.append(CampaignRow(
            id=int(c["id"]), size=int(c["size"]), similarity=float(c["similarity"]),
            distinct_texts=c.get("distinct_texts"), example=str(c["example"]),
            sessions=[str(s) for s in c.get("sessions") or []],
            theme_number=by_id[tid].number if tid in by_id else None,
            theme_label=by_id[tid].label if tid in by_id else None))
    blank_by = summary.get("rows_blank_by") or {}
    for column, source in (summary.get("breakdowns") or {}).items():
        if column in units:
            view.breakdowns.append(_breakdown(units, column, str(source), theme_of, members,
                                              [t.id for t in themes],
                                              blank_by.get(column) or {}))
    raw = {str(t.get("id")): t for t in (themes_doc or {}).get("themes") or []}
    for t in themes:
        a = (raw.get(t.id) or {}).get("agreement")
        if a:
            view.agreement.append(AgreementRow(
                number=t.number, label=t.label, size=t.size,
                comments_voted=int(a.get("comments_voted") or 0), votes=int(a.get("votes") or 0),
                agree=int(a.get("agree") or 0), disagree=int(a.get("disagree") or 0),
                passes=int(a.get("pass") or 0), agree_share=a.get("agree_share"),
                broadly_agreed=a.get("broadly_agreed"),
                comments_in_groups=a.get("comments_in_groups")))
    return None if view.empty else view


def _value(v: Any, column: str) -> str | None:
    s = text_or_none(v)
    # A timestamp column is broken down by day.
    if s and column == "session_date" and len(s) > 10 and s[4:5] == "-":
        return s[:10]
    return s


def _breakdown(units: pd.DataFrame, column: str, source: str, theme_of: dict[str, str],
               members: set[str], theme_ids: list[str], blank: dict[str, int]) -> Breakdown:
    keys = [_value(v, column) for v in units[column]]
    ids = units["unit_id"].astype(str).tolist()
    analysed = analysed_mask(units).tolist()
    # Per value: blank rows, units, analysed, in campaigns, then one count per theme.
    acc: dict[str | None, list[int]] = {}
    position = {tid: i for i, tid in enumerate(theme_ids)}

    def row_of(key: str | None) -> list[int]:
        return acc.setdefault(key, [0, 0, 0, 0] + [0] * len(theme_ids))

    for raw, n in blank.items():
        row_of(_value(raw, column))[0] += int(n)
    for key, uid, a in zip(keys, ids, analysed, strict=True):
        row = row_of(key)
        row[1] += 1
        row[2] += int(a)
        row[3] += int(uid in members)
        tid = theme_of.get(uid)
        if a and tid in position:
            row[4 + position[tid]] += 1
    if column == "session_date":  # days in order; other values by how many said them
        order = sorted(acc, key=lambda k: (k is None, k or ""))
    else:
        order = sorted(acc, key=lambda k: (-acc[k][0] - acc[k][1], k or ""))
    rows = [BreakdownRow(k, *acc[k][:4], by_theme=acc[k][4:]) for k in order[:MAX_VALUES]]
    rest = order[MAX_VALUES:]
    if rest:
        total = [sum(acc[k][i] for k in rest) for i in range(4 + len(theme_ids))]
        rows.append(BreakdownRow("…", *total[:4], by_theme=total[4:]))
    return Breakdown(column, source, rows, other_values=len(rest))
