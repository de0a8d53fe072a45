"""The report's view model: what the HTML, Markdown and xlsx writers are given.

Plain dataclasses filled by data.py (run folder, themes) and areas.py (strategy mapping),
plus the small value cleaners both use, so missing values look the same everywhere.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.values import float_or_none, int_or, text_or_none

# Area ids that mean "no strategy area" in the mapping stage's output.
NO_AREA = {"NONE", "none", "", "-"}
# Framework facets that are strategy areas (the others are JT dimensions and focuses).
AREA_FACETS = {None, "", "A", "a", "key_area", "area", "strategy", "key_strategy"}


# The mapping stage's gap reason (pipeline/mapping/stage.py, `reason = (...)`).
_GAP_REASON = re.compile(
    r"(?P<nz>\d+) of (?P<n>\d+) units are about net-zero or the transition but "
    r"(?:as a theme they fit no strategy area \(no area holds it\)|(?P<unplaced>\d+) of them "
    r"fit no strategy area \(best area probability < (?P<limit>[\d.]+)\)); nearest area "
    r"(?P<area>\S+) (?P<name>.*?) takes only (?P<share>\d+)% of the theme"
    r"(?:; keywords: (?P<words>.*))?$")


@dataclass


class Quote:
    unit_id: str
    text: str
    session_id: str | None = None
    session_title: str | None = None
    session_date: str | None = None
    session_type: str | None = None
    session_location: str | None = None
    speaker: str | None = None
    role: str | None = None
    file: str | None = None
    line_start: int | None = None
    line_end: int | None = None

    @property
    def source(self) -> str:
        if not self.file:
            return ""
        if self.line_start is None:
            return self.file
        if self.line_end is not None and self.line_end != self.line_start:
            return f"{self.file}:{self.line_start}–{self.line_end}"
        return f"{self.file}:{self.line_start}"


def show_role(q: Quote, labels: dict[str, str]) -> bool:
    """Name the role unless the pseudonym already says it (與會者A, 官員A（科長）, 主持人)."""
    if not q.role:
        return False
    role_label = labels.get(f"role_{q.role}", q.role)
    return not (q.speaker or "").startswith(role_label)


@dataclass


class AreaLink:
    area_id: str
    name: str
    share: float | None
    primary: bool


@dataclass


class Crosstab:
    rows: list[str]
    cols: list[str]
    cells: dict[tuple[str, str], int]


@dataclass


class Theme:
    idx: int
    id: str
    anchor: str
    label: str
    keywords: list[tuple[str, float | None]]
    size: int
    share: float | None
    by_type: list[tuple[str, int]]
    by_location: list[tuple[str, int]]
    by_session: list[tuple[str, int]]
    by_role: list[tuple[str, int]]
    crosstab: Crosstab | None
    quotes: list[Quote]
    # Officials' statements in the theme: context for the feedback, never quoted as it.
    official_quotes: list[Quote] = field(default_factory=list)
    mapped: bool = False
    key_area: str | None = None
    key_area_confidence: float | None = None
    area_distribution: dict[str, float] = field(default_factory=dict)
    areas: list[AreaLink] = field(default_factory=list)
    bears_on: list[str] = field(default_factory=list)
    jt_dimensions: list[str] = field(default_factory=list)
    focus: str | None = None
    evidence: list[str] = field(default_factory=list)
    gap: bool = False
    gap_given: bool = False  # whether the mapping stage said gap or not (vs. inferred here)
    gap_reason: str | None = None
    curated: Any = None
    # Analyst curation (pipeline/curation.py): what was set, from which file:line.
    curation: dict[str, Any] | None = None
    label_computed: str | None = None
    label_curated: bool = False
    reviewed: bool = False
    merged_from: list[dict[str, Any]] = field(default_factory=list)
    # Pol.is votes on the theme's comments (themes.json `agreement`), None without votes.
    agreement: dict[str, Any] | None = None

    def agreement_text(self, L: dict[str, str]) -> str | None:
        """The votes on the theme's points, one line for its card (every writer)."""
        a = self.agreement
        if not a or not a.get("votes"):
            return None
        share = a.get("agree_share")
        text = L["card_agreement"].format(
            agree=int(a.get("agree") or 0), disagree=int(a.get("disagree") or 0),
            passes=int(a.get("pass") or 0),
            share="" if share is None else f"{share * 100:.0f}%")
        if a.get("broadly_agreed") is not None and a.get("comments_in_groups"):
            text += L["card_agreement_broad"].format(broad=a["broadly_agreed"],
                                                     groups=a["comments_in_groups"])
        return text

    def gap_text(self, L: dict[str, str], english: bool) -> str | None:
        """Why the theme is a gap, in the report's language.

        The mapping stage writes its reason as an English sentence of a fixed form (the
        numbers behind it are not stored apart); a zh-TW report words those numbers itself
        rather than showing English, and says only that no area covers it otherwise."""
        if not self.gap_reason or english:
            return self.gap_reason
        m = _GAP_REASON.match(self.gap_reason)
        if m is None:
            return L["gap_other"]
        g = m.groupdict()
        area = " ".join(x for x in (g["area"], (g["name"] or "").strip()) if x)
        facts = {"n": g["n"], "nz": g["nz"], "area": area, "share": f"{g['share']}%",
                 "unplaced": g["unplaced"], "limit": g["limit"]}
        text = L["gap_units" if g["unplaced"] else "gap_whole"].format(**facts)
        if g["words"]:
            text += L["gap_keywords"].format(words=g["words"])
        return text

    @property
    def number(self) -> int:
        """The theme's number in every format and chart (主題 1 … N, themes.json order);
        themes.json ids count from 0 and are not shown."""
        return self.idx + 1

    @property
    def ref(self) -> str:
        """Number and label, as chart rows and table headers show a theme."""
        return f"{self.number}. {self.label}"

    def curation_lines(self, L: dict[str, str]) -> list[str]:
        """Plain-text lines saying what an analyst changed on this theme (for all writers)."""
        out = []
        if self.label_curated and self.label_computed:
            out.append(f"{L['label_curated']}（{L['label_computed']}：{self.label_computed}）")
        if self.merged_from:
            out.append(L["merged_from"] + "：" + "＋".join(
                str(m.get("label") or m.get("id")) for m in self.merged_from))
        c = self.curation or {}
        changed = sorted({f for e in c.get("entries") or [] for f in e.get("fields") or []}
                         - {"label", "reviewed"})
        computed = c.get("computed") or {}
        if changed:
            bits = []
            for f in changed:
                before = computed.get(f)
                bits.append(f"{f}（{L['computed']}：{before if before not in (None, []) else '–'}）"
                            if f in computed else f)
            out.append(f"{L['curated']}：" + "、".join(bits))
        if c.get("source"):
            note = f"；{c['note']}" if c.get("note") else ""
            out.append(f"{L['curation_source']}：{c['source']}{note}")
        return out


