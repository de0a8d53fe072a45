"""The NONE-vs-area variants under the mapping evaluation's grouped CV (docs/mapping.md,
"Conversational context"): the shipped recipe ("full"), with the neighbouring units as
evidence ("with_neighbour_context"), with the NONE threshold chosen for NONE-vs-area F1 alone
("with_none_f1_threshold"), both, and the context with the labelled units of other meetings
carrying their context too ("with_neighbour_context_labelled_too"); same folds, same
bootstrap, one command.

    .venv/bin/python bench/mapping_context.py [../shared/eval/strategy_gold_dev.jsonl]

Prints JSON: per row the headline figures with 95% bootstrap intervals, the NONE share,
per-area F1, and the wall/CPU time and peak memory of the whole command.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROWS = ("full", "with_neighbour_context", "with_none_f1_threshold",
        "with_neighbour_context_and_none_f1_threshold", "with_neighbour_context_labelled_too")


def main(argv: list[str] | None = None) -> int:
    from pipeline.config import load_config
    from pipeline.evaluate.mapping import cv_rows

    args = argv if argv is not None else sys.argv[1:]
    gold_path = Path(args[0] if args else ROOT.parent / "shared/eval/strategy_gold_dev.jsonl")
    t0, c0 = time.perf_counter(), time.process_time()
    out = cv_rows(gold_path, load_config(), ROWS)
    out["time"] = {"wall_s": round(time.perf_counter() - t0, 1),
                   "cpu_s": round(time.process_time() - c0, 1),
                   "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                        / 1024, 1)}
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
