"""Full names of people mentioned in passing, who are neither speakers nor listed anywhere:
「像張劭瀚他們是縣府專案發展出來的單位」.

jieba's part-of-speech tagger marks person names (`nr`, and `nrfg`/`nrt` for given and
transliterated names) from its dictionary and, for unknown words, from its HMM, which learnt
what names look like. Its model is Simplified Chinese, so the text is mapped character by
character to Simplified first (same length: positions stay). A tag alone is not enough: jieba
also tags 謝謝 or 高雄 as names now and then. A candidate is kept as a name when

- it starts with a Taiwanese surname (lexicon.py; a compound one such as 歐陽 may be tagged
  apart from the given name: 歐陽/志遠 are joined), and has 3-4 characters, or 2 with a
  strong surname (唐鳳), none of them a character that does not occur in given names;
- its first two characters are not a common word (高雄, 許多) and it is not in
  `redact.not_names`;
- it is not a public figure in a public role: listed in `redact.public_figures`, or directly
  followed by a public office title (黃國昌委員, 王處長: officials acting in their role
  stay, as in redact.py's title rules).

Precision and recall, on planted mentions and on hand-checked real units: tests/data/
person_names_*.jsonl and tests/test_person_names.py.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

from pipeline.config import RedactConfig
from pipeline.ingest.recognisers.lexicon import (
    COMPOUND_SURNAMES,
    NOT_GIVEN,
    NOT_NAMES,
    ORG_END,
    STRONG_SURNAMES,
    SURNAMES,
)

_NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})
# 小 and 大 do not stand after a surname in running text as they do in given names (王小華,
# 李大同); forms of address with them (王小姐, 林大哥) are excluded by the titles instead.
_NOT_GIVEN = (NOT_GIVEN - {"小", "大"}) | {"於"}


# A name followed by one of these names a firm or a place, not a person (羅布森公司).
_NOT_PERSON_AFTER = ("公司", "股份", "集團", "企業", "基金會", "協會", "醫院", "大學", "學校")
# A candidate ending in one of these is a place (萬壽路, 中正里).
_PLACE_END = frozenset("路街巷橋村里鄉鎮縣市區港站")
# An attendance list in minutes: 「勞動部 陳慧玲 / 林宏德 / 周詳」. Items between separators.
_LIST_ITEM = re.compile(r"[^/／、,，;；\s]+")
_LIST_SEPARATORS = frozenset("/／、")
# Given names hold 千, 百, 大 (黃千芬); in running text these are numbers and words, so only a
# list relaxes the rule.
_LIST_NOT_GIVEN = _NOT_GIVEN - frozenset("百千兩大小老多")
# Items already replaced by a pseudonym (與會者KH, 官員RM（…）) are people too.
_PSEUDONYM_ITEM = re.compile(r"^(?:與會者|官員|主持人)[A-Z]+")


@cache
def _tagger() -> tuple[Any, dict[int, str], dict[str, int]]:
    """jieba's POS tagger on its own (Simplified) dictionary, the character map to
    Simplified, and the dictionary's words."""
    import jieba
    import jieba.posseg

    from pipeline.segment.segmenter import t2s_char_table

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.check_initialized()
    return jieba.posseg.POSTokenizer(tk), t2s_char_table(), tk.FREQ


