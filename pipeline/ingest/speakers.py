"""Who is speaking in what capacity: the chair, officials and participants of a round.

The report is about what participants raised, so the chair (who opens, hands over and answers)
and officials (who explain policy) must be told apart from participants. A manifest that names
them always wins; when it is silent, which is the common case of an analyst who drops
transcripts into a folder, roles are inferred from the transcript itself:

- the chair: a large share of the session's turns together with chair behaviour: opening or
  closing the session, handing over (「請…補充」「有沒有…要問」「接下來」), being thanked or
  addressed by a chair title right after speaking (「謝謝主持人」「唐政委」); a speaker who
  chairs several sessions of the round is the chair wherever they speak in it;
- officials: a speaker label or a self-introduction naming a government body
  (「內政部代表」「我是縣政府社會處專員…」), a public title in the label (科長, 處長…), or being
  addressed by surname + public title (「李科長」); the body is kept with the role.

Every decision carries its evidence (numbers and rule codes) so an analyst can check it;
`speakers.json` in the run folder lists them. Display text is made by the report layer.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import RolesConfig
from pipeline.ingest.procedural import CLAUSE, any_of
from pipeline.ingest.turns import Turn

MODERATOR, OFFICIAL, PARTICIPANT = "moderator", "official", "participant"

# A CJK personal-name label (2-4 characters): its first character is the surname others use
# with a title (唐政委, 李科長). Labels such as 內政部代表 are not names.
_NAME_LABEL = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
_INTRO_LEAD = re.compile(r"(?:我是|我們是|我這邊是|我這裡是|代表|來自|我在|服務於|我從)")


@dataclass
class SpeakerRole:
    """The role of one speaker label in one session, with the evidence that decided it."""

    label: str
    role: str
    body: str | None = None  # the government body an official speaks for (內政部)
    title: str | None = None  # a public title from the label or how others address them
    source: str = "inferred"  # manifest | config | label | inferred
    turns: int = 0
    share: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)


def _body_rx(cfg: RolesConfig) -> re.Pattern[str] | None:
    return any_of(tuple(sorted(cfg.government_bodies, key=len, reverse=True)))


def _longest_in(text: str, words: Iterable[str]) -> str | None:
    hits = [w for w in words if w in text]
    return max(hits, key=len) if hits else None


def government_body(text: str, cfg: RolesConfig, anchored: bool = False) -> str | None:
    """The government body a text names, extended by its sub-units (縣政府 + 社會處), or None.

    Only whole sub-units are appended (…處/司/署/局/科/組/室/中心/會), so a name or title that
    follows (「衛福部社家署○○○」「國發會國土處簡任…」) never becomes part of the body.
    `anchored`: the body must start the text (a self-introduction right after 我是/代表)."""
    rx = _body_rx(cfg)
    m = (rx.match(text) if anchored else rx.search(text)) if rx else None
    if not m:
        return None
    after = text[m.end():m.end() + 20]
    ng = any_of(tuple(cfg.not_government))
    # 「行政院青年諮詢委員」「○○縣政府輔導的協會」: the body is named, but not served.
    if ng and ng.search(text[m.start():m.end() + 10]):
        return None
    titles = [after.find(t) for t in cfg.official_titles if t in after]
    tail = _SUBUNIT.match(after[: min(titles)] if titles else after)
    return m.group(0) + (tail.group(0) if tail else "")


# Sub-units of a body (處/司/署/局/科/組/室/中心…), each a few characters without 的, up to
# the last unit suffix within reach; text is cut before any title first.
_SUBUNIT = re.compile(
    r"(?:(?:(?!的)[\u4e00-\u9fff]){1,7}?(?:處|司|署|局|科|組|室|中心|分署|廠|場))+"
)
# Words allowed between 我是/代表 and the body: 「我是代表…」「我是來自…」「我在…服務」.
_INTRO_GAP = re.compile(r"^(?:代表|來自|在|服務於|從)*")


def self_introduced_body(turns: Sequence[Turn], cfg: RolesConfig, label: str | None = None
                         ) -> str | None:
    """A government body named where a speaker introduces themself in the opening of their
    first turns: right after 我是/代表 (「我是代表花蓮縣政府原住民行政處」), or, for a speaker
    whose label is a personal name, as a clause that is the body (and title) followed by that
    name (「大家好，勞動力發展署陳玟玟。」「行政院南部中心黃義佑，非常歡迎…」)."""
    named = label if label and _NAME_LABEL.match(label) else None
    for turn in turns[: cfg.intro_turns]:
        opening = " ".join(p.text for p in turn.pieces)[: cfg.intro_chars]
        for lead in _INTRO_LEAD.finditer(opening):
            rest = opening[lead.end():]
            rest = rest[_INTRO_GAP.match(rest).end():]  # type: ignore[union-attr]
            body = government_body(rest, cfg, anchored=True)
            if body:
                return body
        if named:
            # Clauses, and the pieces of a clause between spaces (turn pieces are joined by one).
            for c in (p for clause in CLAUSE.findall(opening) for p in clause.split()):
                if c.endswith(named) and len(c) > len(named):
                    body = government_body(c[: -len(named)], cfg, anchored=True)
                    if body:
                        return body
    return None


def _turn_text(turn: Turn) -> str:
    return " ".join(p.text for p in turn.pieces)


def _surname_keys(label: str) -> list[str]:
    """How others address a named speaker: the surname, or a compound surname."""
    if not _NAME_LABEL.match(label):
        return []
    return [label[:2], label[0]] if len(label) == 4 else [label[0]]


def _addressed(turns: Sequence[Turn], labels: Sequence[str], titles: Sequence[str]
               ) -> dict[str, Counter]:
    """label -> Counter(title): how often other speakers address this label by surname +
    title (唐政委, 李科長). An ambiguous surname (two speakers share it) is not counted."""
    by_key: dict[str, list[str]] = defaultdict(list)
    for lab in labels:
        for key in _surname_keys(lab):
            by_key[key].append(lab)
    out: dict[str, Counter] = defaultdict(Counter)
    if not by_key or not titles:
        return out
    title_alt = "|".join(re.escape(t) for t in sorted(titles, key=len, reverse=True))
    key_alt = "|".join(re.escape(k) for k in sorted(by_key, key=len, reverse=True))
    rx = re.compile(f"({key_alt})({title_alt})")
    for turn in turns:
        for m in rx.finditer(_turn_text(turn)):
            owners = by_key[m.group(1)]
            if len(owners) == 1 and owners[0] != turn.speaker:
                out[owners[0]][m.group(2)] += 1
    return out


def _thanked_after(turns: Sequence[Turn], cfg: RolesConfig) -> Counter:
    """label -> times the next speaker opened by addressing the previous one as chair
    (「謝謝主持人」「主席、各位先進」): the previous speaker handed over."""
    rx = any_of(tuple(cfg.chair_address_patterns))
    out: Counter = Counter()
    if rx is None:
        return out
    for prev, turn in itertools.pairwise(turns):
        if prev.speaker and turn.speaker != prev.speaker and rx.match(_turn_text(turn)[:20]):
            out[prev.speaker] += 1
    return out


def session_evidence(turns: Sequence[Turn], cfg: RolesConfig) -> dict[str, dict[str, Any]]:
    """Per speaker label: turn count and share, opening/closing, hand-offs, being addressed."""
    spoken = [t for t in turns if t.speaker]
    labels = list(dict.fromkeys(t.speaker for t in spoken))
    n = len(spoken) or 1
    counts = Counter(t.speaker for t in spoken)
    handoff = any_of(tuple(cfg.handoff_patterns))
    handoffs: Counter = Counter()
    for t in spoken:
        if handoff and handoff.search(_turn_text(t)):
            handoffs[t.speaker] += 1
    chair_titles = _addressed(spoken, labels, cfg.chair_titles)
    public_titles = _addressed(spoken, labels, cfg.official_titles)
    thanked = _thanked_after(spoken, cfg)
    first = spoken[0].speaker if spoken else None
    last = spoken[-1].speaker if spoken else None
    ev: dict[str, dict[str, Any]] = {}
    for lab in labels:
        ev[lab] = {
            "turns": counts[lab],
            "share": round(counts[lab] / n, 3),
            "opens": lab == first,
            "closes": lab == last,
            "handoffs": handoffs[lab],
            "addressed_as_chair": sum(chair_titles[lab].values()),
            "addressed_after": thanked[lab],
            "public_title": public_titles[lab].most_common(1)[0][0] if public_titles[lab] else None,
        }
    return ev


def chair_score(e: dict[str, Any], cfg: RolesConfig) -> float:
    """How chair-like a speaker's behaviour is. Turn share alone does not decide: in a visit
    the guest may speak as often as the host, but only the host hands over and is addressed
    as 政委/主持人. Opening the session is evidence only beside such behaviour."""
    if e["share"] < cfg.chair_min_share:
        return 0.0
    handing = (min(e["handoffs"], 10) / 10 + min(e["addressed_as_chair"], 3) / 3
               + min(e["addressed_after"], 3) / 3)
    if handing < cfg.chair_min_behaviour:
        return 0.0
    return e["share"] * 2 + handing + 0.5 * e["opens"] + 0.25 * e["closes"]


def pick_chair(ev: dict[str, dict[str, Any]], cfg: RolesConfig) -> str | None:
    scored = sorted(((chair_score(e, cfg), lab) for lab, e in ev.items()), reverse=True)
    return scored[0][1] if scored and scored[0][0] > 0 else None


def session_chairs(ev: dict[str, dict[str, Any]], local: str | None, round_chairs: set[str],
                   cfg: RolesConfig) -> dict[str, str]:
    """label -> rule. The round's chair chairs wherever they speak; the session's own best
    candidate also does when no round chair is present, or when most of their turns hand
    over (a master of ceremonies beside the minister). A host who mostly speaks for their
    own organisation (a visit) stays a participant."""
    out = {lab: "round_chair" for lab in round_chairs
           if lab in ev and ev[lab]["share"] >= cfg.chair_round_min_share}
    if local and local not in out:
        e = ev[local]
        if not out or e["handoffs"] / max(e["turns"], 1) >= cfg.chair_handoff_rate:
            out[local] = "chair"
    return out


@dataclass
class SessionSpeakers:
    """The speakers of one session as the inference needs them."""

    session_id: str
    turns: Sequence[Turn]
    officials: Sequence[str] = ()
    moderators: Sequence[str] = ()


def infer_roles(sessions: Sequence[SessionSpeakers], cfg: RolesConfig
                ) -> dict[tuple[str, str], SpeakerRole]:
    """(session id, speaker label) -> SpeakerRole for every speaker of the round."""
    evidence = {s.session_id: session_evidence(s.turns, cfg) for s in sessions}
    local: dict[str, str | None] = {}
    if cfg.infer:
        local = {sid: pick_chair(ev, cfg) for sid, ev in evidence.items()}
    # A speaker who is the best chair candidate in several sessions chairs the round.
    chaired = Counter(c for c in local.values() if c)
    round_chairs = {lab for lab, k in chaired.items() if k >= cfg.chair_round_sessions}
    chairs = {sid: session_chairs(evidence[sid], local[sid], round_chairs, cfg)
              for sid in local}
    out: dict[tuple[str, str], SpeakerRole] = {}
    for s in sessions:
        by_label: dict[str, list[Turn]] = defaultdict(list)
        for t in s.turns:
            if t.speaker:
                by_label[t.speaker].append(t)
        for lab, own in by_label.items():
            e = dict(evidence[s.session_id][lab])
            if cfg.infer:
                e["chair_score"] = round(chair_score(e, cfg), 3)
                e["chairs_sessions"] = chaired.get(lab, 0)
            role = _decide(lab, own, e, s, cfg, chairs.get(s.session_id, {}))
            role.turns, role.share, role.evidence = e["turns"], e["share"], e
            out[(s.session_id, lab)] = role
    if cfg.infer:
        _officials_across_sessions(out)
    return out


def _officials_across_sessions(roles: dict[tuple[str, str], SpeakerRole]) -> None:
    """A named speaker found to be an official in one session of the round (by their label,
    their self-introduction or how others address them) is that official in the round's
    other sessions too, where nothing decided their role: the same person speaks for the same
    body (the roadshow's ministry staff attend session after session and introduce themselves
    in some). Only personal-name labels: a name repeated across a round is one person (the
    check of this rule by reading is in docs/roles.md)."""
    found: dict[str, SpeakerRole] = {}
    for (_, lab), r in sorted(roles.items()):
        # Being addressed by a title is too weak to carry over (a youth adviser addressed as
        # 部長 in jest became an official of every session).
        if (r.role == OFFICIAL and _NAME_LABEL.match(lab) and lab not in found
                and r.evidence.get("rule") != "addressed_by_title"):
            found[lab] = r
    for (_, lab), r in roles.items():
        if r.role == PARTICIPANT and lab in found and r.source == "inferred" \
                and not r.evidence.get("rule"):
            src = found[lab]
            r.role, r.body, r.title = OFFICIAL, src.body, r.title or src.title
            r.evidence["rule"] = "official_in_another_session"


def _decide(label: str, own: Sequence[Turn], e: dict[str, Any], s: SessionSpeakers,
            cfg: RolesConfig, chairs: dict[str, str]) -> SpeakerRole:
    """Manifest, then config lists, then the label, then the transcript's evidence."""
    if label in s.moderators:
        return SpeakerRole(label, MODERATOR, source="manifest", evidence={"rule": "manifest"})
    if label in s.officials:
        return _official(label, own, e, cfg, source="manifest")
    if label in cfg.moderators:
        return SpeakerRole(label, MODERATOR, source="config")
    sections = any_of(tuple(cfg.section_labels))
    if sections and sections.fullmatch(label):
        e["rule"] = "minutes_section"  # 會議結論, 出席人員: the organisers' record
        return SpeakerRole(label, MODERATOR, source="label")
    if label in cfg.officials:
        return _official(label, own, e, cfg, source="config")
    if _longest_in(label, cfg.moderator_patterns):
        e["rule"] = "moderator_label"
        return SpeakerRole(label, MODERATOR, source="label")
    if _longest_in(label, cfg.official_patterns) or government_body(label, cfg):
        return _official(label, own, e, cfg, source="label")
    if not cfg.infer:
        return SpeakerRole(label, PARTICIPANT, source="default")
    if label in chairs:
        e["rule"] = chairs[label]
        return SpeakerRole(label, MODERATOR)
    body = self_introduced_body(own, cfg, label)
    if body:
        e["rule"] = "self_introduction"
        e["body"] = body
        return SpeakerRole(label, OFFICIAL, body=body, title=e["public_title"])
    if e["public_title"] and e["public_title"] in cfg.official_patterns:
        e["rule"] = "addressed_by_title"
        return SpeakerRole(label, OFFICIAL, title=e["public_title"])
    return SpeakerRole(label, PARTICIPANT)


def _official(label: str, own: Sequence[Turn], e: dict[str, Any], cfg: RolesConfig,
              source: str) -> SpeakerRole:
    body = government_body(label, cfg) or (self_introduced_body(own, cfg, label) if cfg.infer
                                           else None)
    title = _longest_in(label, cfg.official_patterns) or e.get("public_title")
    e["rule"] = f"official_{source}"
    return SpeakerRole(label, OFFICIAL, body=body, title=title, source=source)
