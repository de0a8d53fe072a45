"""Traditional Chinese word segmentation: jieba with a derived Traditional dictionary.

jieba ships a Simplified Chinese dictionary, so on Traditional text it misses most words
(0.742 F1 on SIGHAN-2005 CityU); dictionary.py derives and caches a Traditional one.

Conventions on top of the dictionary (see `Conventions`; each one measured by
bench/segmentation.py): numbers and Latin runs are one token, numeral + measure word are
two words, and unknown character runs go through jieba's HMM after a per-character
Traditional→Simplified mapping, because the HMM was trained on Simplified text and scores
Traditional-only characters as impossible. The default config reaches 0.871 F1 on CityU.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import jieba
import jieba.finalseg

from pipeline.config import SegmentConfig, config_hash, resolve_path
from pipeline.segment.conventions import DEFAULT_CONVENTIONS, Conventions
from pipeline.segment.dictionary import ensure_dictionary, load_tokenizer, read_word_list

# Full-width ASCII and the ideographic space map to half-width for matching only: the
# mapping keeps the string length, so words are cut from the original text unchanged.
_FW_TO_HW = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FW_TO_HW[0x3000] = 0x20

_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{_HAN}]")
# Invisible characters (BOM, zero-width space/joiners, word joiner) are dropped like spaces.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"

_NUMERALS = "零〇一二兩三四五六七八九十百千萬億"
# Measure words that a numeral or determiner combines with; the two are separate words
# (一 個, 每 年, 兩 名), as in the CityU and CKIP segmentation standards. Characters that also
# form lexicalised words with 一 (一樣, 一點, 一下, 一道, 一時, 一度, 一身...) are left out.
_CLASSIFIERS = frozenset(
    "個名位次條隻件種項家間所張輛架艘台臺部份筆場宗批股顆粒隊座棟幢層頁篇枝支把根"
    "塊片封套對雙群堆歲倍屆輪趟遍頓餐杯瓶碗盒箱袋噸年天週夜晚季團"
)
_UNITS_AFTER_NUMBER = _CLASSIFIERS | frozenset("日時號")
_DETERMINERS = frozenset("每該這那某本多")
# Time words that follow a determiner as a measure word (本 月, 每 日) but stay whole
# after a numeral (一月 is January).
_DETERMINER_UNITS = frozenset("月日")
# Lexicalised numeral/determiner + measure-word combinations that stay one word.
# 這個/那個 stay whole so that the filler stopword list can remove them as spoken.
_LEXICALISED = frozenset(["這個", "那個", "多元"])
# Approximators after a numeral (十 多 天, 千 餘 名) are words of their own.
_APPROX = frozenset("多餘")
_NUMERAL_RUN = re.compile(f"[{_NUMERALS}幾數]+")



_PIECE_RE = re.compile(
    r"(?P<ws>[\s" + _INVISIBLE + r"]+)"
    r"|(?P<month>(?<![0-9.,])(?:1[0-2]|0?[1-9])月)"
    r"|(?P<num>[0-9]+(?:[.,:﹕][0-9]+)*(?:[萬億])?(?![A-Za-z]))"
    r"|(?P<alnum>[A-Za-z0-9]+(?:['’\-.&_][A-Za-z0-9]+)*[+#]*)"
    rf"|(?P<han>[{_HAN}]+)"
    r"|(?P<rep>(?P<repch>[—…─\-~.·])(?P=repch)+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
_PIECE_RE_PLAIN = re.compile(
    r"(?P<ws>[\s" + _INVISIBLE + r"]+)"
    r"|(?P<alnum>[A-Za-z0-9]+)"
    rf"|(?P<han>[{_HAN}]+)"
    r"|(?P<other>.)",
    re.DOTALL,
)

# tokens(): words without any letter, digit or Han character are punctuation or symbols.
_CONTENT_RE = re.compile(rf"[A-Za-z0-9{_HAN}\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_NUMBER_RE = re.compile(
    r"[0-9.,%]+[萬億]?|[0-9]{1,2}月|[" + _NUMERALS + r"]+|[0-9.]*[" + _NUMERALS + r"多餘幾數]+"
)




def t2s_char_table() -> dict[int, str]:
    """Traditional→Simplified per character, from OpenCC's own character table."""
    import opencc

    table: dict[int, str] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        src, _, dst = line.partition("\t")
        first = dst.split(" ")[0]
        if len(src) == 1 and len(first) == 1:
            table[ord(src)] = first
    return table


