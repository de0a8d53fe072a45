"""The derived Traditional main dictionary and jieba's prefix dictionary, cached.

jieba ships a Simplified Chinese dictionary, so on Traditional text it misses most words.
At first use a Traditional main dictionary is derived from it with OpenCC (Taiwan and Hong
Kong forms side by side), the domain dictionaries are merged into it, and both it and
jieba's prefix dictionary are cached under `segment.cache_dir`, keyed by a hash of every
input. Merging the domain words in, instead of `load_userdict` at every start (4-5 s), keeps
a warm start at a few tenths of a second.
"""

from __future__ import annotations

import hashlib
import pickle
import time
from importlib import metadata
from pathlib import Path

import jieba

from pipeline.atomic import write_atomic
from pipeline.config import SegmentConfig, config_hash, resolve_path
from pipeline.segment.conventions import Conventions

# Bump when the derivation below changes what it writes, so old cache files are not reused.
BUILD_VERSION = 4

JIEBA_DICT = Path(jieba.__file__).resolve().parent / "dict.txt"

# Dictionaries actually written in this process; tests use it to prove cache reuse.
BUILD_COUNT = 0


def read_word_list(path: Path) -> list[str]:
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


def _domain_entries(cfg: SegmentConfig
                    ) -> tuple[list[tuple[str, int, str | None]], list[str]]:
    entries: list[tuple[str, int, str | None]] = []
    digests = []
    for p in cfg.dictionaries:
        path = resolve_path(p)
        # A word listed without a frequency gets a modest one; the build raises it
        # as far as needed for the word to beat its own parts.
        entries.extend(_read_user_dict(path, default_freq=1000))
        digests.append(_file_digest(path))
    return entries, digests


def ensure_dictionary(cfg: SegmentConfig, conv: Conventions, cache_dir: Path
                      ) -> tuple[Path, bool]:
    """The cached main dictionary for this config, built only if no file has its key;
    returns (path, whether it was built now)."""
    global BUILD_COUNT
    domain, digests = _domain_entries(cfg)
    base = cfg.base_dictionary
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
    path = cache_dir / f"dict.{base}.{key}.txt"
    if path.is_file():
        return path, False
    merged = _merged_entries(base, conv, domain)
    write_atomic(path, "".join(f"{w} {f} {t}\n" for w, (f, t) in merged.items()))
    BUILD_COUNT += 1
    _prune_stale(cache_dir, keep=path)
    return path, True


def load_tokenizer(dictionary: Path, cache_dir: Path) -> jieba.Tokenizer:
    """A dedicated jieba Tokenizer whose prefix dictionary is cached next to `dictionary`.

    jieba's own cache is a marshal dump, which takes ~0.38 s CPU to load for this
    dictionary; a pickle of the same (FREQ, total) pair loads in ~0.12 s, which is most
    of a warm start. The pickle lives in the user's own cache dir, written by us only.
    """
    tk = jieba.Tokenizer(str(dictionary))
    tk.tmp_dir = str(cache_dir)
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
