"""Traditional Chinese word segmentation: jieba with a derived Traditional dictionary.

jieba ships a Simplified Chinese dictionary, so on Traditional text it misses most words
(0.742 F1 on SIGHAN-2005 CityU). At first use we derive a Traditional main dictionary from
it with OpenCC (Taiwan and Hong Kong forms side by side), merge the domain dictionaries into
it, and cache both the dictionary and jieba's prefix dictionary under `cfg.cache_dir`,
keyed by a hash of every input. Merging the domain words into the main dictionary, instead
of `load_userdict` at every start (4-5 s), keeps a warm start at a few tenths of a second.

Conventions on top of the dictionary (see `Conventions`; each one measured by
bench/segmentation.py): numbers and Latin runs are one token, numeral + measure word are
two words, and unknown character runs go through jieba's HMM after a per-character
Traditional→Simplified mapping, because the HMM was trained on Simplified text and scores
Traditional-only characters as impossible. The default config reaches 0.871 F1 on CityU.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import pickle
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import jieba
import jieba.finalseg

from pipeline.config import SegmentConfig, config_hash, resolve_path
from pipeline.rundir import write_atomic

# Bump when the derivation below changes what it writes, so old cache files are not reused.
BUILD_VERSION = 4

JIEBA_DICT = Path(jieba.__file__).resolve().parent / "dict.txt"

# Dictionaries actually written in this process; tests use it to prove cache reuse.
BUILD_COUNT = 0

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


@dataclass(frozen=True)
class Conventions:
    """Segmentation choices measured on SIGHAN-2005 CityU (bench/segmentation.py).

    The defaults are what measured best; the bench switches them off one by one.
    """

    # OpenCC conversions whose outputs all enter the dictionary: s2tw gives Taiwan
    # characters (裡, 著), s2hk Hong Kong ones (裏, 着), s2twp Taiwan vocabulary (軟體).
    conversions: tuple[str, ...] = ("s2t", "s2tw", "s2twp", "s2hk")
    # Keep the Simplified entries too: they cost nothing on Traditional text and help on
    # comments typed in Simplified characters.
    keep_simplified: bool = True
    # Run jieba's HMM on a Simplified mapping of unknown Traditional character runs.
    hmm_via_simplified: bool = True
    # Digits (with 萬/億 and a month's 月) and Latin letter runs are one token each.
    number_tokens: bool = True
    # Numeral/determiner + measure word as two words (一 個, 每 年).
    split_classifiers: bool = True
    # A run of the same dash or ellipsis character (——, ……) is one punctuation mark.
    punct_runs: bool = True
    # Suffixes merged onto the preceding word (露宿 者 → 露宿者); empty = off.
    merge_suffixes: str = "者"
    # Entries of jieba's dictionary rarer than this are left out (0 = keep all).
    min_freq: int = 4
    # After a number, a measure word or date unit is a word of its own even where the
    # dictionary knows a longer word starting with it (30 日 開 會, not 30 日開 會).
    units_after_number: bool = True
    # Drop entries of 4+ characters that are two dictionary words side by side (日本政府),
    # except idioms and set phrases (jieba tags i, l).
    split_compounds: bool = True


DEFAULT_CONVENTIONS = Conventions()

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


def _read_word_list(path: Path) -> list[str]:
    words = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line)
    return words


def _read_user_dict(path: Path, default_freq: int) -> list[tuple[str, int, str | None]]:
    """jieba user-dict lines `word [freq] [tag]`; `#` starts a comment."""
    entries = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        word = parts[0]
        freq, tag = default_freq, None
        rest = parts[1:]
        if rest and rest[0].isdigit():
            freq = int(rest.pop(0))
        if rest:
            tag = rest.pop(0)
        if rest:
            raise ValueError(f"{path}:{lineno}: expected `word [freq] [tag]`, got {raw!r}")
        entries.append((word, freq, tag))
    return entries


def _opencc_version() -> str:
    try:
        return metadata.version("opencc-python-reimplemented")
    except metadata.PackageNotFoundError:
        return "unknown"


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _convert_words(words: list[str], conversion: str) -> list[str]:
    from opencc import OpenCC

    cc = OpenCC(conversion)
    out: list[str] = []
    step = 5000
    for i in range(0, len(words), step):
        chunk = words[i : i + step]
        # A newline is one of OpenCC's segment separators, so phrases never match across
        # two entries and the line count is preserved.
        converted = cc.convert("\n".join(chunk)).split("\n")
        if len(converted) != len(chunk):
            raise RuntimeError(f"OpenCC {conversion} changed the number of dictionary entries")
        out.extend(converted)
    return out


def _read_jieba_dict() -> list[tuple[str, int, str]]:
    entries = []
    with JIEBA_DICT.open(encoding="utf-8") as f:
        for line in f:
            word, freq, tag = line.split()
            entries.append((word, int(freq), tag))
    return entries


def _merged_entries(
    base: str, conv: Conventions, domain: list[tuple[str, int, str | None]]
) -> dict[str, tuple[int, str]]:
    """word -> (frequency, tag) of the main dictionary for `base`, domain words merged in."""
    entries = _read_jieba_dict()
    merged: dict[str, tuple[int, str]] = {}

    def put(word: str, freq: int, tag: str) -> None:
        # A form reached from several source words keeps its largest frequency: summing
        # measured the same F1 and would inflate forms OpenCC failed to tell apart.
        old = merged.get(word)
        if old is None or freq > old[0]:
            merged[word] = (freq, old[1] if old else tag)

    if base == "jieba-default":
        for word, freq, tag in entries:
            put(word, freq, tag)
    else:
        kept = [e for e in entries if e[1] >= conv.min_freq]
        words = [w for w, _, _ in kept]
        forms = [_convert_words(words, c) for c in conv.conversions]
        for i, (word, freq, tag) in enumerate(kept):
            if conv.keep_simplified:
                put(word, freq, tag)
            for converted in forms:
                w = converted[i]
                if w and " " not in w:
                    put(w, freq, tag)
        if conv.split_compounds:
            compounds = [
                w for w, (_, t) in merged.items()
                if len(w) >= 4 and t not in ("i", "l")
                and any(w[:k] in merged and w[k:] in merged for k in range(2, len(w) - 1))
            ]
            for w in compounds:
                del merged[w]
    total = sum(f for f, _ in merged.values())
    for word, freq, tag in domain:
        # A domain word must beat any split into its parts, or it would never come out
        # whole; the file's frequency is kept when it is already high enough.
        old = merged.get(word)
        floor = _beats_parts_freq(word, merged, total)
        merged[word] = (max(freq, floor, old[0] if old else 0), tag or (old[1] if old else "n"))
    return merged


def _beats_parts_freq(word: str, merged: dict[str, tuple[int, str]], total: int) -> int:
    """Smallest frequency at which jieba prefers `word` to its best split into parts.

    The same rule as jieba's suggest_freq: the word's probability must exceed the product
    of its parts' probabilities (unknown pieces count 1, as in jieba's own scoring).
    """
    n = len(word)
    best = [0.0] * (n + 1)  # best[i]: most probable split of word[:i]
    best[0] = 1.0
    for end in range(1, n + 1):
        for start in range(end):
            if start == 0 and end == n:
                continue  # the word itself is not one of its parts
            piece = word[start:end]
            entry = merged.get(piece)
            p = (entry[0] if entry and entry[0] else 1) / total
            best[end] = max(best[end], best[start] * p)
    return int(best[n] * total) + 1


# Every change of a domain dictionary leaves a ~7 MB dictionary + prefix cache behind.
STALE_AFTER_S = 30 * 24 * 3600


def _prune_stale(cache_dir: Path, keep: Path) -> None:
    """Remove dictionaries (and their caches) last written over a month ago.

    Age is the write time, so a dictionary still in use may be removed and is then rebuilt
    once; that is cheaper than tracking use, and processes that loaded it keep working.
    """
    cutoff = time.time() - STALE_AFTER_S
    for p in cache_dir.glob("dict.*"):
        if p.stem.split(".")[:3] == keep.stem.split(".")[:3]:
            continue
        try:
            if p.stat().st_mtime < cutoff:
                p.unlink()
        except OSError:
            pass  # another process pruned it first


def _t2s_char_table() -> dict[int, str]:
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
        self.dictionary_path, self.built = self._ensure_dictionary()
        self._tk = self._tokenizer(self.dictionary_path)
        self._freq: dict[str, int] = self._tk.FREQ
        self._t2s = _t2s_char_table() if conventions.hmm_via_simplified else {}
        self._pieces = _PIECE_RE if conventions.number_tokens else _PIECE_RE_PLAIN
        self._suffixes = frozenset(conventions.merge_suffixes)
        stop: set[str] = set()
        for p in cfg.stopwords:
            stop.update(w.lower() for w in _read_word_list(resolve_path(p)))
        self.stopwords = frozenset(stop)

    # -- dictionary -----------------------------------------------------------------

    def _domain_entries(self) -> tuple[list[tuple[str, int, str | None]], list[str]]:
        entries: list[tuple[str, int, str | None]] = []
        digests = []
        for p in self.cfg.dictionaries:
            path = resolve_path(p)
            # A word listed without a frequency gets a modest one; the build raises it
            # as far as needed for the word to beat its own parts.
            entries.extend(_read_user_dict(path, default_freq=1000))
            digests.append(_file_digest(path))
        return entries, digests

    def _ensure_dictionary(self) -> tuple[Path, bool]:
        """The cached main dictionary for this config, built only if no file has its key."""
        global BUILD_COUNT
        domain, digests = self._domain_entries()
        base = self.cfg.base_dictionary
        conv = self.conventions
        inputs: dict[str, object] = {
            "build": BUILD_VERSION,
            "base": base,
            "jieba": jieba.__version__,
            "jieba_dict": _file_digest(JIEBA_DICT),
            "domain": digests,
        }
        if base == "traditional":
            inputs |= {
                "opencc": _opencc_version(),
                "conversions": list(conv.conversions),
                "keep_simplified": conv.keep_simplified,
                "min_freq": conv.min_freq,
                "split_compounds": conv.split_compounds,
            }
        key = config_hash(inputs)
        path = self.cache_dir / f"dict.{base}.{key}.txt"
        if path.is_file():
            return path, False
        merged = _merged_entries(base, self.conventions, domain)
        write_atomic(path, "".join(f"{w} {f} {t}\n" for w, (f, t) in merged.items()))
        BUILD_COUNT += 1
        _prune_stale(self.cache_dir, keep=path)
        return path, True

    def _tokenizer(self, dictionary: Path) -> jieba.Tokenizer:
        """A dedicated jieba Tokenizer whose prefix dictionary is cached next to `dictionary`.

        jieba's own cache is a marshal dump, which takes ~0.38 s CPU to load for this
        dictionary; a pickle of the same (FREQ, total) pair loads in ~0.12 s, which is most
        of a warm start. The pickle lives in the user's own cache dir, written by us only.
        """
        tk = jieba.Tokenizer(str(dictionary))
        tk.tmp_dir = str(self.cache_dir)
        cache = dictionary.with_suffix(".prefix.pickle")
        if cache.is_file() and cache.stat().st_mtime >= dictionary.stat().st_mtime:
            try:
                with cache.open("rb") as f:
                    tk.FREQ, tk.total = pickle.load(f)
                tk.initialized = True
                return tk
            except Exception:
                pass  # whatever makes the cache unreadable, rebuilding it below fixes it
        with dictionary.open("rb") as f:
            tk.FREQ, tk.total = jieba.Tokenizer.gen_pfdict(f)
        tk.initialized = True
        try:
            write_atomic(cache, lambda out: pickle.dump((tk.FREQ, tk.total), out,
                                                        protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # a read-only cache only costs speed
        return tk

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