@dataclass


class AreaEntry:
    theme: Theme
    primary: bool
    share_of_theme: float | None
    quotes: list[Quote]


@dataclass


class FocusRow:
    """One row of a focus table: units with a strategy area in a session type or area."""

    key: str
    name: str
    n: int  # units with a strategy area
    counts: dict[str, int]  # focus id ("" = no focus) -> units


@dataclass


class FocusView:
    """Which consultation focus the round's feedback concerned (units with a strategy area)."""

    focuses: list[tuple[str, str]]  # (id, name) in framework order
    n_area_units: int
    totals: dict[str, int]  # focus id ("" = no focus) -> units
    by_type: list[FocusRow]
    by_area: list[FocusRow]
    quotes: dict[str, list[Quote]]  # focus id -> participants' clearest units
    evidence: dict[str, str] = field(default_factory=dict)  # unit id -> "p=0.71; 補助、預算"


@dataclass


class Area:
    id: str
    name: str
    description: str | None
    share: float | None
    n_units: int | None
    entries: list[AreaEntry] = field(default_factory=list)
    # Units mapped to the area when no theme bears on it: its best quotes (areas.py).
    orphan_quotes: list[Quote] = field(default_factory=list)


@dataclass


class Session:
    id: str
    title: str | None
    date: str | None
    type: str | None
    location: str | None
    participants: str | None
    file: str | None
    units: int
    analysed: int
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass


class Matrix:
    """Areas (rows) × themes (columns); kind says what a cell holds."""

    kind: str  # "counts" (units) or "shares" (share of the theme)
    areas: list[tuple[str, str]]
    theme_cols: list[tuple[str, str, str | None]]  # (column key, header, theme anchor)
    values: dict[tuple[str, str], float]


@dataclass


