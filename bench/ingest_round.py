"""Benchmark: `consult ingest` on a 25-meeting round built from ../shared transcripts.

Runs the real command in a child process and reports units, wall seconds and the child's
peak RSS. Baseline in the same command: reading + decoding the same files only (the I/O
floor), so the ratio shows what parsing, redaction and segmentation cost on top.

    .venv/bin/python bench/ingest_round.py [--unit sentence]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from rounds import round_25  # noqa: E402


def child(cmd: list[str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    secs = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: run the big one last.
    return secs, max(peak, before) / 1024, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--unit", default="sentence", choices=["turn", "sentence", "window"])
    args = ap.parse_args()
    py = str(REPO / ".venv" / "bin" / "python")
    with tempfile.TemporaryDirectory() as tmp:
        rnd = round_25(Path(tmp) / "roadshow-25")
        chars = sum(len(p.read_text(encoding="utf-8")) for p in rnd.glob("*.md"))
        floor_code = (
            "import sys,pathlib;"
            "[p.read_bytes().decode('utf-8') for p in pathlib.Path(sys.argv[1]).glob('*.md')]"
        )
        base_s, _, _ = child([py, "-c", floor_code, str(rnd)])
        out = Path(tmp) / "reports"
        cmd = [py, "-m", "pipeline", "ingest", str(rnd), "--out", str(out), "--quiet",
               "--set", f"segment.unit={args.unit}"]
        # First run builds the cached Traditional dictionary if missing; measure warm too.
        cold_s, _, _ = child(cmd)
        warm_s, peak_mb, stdout = child(cmd)
        run_dir = Path(stdout.strip().splitlines()[-1])
        summary = json.loads((run_dir / "ingest_summary.json").read_text(encoding="utf-8"))
    result = {
        "sessions": summary["sessions"], "characters": chars, "units": summary["units"],
        "units_analysed": summary["units_analysed"], "unit": args.unit,
        "ingest_seconds_first": round(cold_s, 2), "ingest_seconds": round(warm_s, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "baseline_read_decode_seconds": round(base_s, 2),
        "ratio_vs_read_decode": round(warm_s / base_s, 1),
        "chars_per_second": round(chars / warm_s),
        "redactions": summary["redactions"],
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
