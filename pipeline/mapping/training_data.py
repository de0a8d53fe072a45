"""The weak training sources together (pathway text, framework, off-topic meetings), with the
SHA-256 of every input they were built from (recorded in the shipped artefact).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.mapping.examples import Example, framework_examples
from pipeline.mapping.offtopic import none_general_examples
from pipeline.mapping.pathway import pathway_examples


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def sha256_files(paths: Sequence[Path]) -> str:
    """One digest over several files (name and content, in sorted name order)."""
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda q: Path(q).name):
        h.update(Path(p).name.encode("utf-8") + b"\0" + sha256_file(p).encode() + b"\n")
    return h.hexdigest()


def keyword_matrix(mapper: Any, tokens: Sequence[Sequence[str]]) -> np.ndarray:
    """(n, n_key_areas) weighted keyword evidence, as the rule mapper computes it."""
    if not tokens:
        return np.zeros((0, len(mapper.areas)))
    return np.stack([mapper.key_kw.match(list(t))[0] for t in tokens]).astype(np.float64)


def weak_examples(mapper: Any, shared: Path, exclude_files: set[str], seed: int
                  ) -> tuple[list[Example], dict[str, Any]]:
    """Pathway, framework and off-topic-meeting examples, and what they were built from."""
    shared = Path(shared)
    fulltext = shared / "corpora/ndc-2050-pathway/fulltext.txt"
    meetings = shared / "corpora/transcripts/meetings"

    def hit(text: str) -> bool:
        return bool(keyword_matrix(mapper, [mapper.tokens(text)]).sum() > 0)

    pw = pathway_examples(fulltext)
    fw = framework_examples(mapper.fw)
    ng, used = none_general_examples(meetings, exclude_files, hit, seed)
    inputs = {
        "pathway_fulltext": {"path": "corpora/ndc-2050-pathway/fulltext.txt",
                             "sha256": sha256_file(fulltext)},
        "none_general_meetings": {"dir": "corpora/transcripts/meetings", "n_files": len(used),
                                  "sha256": sha256_files([meetings / u for u in used]),
                                  "files": used},
        "framework_digest": mapper.fw.digest,
    }
    return pw + fw + ng, inputs
