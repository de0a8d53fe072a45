"""Compare stage and `consult diff`: what changed between runs, and themes across rounds.

    runs.py      RunThemes: a finished run's themes and centroids, read from its folder
    match.py     theme similarities and the matching (one-to-one, merges, splits)
    diff.py      diff.json between two runs, and its plain-text summary
    tracking.py  tracking.json: each theme of the newest run followed back through the rounds
    rounds.py    the order of rounds and which earlier run a new one is compared with

Data only: the report draws (report/tracking_chart.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.atomic import write_atomic
from pipeline.compare.diff import diff_json, diff_runs, format_summary
from pipeline.compare.rounds import history
from pipeline.compare.runs import RunThemes, load_run, run_in_progress
from pipeline.compare.tracking import track
from pipeline.config import Config
from pipeline.rundir import DIFF, TRACKING


def write_comparison(out: Path, current: RunThemes, compare_with: Path, cfg: Config
                     ) -> dict[str, Any]:
    """The compare stage: `current` (the run being made, runs.run_in_progress) against the
    earlier run and the rounds behind it; writes diff.json and tracking.json into `out` (the
    folder under construction) and returns the stage counts."""
    runs = [*(load_run(p) for p in history(Path(compare_with))), current]
    diff = diff_runs(runs[-2], runs[-1], cfg)
    write_atomic(out / DIFF, diff_json(diff))
    tracking = track(runs, cfg)
    write_atomic(out / TRACKING, diff_json(tracking))
    return {"compared_with": str(compare_with), "rounds_tracked": len(tracking["rounds"]),
            **{f"diff_{k}": v for k, v in diff["counts"].items()
               if k in ("matched", "new", "vanished", "merged", "split")}}


__all__ = ["RunThemes", "diff_json", "diff_runs", "format_summary", "load_run",
           "run_in_progress", "track", "write_comparison"]
