"""Keyword evidence: the framework's weighted keywords matched on a unit's segmented words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.mapping.framework import Area


class KeywordIndex:
    """Weighted keywords of a list of entries, matched on segmented words.

    A keyword matches a word that contains it (光電 in 太陽光電, since the domain dictionary
    keeps compounds whole) or, when the segmenter splits the keyword itself into several
    words (免洗 餐具), that run of words. Each keyword counts at most `cap` times per unit.
    """

    def __init__(self, entries: Sequence[Area], tokens_of: Any, cap: int):
        self.n = len(entries)
        self.cap = cap
        self.words: list[tuple[int, str, float, tuple[str, ...]]] = []
        for j, a in enumerate(entries):
            for k in a.keywords:
                word = k.word.lower()
                seq = tuple(tokens_of(k.word)) or (word,)
                self.words.append((j, word, k.weight, seq if len(seq) > 1 else ()))
        self._contained: dict[str, list[int]] = {}
        self._first: dict[str, list[int]] = {}
        for i, (_, _, _, seq) in enumerate(self.words):
            if seq:
                self._first.setdefault(seq[0], []).append(i)

    def _in_token(self, tok: str) -> list[int]:
        hit = self._contained.get(tok)
        if hit is None:
            hit = [i for i, (_, w, _, _) in enumerate(self.words) if w in tok]
            self._contained[tok] = hit
        return hit

    def match(self, tokens: Sequence[str]) -> tuple[np.ndarray, list[list[str]]]:
        counts: Counter[int] = Counter()
        for p, tok in enumerate(tokens):
            counts.update(self._in_token(tok))
            for i in self._first.get(tok, ()):
                seq = self.words[i][3]
                if tuple(tokens[p : p + len(seq)]) == seq:
                    counts[i] += 1
        score = np.zeros(self.n, dtype=np.float32)
        matched: list[list[str]] = [[] for _ in range(self.n)]
        for i, c in counts.items():
            j, word, weight, _ = self.words[i]
            score[j] += weight * min(c, self.cap)
            matched[j].append(word)
        return score, matched