class Segmenter:
    """Word segmentation for one `SegmentConfig`; build once per process via get_segmenter."""

    def __init__(self, cfg: SegmentConfig, conventions: Conventions = DEFAULT_CONVENTIONS):
        self.cfg = cfg
        self.conventions = conventions
        self.cache_dir = Path(cfg.cache_dir).expanduser()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # jieba logs every dictionary load at DEBUG on stderr, which would interleave
        # with `consult segment` output; warnings still get through.
        jieba.setLogLevel(logging.WARNING)
        self.dictionary_path, self.built = ensure_dictionary(cfg, conventions, self.cache_dir)
        self._tk = load_tokenizer(self.dictionary_path, self.cache_dir)
        self._freq: dict[str, int] = self._tk.FREQ
        self._t2s = t2s_char_table() if conventions.hmm_via_simplified else {}
        self._pieces = _PIECE_RE if conventions.number_tokens else _PIECE_RE_PLAIN
        self._suffixes = frozenset(conventions.merge_suffixes)
        stop: set[str] = set()
        for p in cfg.stopwords:
            stop.update(w.lower() for w in read_word_list(resolve_path(p)))
        self.stopwords = frozenset(stop)

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        """The underlying jieba Tokenizer (for baselines that use jieba's own cut)."""
        return self._tk

    # -- cutting --------------------------------------------------------------------

    def _hmm(self, text: str) -> Iterator[str]:
        """jieba's HMM on an unknown run, through a same-length Simplified mapping."""
        if not self.cfg.hmm or len(text) == 1:
            yield from text
            return
        mapped = text.translate(self._t2s) if self._t2s else text
        i = 0
        for piece in jieba.finalseg.cut(mapped):
            yield text[i : i + len(piece)]
            i += len(piece)
        if i != len(text):  # finalseg drops nothing today; never lose text if it ever does
            yield text[i:]

    def _cut_han(self, text: str) -> list[str]:
        tk, freq = self._tk, self._freq
        dag = tk.get_DAG(text)
        route: dict[int, tuple[float, int]] = {}
        tk.calc(text, dag, route)
        words: list[str] = []
        buf = ""
        x, n = 0, len(text)
        while x < n:
            y = route[x][1] + 1
            if y - x == 1:
                buf += text[x]
            else:
                if buf:
                    # Single characters in a row that are not themselves a word are an
                    # unknown word or several; the HMM decides (jieba's own rule).
                    words.extend(buf if freq.get(buf) else self._hmm(buf))
                    buf = ""
                words.append(text[x:y])
            x = y
        if buf:
            words.extend(buf if freq.get(buf) else self._hmm(buf))
        if self.conventions.split_classifiers:
            words = _split_classifiers(words)
        if self._suffixes:
            words = _merge_suffixes(words, self._suffixes)
        return words

    def _spans(self, text: str) -> Iterator[tuple[int, int]]:
        norm = text.translate(_FW_TO_HW)
        punct_runs = self.conventions.punct_runs
        units: frozenset[str] = (
            _UNITS_AFTER_NUMBER if self.conventions.units_after_number else frozenset()
        )
        prev_kind, prev_end = "", -1
        for m in self._pieces.finditer(norm):
            kind = m.lastgroup
            start, end = m.span()
            after_number = prev_kind == "num" and prev_end == start
            prev_kind, prev_end = kind, end
            if kind == "ws":
                continue
            if kind == "han":
                if after_number and norm[start] in units:
                    yield start, start + 1
                    start += 1
                    if start == end:
                        continue
                for w in self._cut_han(norm[start:end]):
                    yield start, start + len(w)
                    start += len(w)
            elif kind == "rep" and not punct_runs:
                for i in range(start, end):
                    yield i, i + 1
            else:
                yield start, end

    def cut(self, text: str) -> list[str]:
        """All words in order, punctuation included, whitespace dropped; text unchanged."""
        return [text[a:b] for a, b in self._spans(text)]

    def tokens(self, text: str) -> list[str]:
        """Content words for topic modelling: no stopwords, punctuation or numbers."""
        out = []
        for w in self.cut(text):
            norm = w.translate(_FW_TO_HW)
            if not _CONTENT_RE.search(norm):
                continue
            if _NUMBER_RE.fullmatch(norm):
                continue
            low = norm.lower()
            if low in self.stopwords:
                continue
            # Single Han characters left over are measure words, numerals or function
            # words that the stopword lists did not name; alone they carry no theme.
            if len(low) == 1 and (low in _CLASSIFIERS or low in _DETERMINERS):
                continue
            out.append(low)
        return out

    def tokens_many(self, texts: Iterable[str]) -> list[list[str]]:
        return [self.tokens(t) for t in texts]


def _split_classifiers(words: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if len(w) < 2 or w in _LEXICALISED:
            out.append(w)
            continue
        head, last = w[:-1], w[-1]
        if head in _DETERMINERS and (last in _CLASSIFIERS or last in _DETERMINER_UNITS):
            out += (head, last)
        elif last not in _CLASSIFIERS:
            out.append(w)
        elif _NUMERAL_RUN.fullmatch(head):
            out += (head, last)
        elif len(head) > 1 and head[-1] in _APPROX and _NUMERAL_RUN.fullmatch(head[:-1]):
            out += (head[:-1], head[-1], last)
        else:
            out.append(w)
    return out


def _merge_suffixes(words: list[str], suffixes: frozenset[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if w in suffixes and out and len(out[-1]) >= 2 and _HAN_RE.match(out[-1][-1]):
            out[-1] += w
        else:
            out.append(w)
    return out


# SegmentConfig fields that shape analysis units, not words (owned by pipeline/ingest/turns.py).
_UNIT_FIELDS = ("unit", "window_size", "min_cjk_chars")


@functools.cache
def _segmenter_for(key: str, cfg_json: str) -> Segmenter:
    """`key` (the config hash) is what the cache is looked up by; the JSON rebuilds the config."""
    return Segmenter(SegmentConfig.model_validate_json(cfg_json))


def get_segmenter(cfg: SegmentConfig) -> Segmenter:
    """One Segmenter per distinct segmentation config in this process."""
    # unit/window_size/min_cjk_chars shape units, not words: they must not force a rebuild.
    relevant = {k: v for k, v in cfg.model_dump(mode="json").items() if k not in _UNIT_FIELDS}
    return _segmenter_for(config_hash(relevant), json.dumps(relevant, sort_keys=True))
