"""The training sources outside the evaluated file together (pathway text, framework,
off-topic meetings, the labelled training units of other meetings), with the SHA-256 of every
input they were built from (recorded in the shipped artefact).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import PACKAGE_ROOT
from pipeline.mapping.examples import Example, framework_examples, gold_examples, read_gold
from pipeline.mapping.offtopic import none_general_examples
from pipeline.mapping.pathway import pathway_examples

# Real units of meetings outside the dev file, labelled by hand (tests/data/jt_training.md):
# the `labelled` source. Shipped with the project (it is an input of the artefact, not read at
# run time).
LABELLED_FILE = PACKAGE_ROOT / "configs" / "jt_training.jsonl"


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


def labelled_examples(path: Path, focus_ids: list[str], exclude_files: set[str]
                      ) -> list[Example]:
    """The labelled training units (source `labelled`), without any unit of a meeting of the
    evaluated file (`exclude_files`), so that they never stand in for held-out meetings."""
    rows = [r for r in read_gold(path) if str(r.get("file") or "") not in exclude_files]
    return gold_examples(rows, focus_ids, source="labelled")


def weak_examples(mapper: Any, shared: Path, exclude_files: set[str], seed: int,
                  labelled: Path | None = LABELLED_FILE) -> tuple[list[Example], dict[str, Any]]:
    """Pathway, framework, off-topic-meeting and labelled-unit examples, and what they were
    built from. Which of them a model trains on is `train(sources=...)`'s choice."""
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
    lab: list[Example] = []
    if labelled is not None and Path(labelled).is_file():
        lab = labelled_examples(Path(labelled), [f.id for f in mapper.foci], exclude_files)
        inputs["labelled_units"] = {"path": f"configs/{Path(labelled).name}",
                                    "sha256": sha256_file(Path(labelled)), "n_units": len(lab)}
    return pw + fw + ng + lab, inputs
