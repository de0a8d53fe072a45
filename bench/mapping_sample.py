"""Mapped units of a finished run, drawn at random with a fixed seed, with their evidence: for
reading what the mapper did as an analyst would (issue 11's spot check).

    .venv/bin/python bench/mapping_sample.py RUN_DIR [--n 10] [--seed 42]

Draws among the analysed units that have a key area (not NONE); prints a Markdown table: unit,
key area with its probability, JT dimensions, focus with its probability and keywords, the key
area's keywords found in the unit, and the text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from pipeline import rundir
    from pipeline.mapping.framework import NONE_ID
    from pipeline.mapping.unit_areas import unit_table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    long = pd.read_parquet(args.run_dir / rundir.UNIT_AREAS)
    units = pd.read_parquet(args.run_dir / rundir.UNITS).set_index("unit_id")
    table = unit_table(long).set_index("unit_id")
    mapped = sorted(table.index[table["key_area"] != NONE_ID])
    pick = sorted(np.random.default_rng(args.seed).choice(len(mapped), size=min(args.n,
                                                                           len(mapped)),
                                                          replace=False))
    kw = long.set_index(["unit_id", "area_id"])["keywords"]
    print(f"{len(mapped)} mapped units of {len(table)}; {len(pick)} drawn with seed {args.seed}\n")
    print("| unit | area (p) | JT dimensions | focus (p; keywords) | area keywords | text |")
    print("|---|---|---|---|---|---|")
    for i in pick:
        uid = mapped[i]
        r = table.loc[uid]
        focus = r["focus"] if isinstance(r["focus"], str) and r["focus"] else "—"
        fk = "、".join(str(w) for w in r["focus_keywords"])
        words = "、".join(str(w) for w in kw.get((uid, r["key_area"]), []))
        text = str(units.at[uid, "text"]).replace("|", "｜").replace("\n", " ")
        print(f"| {uid} | {r['key_area']} ({r['key_area_score']:.2f}) | "
              f"{'、'.join(r['jt_dimensions']) or '—'} | {focus} ({r['focus_score']:.2f}"
              f"{'; ' + fk if fk else ''}) | {words or '—'} | {text[:90]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
