"""Examples with their vectors and keyword evidence (`Bundle`), and the prototype sets built
from them: what the learned mapper trains on, is calibrated on and scores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.mapping.examples import Example
from pipeline.mapping.prototypes import ProtoSet


@dataclass
class Bundle:
    """Examples with their unit vectors and keyword evidence (same order)."""

    examples: list[Example]
    x: np.ndarray  # (n, d) e5 query vectors
    kw_key: np.ndarray  # (n, n_key_areas)
    kw_focus: np.ndarray  # (n, n_focus)
    kw_jt: np.ndarray  # (n, n_jt)
    xc: np.ndarray | None = None  # (n, d) meeting-title vectors; zero rows = no title
    # (n, d) conversational context (context.py: the neighbouring units); zero rows = none.
    xn: np.ndarray | None = None

    def ctx(self) -> np.ndarray:
        return self.xc if self.xc is not None else np.zeros_like(self.x)

    def nbr(self) -> np.ndarray:
        return self.xn if self.xn is not None else np.zeros_like(self.x)

    def take(self, idx: Sequence[int] | np.ndarray) -> Bundle:
        idx = np.asarray(idx, dtype=int)
        return Bundle([self.examples[i] for i in idx], self.x[idx], self.kw_key[idx],
                      self.kw_focus[idx], self.kw_jt[idx], self.ctx()[idx], self.nbr()[idx])

    def __add__(self, other: Bundle) -> Bundle:
        return Bundle(self.examples + other.examples, np.vstack([self.x, other.x]),
                      np.vstack([self.kw_key, other.kw_key]),
                      np.vstack([self.kw_focus, other.kw_focus]),
                      np.vstack([self.kw_jt, other.kw_jt]), np.vstack([self.ctx(), other.ctx()]),
                      np.vstack([self.nbr(), other.nbr()]))

    def where(self, pred: Callable[[Example], bool]) -> Bundle:
        return self.take([i for i, e in enumerate(self.examples) if pred(e)])

    def groups(self) -> list[str]:
        """Each example's leave-out group (`leave_out_group`)."""
        return [leave_out_group(e, i) for i, e in enumerate(self.examples)]


def bundle(mapper: Any, examples: list[Example],
           tokens: Sequence[Sequence[str]] | None = None,
           neighbours: Sequence[tuple[str | None, str | None]] | None = None) -> Bundle:
    """Embed (pipeline engine, cached) and keyword-match examples; `neighbours`: each
    example's (previous, next) unit texts (context.py), embedded the same way."""
    toks = tokens if tokens is not None else [mapper.tokens(e.text) for e in examples]
    d = len(mapper.areas)
    if not examples:
        z = np.zeros((0, 1))
        return Bundle([], z, np.zeros((0, d)), np.zeros((0, len(mapper.foci))),
                      np.zeros((0, len(mapper.jt))))
    x = mapper.embed_queries([e.text for e in examples]).astype(np.float64)
    xc = np.zeros_like(x)
    titled = [i for i, e in enumerate(examples) if e.context]
    if titled:
        xc[titled] = mapper.embed_queries([examples[i].context for i in titled])

    def km(index: Any) -> np.ndarray:
        return np.stack([index.match(list(t))[0] for t in toks]).astype(np.float64)

    xn = np.zeros_like(x)
    if neighbours is not None and any(a or b for a, b in neighbours):
        from pipeline.mapping.context import context_from_texts

        xn = context_from_texts(mapper.embed_queries, neighbours)
    return Bundle(examples, x, km(mapper.key_kw), km(mapper.focus_kw), km(mapper.jt_kw), xc,
                  xn)


def leave_out_group(e: Example, i: int) -> str:
    # Leave-out groups: a labelled unit's meeting, a pathway heading, a framework passage.
    if e.source == "framework":
        return f"framework:{e.ref}:{i}"
    return f"{e.source}:{e.group or e.ref}"


def proto_set(b: Bundle, label: Callable[[Example], str | None]) -> ProtoSet:
    rows = [(i, label(e)) for i, e in enumerate(b.examples)]
    rows = [(i, lab) for i, lab in rows if lab is not None]
    idx = np.array([i for i, _ in rows], dtype=int)
    return ProtoSet(b.x[idx] if len(idx) else np.zeros((0, b.x.shape[1])),
                    np.array([lab for _, lab in rows], dtype=object),
                    np.array([leave_out_group(b.examples[i], i) for i in idx], dtype=object))