class RunData:
    run_dir: Path
    round: str
    run_id: str
    config_hash: str
    command: str | None
    started: str | None
    finished: str | None
    config: dict[str, Any]
    packages: dict[str, str]
    inputs: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    stages: dict[str, dict[str, Any]]
    sessions: list[Session]
    n_units: int
    n_analysed: int
    excluded: list[tuple[str, int]]
    redactions: list[tuple[str, int]]
    themes: list[Theme]
    theme_stats: dict[str, Any]
    n_outliers: int | None
    outlier_share: float | None
    mapped: bool
    areas: list[Area]
    gaps: list[Theme]
    area_share_basis: str | None
    none_share: float | None
    matrix: Matrix | None
    type_totals: dict[str, int]
    units: pd.DataFrame
    unit_themes: pd.DataFrame | None
    unit_areas: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)
    # 協力地圖 (pipeline.participation.CollaborationMap), None when no session names any
    # organisation.
    participation: Any = None
    # diff.json / tracking.json of the compare stage, when the run was compared with others.
    compare: dict[str, Any] | None = None
    tracking: dict[str, Any] | None = None
    # speakers.json: role of every speaker with the evidence (pseudonyms only).
    speakers: list[dict[str, Any]] = field(default_factory=list)
    procedural_kinds: list[tuple[str, int]] = field(default_factory=list)
    # themes.json stats.courtesy: themes labelled by courtesies or meeting mechanics.
    courtesy: dict[str, Any] | None = None
    # Consultation focus of the round's area units (areas.build_focus), None when unmapped.
    focus: FocusView | None = None
    # The manifest's title of the round (round.yaml `title:`), None when it has none.
    title: str | None = None
    # Analysed units the mapping placed in no strategy area (not about net-zero), if mapped.
    none_units: int | None = None
    # `consult report` drew this report with other report/participation settings than the
    # analysis run's (the settings section then shows the ones used).
    rerendered: bool = False
    # Written comments: rows, campaigns, breakdowns, agreement (report/comments.py), None
    # for a round of transcripts only.
    comments: Any = None
    # proposals.json of the proposals stage (proposals per area, stance shares), None for a
    # run made without it.
    proposals: dict[str, Any] | None = None

    @property
    def inferred_speakers(self) -> list[dict[str, Any]]:
        """Chairs and officials the run recognised, the chairs first."""
        keep = [s for s in self.speakers if s.get("role") in ("moderator", "official")]
        return sorted(keep, key=lambda s: (s.get("role") != "moderator", str(s.get("session_id")),
                                           -float(s.get("share") or 0)))

    @property
    def courtesy_themes(self) -> list[Theme]:
        ids = {str(i) for i in (self.courtesy or {}).get("themes") or []}
        return [t for t in self.themes if t.id in ids]

    def courtesy_sentence(self, L: dict[str, str]) -> str:
        c = self.courtesy or {}
        if not c.get("themes"):
            return L["courtesy_none"]
        which = "、".join(f"{L['theme_no']} {t.idx + 1}" for t in self.courtesy_themes)
        return L["courtesy_result"].format(share=f"{100 * float(c.get('share') or 0):.1f}%",
                                           n=c.get("units", 0),
                                           themes=f"（{which}）" if which else "")

    @staticmethod
    def why(s: dict[str, Any], L: dict[str, str]) -> str:
        e = s.get("evidence") or {}
        rule = L.get(f"rule_{e.get('rule')}", "")
        if s.get("role") != "moderator":
            return rule
        facts = L["why_format"].format(
            share=f"{100 * float(s.get('share') or 0):.0f}%", handoffs=e.get("handoffs", 0),
            addressed=int(e.get("addressed_as_chair", 0)) + int(e.get("addressed_after", 0)))
        return f"{rule}；{facts}" if rule else facts

    @property
    def speaker_roles(self) -> list[tuple[str, int, int]]:
        """(role, speakers, their units) per role."""
        roles = Counter(str(s.get("role")) for s in self.speakers)
        units = Counter(str(r) for r in self.units.get("role", pd.Series(dtype=object)).dropna())
        return [(r, n, units.get(r, 0)) for r, n in sorted(roles.items())]

    @property
    def covered_areas(self) -> list[Area]:
        return [a for a in self.areas if a.entries]


# --- value cleaning --------------------------------------------------------------------


# report/areas.py still imports these under their first names (it moves with mapping/).
_clean, _int, _float = text_or_none, int_or, float_or_none


def quote_from(q: dict[str, Any] | str, unit_by_id: pd.DataFrame) -> Quote | None:
    if isinstance(q, str):
        q = {"unit_id": q}
    uid = text_or_none(q.get("unit_id"))
    row = unit_by_id.loc[uid] if uid is not None and uid in unit_by_id.index else None

    def pick(key: str, col: str | None = None) -> Any:
        v = text_or_none(q.get(key))
        if v is None and row is not None:
            v = text_or_none(row.get(col or key))
        return v

    text = pick("text")
    if text is None:
        return None
    ls, le = pick("line_start"), pick("line_end")
    return Quote(
        unit_id=uid or "", text=text, session_id=pick("session_id"),
        session_title=pick("session_title"), session_date=pick("session_date"),
        session_type=pick("session_type"), session_location=pick("session_location"),
        speaker=pick("speaker"), role=pick("role"), file=pick("file"),
        line_start=int_or(ls, 0) if ls is not None else None,
        line_end=int_or(le, 0) if le is not None else None,
    )


def float_dict(d: Any) -> dict[str, float]:
    if not isinstance(d, dict):
        return {}
    return {str(k): f for k, v in d.items() if (f := float_or_none(v)) is not None}
