"""Benchmark: cold run, warm re-runs and `consult ingest` of a 25-meeting round (issue 13).

On a 25-meeting round built from ../shared transcripts (tests/rounds.py round_25), each in
a fresh child process, as an analyst would type them:

1. `ingest` (into its own output folder, so nothing is reused): the yardstick;
2. cold `run`: empty embedding cache, no earlier run, and (unless --warm-jit) an empty
   numba cache, so it includes the one-time compilation of UMAP;
3. warm re-run with a themes.* change to the clustering (themes.min_size_fraction): units
   reused, embeddings from the cache, the reduced space from its cache, clustering and later
   stages recomputed;
4. re-run with only a report.* change on top of 3: every stage up to mapping reused;
5. warm re-run with a themes.* change that alters the space that is reduced (a stopword
   more: the word features change), so UMAP runs again: the slow case of a themes change.

Per run: wall seconds, CPU seconds (user+sys: less sensitive to other load on the
machine than wall time), peak RSS of the child, the stage times from run.json (with the
themes sub-steps) and which stages were reused; ratios against the ingest yardstick.
Targets (issue 13): warm themes.* ≤ 15 s and ≤ 4× ingest, report.* ≤ 8 s, cold ≤ 90 s.
All caches (embeddings, reduced spaces, numba) start empty in a folder of the bench's own.

    .venv/bin/python bench/rerun.py [--json out.json] [--keep DIR] [--warm-jit]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from rounds import round_25  # noqa: E402

PY = str(REPO / ".venv" / "bin" / "python")
THEMES_CHANGE = "themes.min_size_fraction=0.012"
REPORT_CHANGE = "report.quotes_shown=4"
# A stopword more (on top of the default two): changes the word features, so the reduction.
SPACE_CHANGE = 'themes.vectorizer.stopwords=["與會者","主持人","政委"]'


def measured(args: list[str]) -> dict[str, Any]:
    """Run `python -m pipeline ARGS` in a child reaped with os.wait4, so that CPU time and
    peak RSS are this child's own (RUSAGE_CHILDREN would give the max over all children)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([PY, "-m", "pipeline", *args], cwd=REPO, stdout=out,
                                stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            sys.exit(f"failed: {' '.join(args)}\n{err.read().decode('utf-8', 'replace')}")
        return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                "peak_mb": round(usage.ru_maxrss / 1024), "stdout": out.read().decode("utf-8")}


def stages_of(run_dir: Path) -> dict[str, Any]:
    rec = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    out = {}
    for name, st in rec["stages"].items():
        row: dict[str, Any] = {"s": st.get("seconds")}
        if st.get("reused_from"):
            row["reused"] = True
        if st.get("steps"):
            row["steps"] = st["steps"]
        out[name] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--keep", type=Path, help="build the round and outputs here (kept)")
    ap.add_argument("--warm-jit", action="store_true",
                    help="use the user's numba cache (default: an empty one, so the cold run "
                    "includes the one-time compilation of UMAP)")
    args = ap.parse_args()
    tmp_ctx = tempfile.TemporaryDirectory() if args.keep is None else None
    base = Path(tmp_ctx.name) if tmp_ctx else args.keep
    base.mkdir(parents=True, exist_ok=True)
    rnd = round_25(base / "roadshow-25")
    cache = ["--set", f"embed.cache_dir={base / 'embed-cache'}",
             "--set", f"themes.reducer.cache_dir={base / 'reduced-cache'}"]
    if not args.warm_jit:
        cache += ["--set", f"themes.reducer.jit_cache_dir={base / 'numba-cache'}"]
    reports = ["--out", str(base / "reports"), "--quiet", *cache]

    runs: dict[str, dict[str, Any]] = {}
    runs["ingest"] = measured(["ingest", str(rnd), "--out", str(base / "ingest-only"),
                               "--quiet", *cache])
    runs["cold"] = measured(["run", str(rnd), *reports])
    runs["warm_themes"] = measured(["run", str(rnd), *reports, "--set", THEMES_CHANGE])
    runs["report_only"] = measured(["run", str(rnd), *reports, "--set", THEMES_CHANGE,
                                    "--set", REPORT_CHANGE])
    runs["warm_space"] = measured(["run", str(rnd), *reports, "--set", THEMES_CHANGE,
                                   "--set", REPORT_CHANGE, "--set", SPACE_CHANGE])
    for r in runs.values():
        last = Path(r.pop("stdout").strip().splitlines()[-1])
        run_dir = last if last.is_dir() else last.parent
        r["stages"] = stages_of(run_dir)
    ingest_s = runs["ingest"]["wall_s"]
    result = {
        "round": "roadshow-25 (25 meetings, tests/rounds.py round_25)",
        "load_average_at_end": os.getloadavg()[0],
        "changes": {"warm_themes": THEMES_CHANGE, "report_only": REPORT_CHANGE,
                    "warm_space": SPACE_CHANGE},
        "runs": runs,
        "ratio_to_ingest": {k: round(v["wall_s"] / ingest_s, 2) for k, v in runs.items()},
        "targets": {"cold_s": 90, "warm_themes_s": 15, "warm_themes_x_ingest": 4,
                    "report_only_s": 8},
    }
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print("\nrun          wall s   cpu s  peak MB  x ingest  reused", file=sys.stderr)
    for name, r in runs.items():
        reused = ",".join(s for s, st in r["stages"].items() if st.get("reused")) or "-"
        print(f"{name:12} {r['wall_s']:7.1f} {r['cpu_s']:7.1f} {r['peak_mb']:8} "
              f"{result['ratio_to_ingest'][name]:8.2f}  {reused}", file=sys.stderr)
    if tmp_ctx:
        tmp_ctx.cleanup()


if __name__ == "__main__":
    main()
