"""Report section 「書面意見」: written comments as a round (docs/comments.md).

Built from the run folder (ingest_summary.json, campaigns.json, themes.json's `agreement`,
units and unit_themes): rows read, blank and repeated; template campaigns beside the
over-mobilisation flags; a breakdown by every mapped column (county, date, ...) with the
themes; how widely each theme's points were agreed (votes) next to how often they were said.
One module builds the view and its Markdown; the HTML is `templates/comments.html.j2`; the
spreadsheet sheets are `xlsx_sheets`.
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
    theme: str | None  # "id label" of the representative's theme


@dataclass
class AgreementRow:
    theme_id: str
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
    theme_cols: list[tuple[str, str]] = field(default_factory=list)  # (id, label)
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
    view.theme_cols = [(t.id, t.label) for t in themes]
    theme_of: dict[str, str] = {}
    if unit_themes is not None and len(unit_themes):
        best = best_theme_per_unit(unit_themes)
        theme_of = dict(zip(best["unit_id"].astype(str), best["theme_id"].astype(str),
                            strict=True))
    labels = {t.id: t.label for t in themes}
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
            theme=f"{tid} {labels[tid]}" if tid in labels else None))
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
                theme_id=t.id, label=t.label, size=t.size,
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


# --- Markdown --------------------------------------------------------------------------------


def markdown_lines(view: CommentsView, L: dict[str, str], n: int) -> list[str]:
    from pipeline.report.markdown import md, table

    out = [f"## {n}. {L['comments_section']}", "", L["comments_intro"], ""]
    if view.rows is not None:
        out += [L["comments_rows"].format(rows=view.rows, text=view.rows_with_text,
                                          blank=view.rows_blank, dup=view.rows_duplicate), ""]
    out += [f"### {L['campaigns']}", "", _campaign_rule(view, L), ""]
    if view.campaigns:
        out += table([L["campaign_id"], L["campaign_size"], L["campaign_similarity"],
                      L["campaign_example"], L["campaign_theme"], L["sessions"]],
                     [[str(c.id), str(c.size), f"{c.similarity:.2f}", md(c.example),
                       md(c.theme or ""), md("、".join(c.sessions[:5]))] for c in view.campaigns])
    else:
        out += [L["no_campaigns"], ""]
    for b in view.breakdowns:
        out += [f"### {L['breakdown_by'].format(column=b.source)}", ""]
        heads = [md(b.source), L["blank_rows"], L["units"], L["analysed_units"],
                 L["in_campaigns"], *(f"{tid}" for tid, _ in view.theme_cols)]
        out += table(heads, [[md(r.value or L["unknown"]), str(r.blank), str(r.units),
                              str(r.analysed), str(r.in_campaigns), *map(str, r.by_theme)]
                             for r in b.rows])
        if b.other_values:
            out += [L["breakdown_other"].format(n=b.other_values), ""]
    if view.theme_cols and view.breakdowns:
        out += [L["theme_key"] + "：" + "；".join(f"{i} {md(lab)}" for i, lab in view.theme_cols),
                ""]
    if view.agreement:
        out += [f"### {L['agreement']}", "", L["agreement_intro"], ""]
        out += table([L["theme_no"], L["x_label"], L["agreement_said"], L["agreement_votes"],
                      L["agreement_share"], L["agreement_broad"]],
                     [[a.theme_id, md(a.label), str(a.size), _votes(a, L),
                       _pct(a.agree_share), _broad(a)] for a in view.agreement])
    return out


def _campaign_rule(view: CommentsView, L: dict[str, str]) -> str:
    s = view.campaign_settings
    return L["campaign_rule"].format(
        threshold=s.get("threshold", ""), min_size=s.get("min_size", ""),
        min_chars=s.get("min_chars", ""), considered=view.units_considered,
        members=view.units_in_campaigns, n=len(view.campaigns))


def _pct(v: float | None) -> str:
    from pipeline.report.charts import pct

    return "" if v is None else pct(v)


def _votes(a: AgreementRow, L: dict[str, str]) -> str:
    return L["agreement_counts"].format(agree=a.agree, disagree=a.disagree, passes=a.passes)


def _broad(a: AgreementRow) -> str:
    if a.broadly_agreed is None:
        return ""
    return f"{a.broadly_agreed} / {a.comments_in_groups}"


# --- spreadsheet ----------------------------------------------------------------------------


def xlsx_sheets(view: CommentsView, L: dict[str, str]
                ) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(sheet name, headers, rows) for themes.xlsx: campaigns, each breakdown, agreement."""
    sheets = []
    if view.campaigns:
        sheets.append(("campaigns", [L["campaign_id"], L["campaign_size"],
                                     L["campaign_similarity"], L["campaign_example"],
                                     L["campaign_theme"], L["sessions"]],
                       [[c.id, c.size, c.similarity, c.example, c.theme,
                         "、".join(c.sessions)] for c in view.campaigns]))
    for b in view.breakdowns:
        heads = [b.source, L["blank_rows"], L["units"], L["analysed_units"], L["in_campaigns"],
                 *(f"{tid} {lab}" for tid, lab in view.theme_cols)]
        sheets.append((f"by_{b.source}"[:31], heads,
                       [[r.value, r.blank, r.units, r.analysed, r.in_campaigns, *r.by_theme]
                        for r in b.rows]))
    if view.agreement:
        sheets.append(("agreement", [L["theme_no"], L["x_label"], L["agreement_said"],
                                     L["agreement_voted"], "agree", "disagree", "pass",
                                     L["agreement_share"], L["agreement_broad"]],
                       [[a.theme_id, a.label, a.size, a.comments_voted, a.agree, a.disagree,
                         a.passes, a.agree_share, _broad(a)] for a in view.agreement]))
    return sheets
