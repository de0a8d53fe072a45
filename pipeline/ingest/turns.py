"""Speaker turns from a reader's Document, and analysis units cut from turns.

Every piece keeps its source location (file line range and character offsets in the
decoded text), so any quote in a report can be traced back to where it was said.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from pipeline.source import Document

_HEADING_SPEAKER = re.compile(r"^#{2,6}\s*(?P<name>[^#：:]{1,40}?)\s*[：:]\s*$")
_HEADING = re.compile(r"^#{1,6}\s")
_QUOTE = re.compile(r"^\s*>")
# Labels that look like a speaker but start an enumerated point or a time, not a turn.
_NOT_SPEAKER = re.compile(
    r"^(\d|第.{1,3}[點項條個]|[一二三四五六七八九十]|問題|答|問|註|備註|時間|地點|主題|議題|結論"
    r"|說明|例如|比如)"
)
_LABEL_BAD_CHARS = re.compile(r"[，。！？；、「」『』,.!?;\"“”()（）\[\]{}<>/\\=+*#@]")


@dataclass(frozen=True)
class Piece:
    """A paragraph (or sentence) with its location in the source."""

    text: str
    line_start: int
    line_end: int
    char_start: int
    char_end: int


@dataclass
class Turn:
    index: int
    speaker: str | None
    pieces: list[Piece] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    # A table row's mapped columns (Record.fields): session, date, location, votes, ...
    fields: dict = field(default_factory=dict)


# `蔡宜芳（地球公民）：`: a label may end with an affiliation in brackets, which does not count
# towards the label's length and may hold characters a bare label may not.
_AFFILIATION = r"[（(][^（）()：:\n]{1,30}[）)]"
_SLASH = re.compile(r"^[^/／]{1,15}[/／][^/／]{1,15}$")


def _inline_speaker(text: str, max_chars: int) -> tuple[str, int] | None:
    """`名字：發言` -> (名字, offset of 發言). Conservative: a wrong split loses meaning.

    Label forms: 名字, 名字（單位）, 名字/單位, 單位 名字 (and the same with a title)."""
    m = re.match(rf"^\s*([^：:（()]{{1,{max_chars}}}(?:{_AFFILIATION})?)[：:]\s*", text)
    if not m:
        return None
    label = m.group(1).strip()
    core = re.sub(f"{_AFFILIATION}$", "", label).strip()
    if _SLASH.match(core):
        core = re.sub(r"[/／]", "", core)
    if not core or _LABEL_BAD_CHARS.search(core) or _NOT_SPEAKER.match(core):
        return None
    if len(core.split()) > 3:
        return None
    return label, m.end()


def parse_turns(doc: Document, max_inline_speaker_chars: int = 12) -> list[Turn]:
    if doc.kind == "records":
        return [
            Turn(i, (r.speaker or None),
                 [Piece(r.text, r.lineno, r.lineno, 0, len(r.text))], dict(r.meta),
                 dict(r.fields))
            for i, r in enumerate(doc.records)
        ]
    turns: list[Turn] = []
    current: Turn | None = None

    def start(speaker: str | None) -> Turn:
        t = Turn(len(turns), speaker)
        turns.append(t)
        return t

    for line in doc.lines:
        raw = line.text
        if not raw.strip():
            continue
        m = _HEADING_SPEAKER.match(raw)
        if m:
            current = start(m.group("name").strip())
            continue
        if _HEADING.match(raw) or _QUOTE.match(raw):
            # Titles, section headings and quoted notes (links, whiteboards) are not speech.
            continue
        inline = _inline_speaker(raw, max_inline_speaker_chars)
        if inline:
            label, off = inline
            rest = raw[off:]
            # Subtitles repeat the speaker on every cue: consecutive lines of one speaker
            # are one turn.
            if current is None or current.speaker != label:
                current = start(label)
            if rest.strip():
                lead = len(rest) - len(rest.lstrip())
                text = rest.strip()
                cs = line.char_start + off + lead
                current.pieces.append(Piece(text, line.lineno, line.lineno, cs, cs + len(text)))
            continue
        if current is None:
            current = start(None)
        lead = len(raw) - len(raw.lstrip())
        text = raw.strip()
        cs = line.char_start + lead
        current.pieces.append(Piece(text, line.lineno, line.lineno, cs, cs + len(text)))
    # A heading with nothing under it is not a turn; renumber so indices stay dense.
    kept = [t for t in turns if t.pieces]
    for i, t in enumerate(kept):
        t.index = i
    return kept


# Sentence end: 。！？；… (and ASCII !?;), with closing quotes/brackets kept on the left.
_END = r"[。！？；!?;…]+[」』）)\"'”’】]*"
_SENT = re.compile(rf"[^。！？；!?;…]+(?:{_END}|$)|{_END}")


def split_sentences(piece: Piece) -> list[Piece]:
    out = []
    for m in _SENT.finditer(piece.text):
        s = m.group(0)
        stripped = s.strip()
        if not stripped:
            continue
        lead = len(s) - len(s.lstrip())
        start = piece.char_start + m.start() + lead
        out.append(Piece(stripped, piece.line_start, piece.line_end, start, start + len(stripped)))
    return out


def _merge(pieces: list[Piece]) -> Piece:
    # Sentences of one paragraph were contiguous; paragraphs keep their line break.
    text = pieces[0].text
    for prev, p in itertools.pairwise(pieces):
        text += ("" if p.line_start == prev.line_end else "\n") + p.text
    return Piece(
        text, pieces[0].line_start, pieces[-1].line_end, pieces[0].char_start, pieces[-1].char_end
    )


def cut_units(turn: Turn, unit: str, window_size: int = 3) -> list[Piece]:
    """Cut a turn into analysis units: the whole turn, sentences, or windows of sentences."""
    if unit == "turn":
        return [_merge(turn.pieces)] if turn.pieces else []
    sentences = [s for p in turn.pieces for s in split_sentences(p)]
    if unit == "sentence":
        return sentences
    return [_merge(sentences[i : i + window_size]) for i in range(0, len(sentences), window_size)]
