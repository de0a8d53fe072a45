"""Variants of the learned mapper under the mapping evaluation's grouped CV: the same folds and
bootstrap as `consult eval mapping`, several recipes side by side in one command.

    .venv/bin/python bench/mapping_variants.py labelled [GOLD]   # docs/mapping.md, "Labelled
        units of other meetings": without the hand-labelled units of other meetings, and the
        shipped recipe with them
    .venv/bin/python bench/mapping_variants.py context [GOLD]    # docs/mapping.md,
        "Conversational context": the shipped recipe, neighbouring units as evidence, the
        NONE threshold chosen for NONE-vs-area F1 alone, both, and the context with the
        labelled units carrying theirs

GOLD defaults to ../shared/eval/strategy_gold_dev.jsonl. Prints JSON: per row the headline
figures with 95% bootstrap intervals, the NONE share, per-area F1, and the wall/CPU time and
peak memory of the whole command.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANTS = {
    "labelled": ("without_labelled_units", "full"),
    "context": ("full", "with_neighbour_context", "with_none_f1_threshold",
                "with_neighbour_context_and_none_f1_threshold",
                "with_neighbour_context_labelled_too"),
}


def main(argv: list[str] | None = None) -> int:
    from pipeline.config import load_config
    from pipeline.evaluate.mapping import cv_rows

    args = argv if argv is not None else sys.argv[1:]
    if not args or args[0] not in VARIANTS:
        print(f"usage: bench/mapping_variants.py {{{'|'.join(VARIANTS)}}} [GOLD]",
              file=sys.stderr)
        return 2
    gold_path = Path(args[1] if len(args) > 1
                     else ROOT.parent / "shared/eval/strategy_gold_dev.jsonl")
    t0, c0 = time.perf_counter(), time.process_time()
    out = cv_rows(gold_path, load_config(), VARIANTS[args[0]])
    out["time"] = {"wall_s": round(time.perf_counter() - t0, 1),
                   "cpu_s": round(time.process_time() - c0, 1),
                   "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                        / 1024, 1)}
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
