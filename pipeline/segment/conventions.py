"""Segmentation conventions: the choices on top of the dictionary, each measured on
SIGHAN-2005 CityU by bench/segmentation.py."""

from __future__ import annotations

from dataclasses import dataclass


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