def _is_han(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def is_common_word(label: str) -> bool:
    """A speaker label that is a word of the dictionary (時間, 能源: minutes' headings and
    `能源：太陽能` list lines read as labels), not a person's name: its other occurrences in
    the text are words and must stay."""
    if not (2 <= len(label) <= 4) or not all(map(_is_han, label)):
        return False
    tagger, t2s, vocab = _tagger()
    word = label.translate(t2s)
    # A dictionary word tagged as a name (王小明, 林木) may be a person: masked as before.
    return bool(vocab.get(word)) and not tagger.word_tag_tab.get(word, "").startswith("nr")


class PassingNames:
    """Finds person names in text by jieba's name tags checked against the name lexicon."""

    def __init__(self, cfg: RedactConfig):
        self.cfg = cfg
        self.keep = frozenset(cfg.public_figures) | frozenset(cfg.not_names)
        self.public_titles = tuple(sorted(cfg.public_titles, key=len, reverse=True))
        self.address_forms = tuple({*cfg.personal_titles, *cfg.public_titles,
                                    *cfg.kinship_forms})
        self.list_titles = tuple(sorted(cfg.list_titles, key=len, reverse=True))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each person name in `text`."""
        if not any(c in SURNAMES for c in text):
            return []
        tagger, t2s, self._vocab = _tagger()
        simplified = text.translate(t2s)
        words: list[tuple[int, int, str]] = []
        pos = 0
        for pair in tagger.cut(simplified):
            words.append((pos, pos + len(pair.word), pair.flag))
            pos += len(pair.word)
        out: list[tuple[int, int]] = []
        i = 0
        while i < len(words):
            s, e, flag = words[i]
            nxt = words[i + 1] if i + 1 < len(words) else None
            # A surname tagged apart from its given name: 歐陽/志遠, 李/明哲.
            if (nxt and nxt[2] in _NAME_TAGS and nxt[1] - nxt[0] <= 2
                    and (text[s:e] in COMPOUND_SURNAMES or (e - s == 1 and flag == "nr"
                                                            and text[s] in SURNAMES))):
                cand = (s, nxt[1])
                i += 2
            elif (e - s == 1 and text[s] in STRONG_SURNAMES and i + 2 < len(words)
                  and self._given_morphemes(text, words[i + 1], words[i + 2])):
                # 賴/宥/廷: a surname jieba read as a word (賴 "rely"), then two single
                # characters that are bound morphemes (`g`), as rare given-name characters
                # are; jieba's HMM never sees them, so no `nr` tag comes.
                cand = (s, words[i + 2][1])
                i += 3
            elif flag in ("nr", "nrfg"):
                cand = (s, e)
                i += 1
                # 吳馨/如委員: jieba cut a three-character name after two; a single
                # character that is not a function word goes with it (over-masking one
                # character is the safe error).
                if (e - s == 2 and nxt and nxt[1] - nxt[0] == 1 and _is_han(text[nxt[0]])
                        and text[nxt[0]] not in _NOT_GIVEN and nxt[2] not in ("x", "m")):
                    cand = (s, nxt[1])
                    i += 1
            else:
                i += 1
                continue
            if self._is_private_name(text, simplified, *cand):
                out.append(cand)
        return sorted(set(out) | set(self._list_names(text)))

    def _list_names(self, text: str) -> list[tuple[int, int]]:
        """Names in a list of names (an attendance line of minutes). The list itself is the
        evidence: jieba reads 周詳 as a word and misses names its HMM finds unusual, but two or
        more separated items that each look like a full name (a surname, then one or two
        given-name characters) are people, whatever the dictionary says."""
        if not any(c in _LIST_SEPARATORS for c in text):
            return []
        items = [(m.start(), m.end()) for m in _LIST_ITEM.finditer(text)]
        names = [(s, e) for k, (s, e) in enumerate(items)
                 if self._looks_like_full_name(text[s:e])
                 or (k and self._after_title(text, items[k - 1], s)
                     and self._looks_like_titled_name(text[s:e]))]
        people = len(names) + sum(bool(_PSEUDONYM_ITEM.match(text[s:e])) for s, e in items)
        return names if names and people >= 2 else []

    def _after_title(self, text: str, prev: tuple[int, int], start: int) -> bool:
        """The item before is a job title, separated by spaces only (「助理員 米珮菱」, not
        「謝謝高委員，三個階段」)."""
        return text[prev[0]:prev[1]] in self.list_titles and not text[prev[1]:start].strip()

    def _looks_like_titled_name(self, name: str) -> bool:
        """An item after a job title in a list (「助理員 米珮菱」): two to four Han characters
        that are not a dictionary word, a title, a place or an organisation."""
        return (2 <= len(name) <= 4 and all(map(_is_han, name))
                and not self._vocab.get(name.translate(_tagger()[1]))
                and name[-1] not in _PLACE_END | ORG_END and not name.endswith(self.address_forms)
                and not name.endswith(self.list_titles) and name not in self.keep
                and name[:2] not in NOT_NAMES)

    def _looks_like_full_name(self, name: str) -> bool:
        if not (2 <= len(name) <= 4) or not all(map(_is_han, name)):
            return False
        if len(name) == 2 and (name[0] not in STRONG_SURNAMES
                               or self._vocab.get(name.translate(_tagger()[1]))):
            return False  # 方便, 文化: two-character words; 唐鳳 stays a name
        surname = 2 if name[:2] in COMPOUND_SURNAMES else 1
        given = name[surname:]
        return ((surname == 2 or name[0] in SURNAMES) and 1 <= len(given) <= 2
                and not any(c in _LIST_NOT_GIVEN for c in given)
                and name[-1] not in _PLACE_END | ORG_END
                and not name.endswith(self.address_forms) and name not in self.keep
                and name[:2] not in NOT_NAMES)

    @staticmethod
    def _given_morphemes(text: str, a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
        chars = [(text[w[0]:w[1]], w[2]) for w in (a, b)]
        return (all(len(c) == 1 and _is_han(c) and c not in _NOT_GIVEN for c, _ in chars)
                and any(f == "g" for _, f in chars))

    def _is_private_name(self, text: str, simplified: str, s: int, e: int) -> bool:
        name = text[s:e]
        if not (2 <= len(name) <= 4) or not all(map(_is_han, name)):
            return False
        # A private person is not in a dictionary: a name that is (jieba lists 林木, 周詳,
        # 顧忌 and 康德 as `nr`) is a common word or a famous person.
        if self._vocab.get(simplified[s:e]):
            return False
        if name[-1] in _PLACE_END | ORG_END or text.startswith(_NOT_PERSON_AFTER, e):
            return False
        surname = 2 if name[:2] in COMPOUND_SURNAMES else 1
        if surname == 1 and name[0] not in SURNAMES:
            return False
        given = name[surname:]
        if not given or len(given) > 2 or any(c in _NOT_GIVEN for c in given):
            return False
        if name.endswith(self.address_forms):  # 王小姐, 林大哥: left to the title rules
            return False
        if len(name) == 2 and name[0] not in STRONG_SURNAMES:
            return False
        if name[:2] in NOT_NAMES or name in self.keep:
            return False
        # 黃國昌委員, 王處長: a public figure named in a public role stays.
        return not text.startswith(self.public_titles, e)
