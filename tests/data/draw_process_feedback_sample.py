"""Draw the flagged units of the process-feedback precision check (issue 14 follow-up, item 4).

Re-runnable and seeded:

    .venv/bin/python tests/data/draw_process_feedback_sample.py eval   # JSONL to stdout
    .venv/bin/python tests/data/draw_process_feedback_sample.py tune   # the tuning meetings

1. Meetings: the transcripts in CORPUS (sorted by name) are shuffled with
   ``random.Random(SEED)``; the first 40 are the tuning meetings (the rules were adjusted
   while reading what they flagged there), the next 40 the evaluation meetings.
2. The meetings are ingested with the default configuration (``python -m pipeline ingest``,
   into a temporary folder) and ``process_units`` flags units.
3. Up to DRAW flagged units are drawn uniformly at random (``random.Random(SEED)``) from
   the evaluation meetings, in the order drawn. Labels are added by hand afterwards.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.process_feedback import process_units  # noqa: E402

SEED = 20261201
CORPUS = REPO.parent / "shared" / "corpora" / "transcripts" / "meetings"
PER_SET = 40
DRAW = 20


def meetings(which: str) -> list[Path]:
    files = sorted(p for p in CORPUS.iterdir() if p.suffix == ".md")
    random.Random(SEED).shuffle(files)
    return files[:PER_SET] if which == "tune" else files[PER_SET:2 * PER_SET]


def flagged(which: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        round_dir = Path(tmp) / "round"
        round_dir.mkdir()
        for f in meetings(which):
            shutil.copy(f, round_dir / f.name)
        subprocess.run([sys.executable, "-m", "pipeline", "ingest", str(round_dir), "--out",
                        str(Path(tmp) / "out"), "--quiet"], check=True, cwd=REPO,
                       capture_output=True)
        units = pd.read_parquet(next((Path(tmp) / "out").rglob("units.parquet")))
    found = process_units(units)
    by_id = units.drop_duplicates("unit_id").set_index("unit_id")
    out = []
    for uid, g in found.groupby("unit_id", sort=True):
        u = by_id.loc[uid]
        out.append({"unit_id": uid, "file": u["file"], "lines": [int(u["line_start"]),
                    int(u["line_end"])], "categories": sorted(g["category"]),
                    "text": u["text"]})
    return out


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "eval"
    rows = flagged(which)
    print(f"{which}: {len(meetings(which))} meetings, {len(rows)} flagged units",
          file=sys.stderr)
    if which == "eval":
        rows = random.Random(SEED).sample(rows, min(DRAW, len(rows)))
    for r in rows:
        print(json.dumps(r, ensure_ascii=False))
