"""Draw the units of the just-transition training set (issue 11, remaining gap).

Re-runnable and seeded: the same corpus, config and code give the same draw.

    .venv/bin/python tests/data/draw_jt_training.py > /tmp/jt_draw.jsonl

Rule, written down before any unit was read (tests/data/jt_training.md):
1. Meetings: transcripts in ../shared/corpora/transcripts/meetings that are NOT a `file` of
   ../shared/eval/strategy_gold_dev.jsonl and whose file name matches MEETING_RULE (the
   off-topic source's TOPICAL_TITLE words for energy/environment/industry/transport/economy,
   plus labour, regions and regional roadshows: 勞|就業|巡迴|地方創生).
2. Units: the meetings are built into one round (tests/rounds.build_round) and ingested with
   the pipeline's default config (roles, redaction, units); only analysed units
   (units.analysed_mask) with at least MIN_CHARS characters are eligible.
3. Per meeting, PER_STRATUM units are drawn uniformly at random (numpy, SEED) from the units
   with a framework keyword (any key-area or JT-dimension keyword of
   configs/strategy_areas.yaml as a substring) and PER_STRATUM from the units without one
   (all of a stratum if it is smaller): on-topic feedback is rare in these meetings and the
   set is a training source, not an estimate of prevalence.
4. The drawn units are put in one seeded random order (`order`); labelling follows that
   order, so stopping early leaves a random subset.
Each line carries the previous and next analysed unit of the same session as context.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.config import load_config  # noqa: E402
from pipeline.ingest.stage import ingest_round  # noqa: E402
from pipeline.mapping.framework import load_framework  # noqa: E402
from pipeline.mapping.offtopic import TOPICAL_TITLE  # noqa: E402
from pipeline.units import analysed_mask  # noqa: E402
from tests.rounds import build_round  # noqa: E402

SEED = 20261201
SHARED = REPO.parent / "shared"
MEETINGS = SHARED / "corpora" / "transcripts" / "meetings"
DEV = SHARED / "eval" / "strategy_gold_dev.jsonl"
LABOUR_REGION = re.compile("勞|就業|巡迴|地方創生")
PER_STRATUM = 4
MIN_CHARS = 15


def meeting_files() -> list[Path]:
    dev = {json.loads(ln)["file"] for ln in DEV.read_text(encoding="utf-8").splitlines()
           if ln.strip()}
    return sorted(p for p in MEETINGS.glob("*.md") if p.name not in dev
                  and (TOPICAL_TITLE.search(p.stem) or LABOUR_REGION.search(p.stem)))


def main() -> None:
    cfg = load_config(None)
    fw = load_framework(REPO / "configs" / "strategy_areas.yaml")
    words = sorted({k.word for a in [*fw.key_areas, *fw.jt_dimensions] for k in a.keywords})
    rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        rnd = build_round(Path(tmp) / "r", meeting_files(), "jt-training-draw")
        units = ingest_round(rnd, cfg).units
    units = units[analysed_mask(units)].reset_index(drop=True)
    drawn = []
    for _, g in units.groupby("file", sort=True):
        g = g.sort_values(["turn", "seq"]).reset_index(drop=True)
        ok = g[g["text"].str.len() >= MIN_CHARS]
        hit = ok["text"].map(lambda t: any(w in t for w in words))
        for stratum, part in (("keyword", ok[hit]), ("other", ok[~hit])):
            idx = sorted(rng.choice(len(part), size=min(PER_STRATUM, len(part)),
                                    replace=False)) if len(part) else []
            for i in idx:
                row = part.iloc[i]
                pos = int(row.name)
                drawn.append({
                    "file": row["file"], "meeting_title": row["session_title"],
                    "unit_id": row["unit_id"], "speaker": row["speaker"], "role": row["role"],
                    "line_start": int(row["line_start"]), "stratum": stratum,
                    "text": row["text"],
                    "prev": g["text"][pos - 1] if pos > 0 else "",
                    "next": g["text"][pos + 1] if pos + 1 < len(g) else ""})
    for k, i in enumerate(rng.permutation(len(drawn))):
        drawn[i]["order"] = k
    for d in sorted(drawn, key=lambda d: d["order"]):
        print(json.dumps(d, ensure_ascii=False))


if __name__ == "__main__":
    main()
