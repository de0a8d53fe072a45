"""Procedural talk: units that carry no feedback, whoever says them.

Meetings are full of courtesies and mechanics: greetings (「政委好、各位夥伴大家好」),
self-introductions (also long ones), hand-offs (「台北的朋友有沒有要補充」), closings
(「以上簡單分享，謝謝各位。」), logistics (麥克風、簽到、休息、直播) and context-free fragments
(「瞭解。」「可以嗎？」). Left in, they become themes labelled 「午安、政委、夥伴」.

The rules work on the structure of a unit rather than on a list of the dev items' words: the
unit is cut into clauses, courtesy clauses (greetings, thanks, introductions, pleasantries) are
set aside, and a unit is procedural when what remains carries almost no content. Hand-offs,
meeting mechanics and logistics are recognised in short units only, because a long unit that
mentions 「補充」 or 「麥克風」 is usually making a point as well. `procedural_kind` returns why.

Measured on tests/data/procedural_labels.jsonl (drawn at random from real meetings; the
thresholds were set on half A, figures reported on half B): see docs/roles.md.
"""

from __future__ import annotations

import re
from functools import cache

from pipeline.config import RolesConfig
from pipeline.ingest.normalize import cjk_count

# A clause: text between punctuation marks (and line breaks).
CLAUSE = re.compile(r"[^，,。！!？?；;、：:\n]+")


@cache
def any_of(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled regex matching any of `patterns` (cached: config lists are reused for
    every unit), or None for an empty list."""
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _any(patterns: list[str], text: str) -> bool:
    rx = any_of(tuple(patterns))
    return bool(rx and rx.search(text))


def _full(patterns: list[str], text: str) -> bool:
    rx = any_of(tuple(patterns))
    return bool(rx and rx.fullmatch(text))


def content_chars(text: str, cfg: RolesConfig) -> tuple[int, str | None]:
    """CJK characters outside courtesy clauses, and the first courtesy kind seen."""
    left, kind = 0, None
    for clause in CLAUSE.findall(text):
        c = clause.strip()
        if not c:
            continue
        if _full(cfg.courtesy_clauses["greeting"], c):
            kind = kind or "greeting"
        elif _full(cfg.courtesy_clauses["thanks"], c):
            kind = kind or "thanks"
        elif _full(cfg.courtesy_clauses["self_intro"], c):
            kind = "self_intro" if kind in (None, "greeting", "thanks") else kind
        elif _full(cfg.courtesy_clauses["closing"], c):
            kind = kind or "closing"
        else:
            left += cjk_count(c)
    return left, kind


def without_courtesy_opening(text: str, cfg: RolesConfig,
                             names: re.Pattern[str] | None = None) -> str:
    """`text` from its first clause that is neither a greeting nor thanks (「政委好，我這邊作
    說明…」 → 「我這邊作說明…」), nor, when `names` (the redaction placeholders) is given, a
    self-introduction that names the speaker (「我是與會者BZ，我代表技職司，跟我們…」 →
    「我代表技職司，跟我們…」), for a label that starts with what was said; `text` itself
    when every clause is one."""
    for m in CLAUSE.finditer(text):
        c = m.group().strip()
        if not c:
            continue
        bare = names.sub("", c) if names else c
        if (_full(cfg.courtesy_clauses["greeting"], bare)
                or _full(cfg.courtesy_clauses["thanks"], bare)
                or (names and bare != c and _full(cfg.courtesy_clauses["self_intro"], c))):
            continue
        return text[m.start():].lstrip()
    return text


def is_self_introduction(text: str, cfg: RolesConfig) -> bool:
    """A unit that opens by introducing the speaker and goes on about who they are (role,
    organisation, what it does) without a view on the matter: no opinion, problem, request
    or question (`opinion_markers`). Long introductions are common in roadshows and
    otherwise form a theme of their own."""
    opening = text[: cfg.intro_opening_chars]
    # The introduction starts a clause (「大家好，我是…」), not a story (「那時我是研究生」).
    openers = tuple(rf"(?:^|[，,。、！!\s]|好|安)(?:{p})" for p in cfg.intro_openers)
    rx = any_of(openers)
    if cjk_count(text) > cfg.intro_max_chars or not (rx and rx.search(opening)):
        return False
    # 「如果有相關問題，歡迎會後找我們」 offers help; its 問題 is not a problem raised.
    offers = any_of(tuple(cfg.offer_clauses))
    rest = offers.sub("", text) if offers else text
    return not _any(cfg.opinion_markers, rest)


def procedural_kind(text: str, cfg: RolesConfig) -> str | None:
    """Why a unit is procedural (greeting, thanks, self_intro, closing, handoff, mechanics,
    logistics, fragment), or None when it carries feedback."""
    t = text.strip()
    n = cjk_count(t)
    if _any(cfg.procedural_patterns, t):
        return "pattern"
    left, kind = content_chars(t, cfg)
    if kind and left <= cfg.procedural_max_content:
        return kind
    if is_self_introduction(t, cfg):
        return "self_intro"
    if n <= cfg.procedural_short_unit:
        if _any(cfg.handoff_patterns, t):
            return "handoff"
        if _any(cfg.mechanics_patterns, t):
            return "mechanics"
        if _any(cfg.logistics_patterns, t):
            return "logistics"
    if n <= cfg.signpost_max_chars and _any(cfg.signpost_patterns, t):
        return "mechanics"
    if n <= cfg.fragment_max_chars and _full(cfg.fragment_patterns, t):
        return "fragment"
    return None
