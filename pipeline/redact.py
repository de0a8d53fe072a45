"""Personal-data redaction, applied to unit text and speaker fields before anything is written.

Speaker names become stable per-round pseudonyms (與會者A, 官員B, 主持人A) assigned in order of
first appearance, so the same file ingested again yields the same pseudonyms. The real names
are then removed from all unit text too (full name and, for 3-character Chinese names, the
given name alone, which is how people address each other in meetings).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from pipeline.config import RedactConfig

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+\s?@\s?[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Taiwanese numbers: mobile 09xx-xxx-xxx, +886 9xx..., landlines (0x)xxxx-xxxx with area code.
PHONE = re.compile(
    r"(?<![\dA-Za-z])(?:"
    r"(?:\+?886[\s\-]?|0)9\d{2}[\s\-]?\d{3}[\s\-]?\d{3}"
    r"|(?:\+?886[\s\-]?|0)\(?[2-8]\d?\)?[\s\-]?\d{3,4}[\s\-]?\d{4}(?:\s?(?:#|分機|ext\.?)\s?\d{1,5})?"
    r"|\(0[2-8]\d?\)\s?\d{3,4}[\s\-]?\d{4}"
    r")(?!\d)"
)
# National ID: letter + 1/2 + 8 digits; resident certificates: letter + 8/9 + 8 digits
# (new format) or letter + A-D + 8 digits (old format).
NATIONAL_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?:[1289]|[A-Da-d])\d{8}(?!\d)")

TAGS = {"email": "[電子郵件]", "phone": "[電話]", "national_id": "[身分證號]"}


def _letters(n: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: spreadsheet-style, so pseudonyms never run out."""
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


_CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


@dataclass
class Redactor:
    """Holds the round's name → pseudonym table; call `speaker()` for every turn first."""

    cfg: RedactConfig
    pseudonyms: dict[str, str] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    _per_role: Counter = field(default_factory=Counter)
    _name_re: re.Pattern[str] | None = None
    _name_map: dict[str, str] = field(default_factory=dict)
    _extra_names: list[str] = field(default_factory=list)
    _aliases: dict[str, str] = field(default_factory=dict)

    def add_private_names(self, names: list[str]) -> None:
        """Names listed in a round manifest, removed from text like the config's extra_names."""
        new = [n for n in names if n not in self._extra_names]
        if new:
            self._extra_names.extend(new)
            self._name_re = None

    def speaker(self, label: str | None, role: str, title: str | None = None) -> str | None:
        """Pseudonym for a speaker label (assigned on first sight)."""
        if label is None:
            return None
        if not (self.cfg.enabled and self.cfg.names):
            return label
        if label in self.cfg.keep_labels:
            return label
        if role == "official" and self.cfg.keep_official_names:
            return label
        if label not in self.pseudonyms:
            prefix = {
                "official": self.cfg.official_prefix,
                "moderator": self.cfg.moderator_label,
            }.get(role, self.cfg.pseudonym_prefix)
            alias = prefix + _letters(self._per_role[prefix])
            self._per_role[prefix] += 1
            if title:
                alias += f"（{title}）"
                # "經濟部王處長" is also called "王處長" in the room.
                pos = label.find(title)
                if pos >= 1:
                    self._aliases[label[pos - 1 : pos + len(title)]] = alias
            self.pseudonyms[label] = alias
            self._name_re = None
        return self.pseudonyms[label]

    def _names(self) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        if self._name_re is None:
            mapping: dict[str, str] = dict(self._aliases)
            for name, alias in self.pseudonyms.items():
                for variant in _name_variants(name):
                    mapping.setdefault(variant, alias)
            for name in [*self.cfg.extra_names, *self._extra_names]:
                for variant in _name_variants(name):
                    mapping.setdefault(variant, self.cfg.pseudonym_prefix)
            self._name_map = mapping
            self._name_re = (
                re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)))
                if mapping else None
            )
        return self._name_re, self._name_map

    def text(self, text: str) -> str:
        if not self.cfg.enabled:
            return text
        if self.cfg.emails:
            text = self._sub(EMAIL, "email", text)
        if self.cfg.national_ids:
            text = self._sub(NATIONAL_ID, "national_id", text)
        if self.cfg.phones:
            text = self._sub(PHONE, "phone", text)
        if self.cfg.names:
            rx, mapping = self._names()
            if rx is not None:
                def repl(m: re.Match[str]) -> str:
                    self.counts["name"] += 1
                    return mapping[m.group(0)]
                text = rx.sub(repl, text)
        return text

    def _sub(self, rx: re.Pattern[str], kind: str, text: str) -> str:
        text, n = rx.subn(TAGS[kind], text)
        if n:
            self.counts[kind] += n
        return text


def _name_variants(name: str) -> list[str]:
    name = name.strip()
    if len(name) < 2:
        return []
    out = [name]
    # "陳聖凱" is also addressed as "聖凱"; two-character given names are specific enough
    # to remove, single characters are not.
    if _CJK_NAME.match(name) and len(name) == 3:
        out.append(name[1:])
    return out
