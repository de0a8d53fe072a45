"""Draw the units of the stance labelled set (issue 17, item 1).

Re-runnable and seeded: the same corpus and the same pipeline (ingest, default config) give the
same draw.

    .venv/bin/python tests/data/draw_stance_sample.py             # JSONL (no labels) to stdout
    .venv/bin/python tests/data/draw_stance_sample.py --summary   # sessions and counts only

Steps (see tests/data/stance_labels.md):
1. Meetings: all files in ../shared/corpora/transcripts/meetings/ in random order
   (``random.Random(SEED)``); the first MEETINGS files with at least UNITS_PER_MEETING
   analysed units are taken (shorter files are skipped and listed by --summary).
2. Written comments: the Join petition endorsement reasons (join-reservoir-solar) and the
   vTaiwan UberX Pol.is comments, each as one session of the same round (copied as a CSV with
   one `text` column; only the text is kept).
3. The round is ingested with the pipeline (`ingest_round`, default config), so the units are
   the pipeline's own analysed units (redacted, procedural talk set aside).
4. Units: UNITS_PER_MEETING analysed units per meeting, PETITION_UNITS and POLIS_UNITS from
   the two comment files, drawn uniformly without replacement with the same generator.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.config import load_config  # noqa: E402
from pipeline.ingest import ingest_round  # noqa: E402
from pipeline.units import analysed_mask  # noqa: E402

SEED = 20261201
SHARED = REPO.parent / "shared" / "corpora"
MEETINGS_DIR = SHARED / "transcripts" / "meetings"
PETITION = SHARED / "join-reservoir-solar" / "endorsements.csv"
POLIS = SHARED / "vtaiwan-uberx" / "comments.csv"
MEETINGS = 32
UNITS_PER_MEETING = 16
PETITION_UNITS = 60
POLIS_UNITS = 48
CANDIDATES = 60  # meetings ingested to find MEETINGS long enough ones


def _comments_csv(src: Path, column: str, dest: Path) -> None:
    with src.open(encoding="utf-8", newline="") as f:
        texts = [row[column] for row in csv.DictReader(f) if row[column].strip()]
    with dest.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        w.writerows([t] for t in texts)


def build(dest: Path, rng: random.Random) -> list[Path]:
    files = sorted(MEETINGS_DIR.glob("*.md"))
    order = rng.sample(files, len(files))[:CANDIDATES]
    sessions = []
    for i, f in enumerate(order, 1):
        (dest / f.name).write_bytes(f.read_bytes())
        sessions.append({"id": f"m{i:02d}", "file": f.name, "date": f.name[:10],
                         "type": "meeting"})
    _comments_csv(PETITION, "reason", dest / "petition.csv")
    _comments_csv(POLIS, "comment-body", dest / "polis.csv")
    sessions += [{"id": "petition", "file": "petition.csv", "type": "petition"},
                 {"id": "polis", "file": "polis.csv", "type": "polis"}]
    (dest / "round.yaml").write_text(
        yaml.safe_dump({"round": "stance-draw", "sessions": sessions}, allow_unicode=True,
                       sort_keys=False), encoding="utf-8")
    return order


def draw(seed: int = SEED) -> tuple[list[dict], dict]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        order = build(Path(tmp), rng)
        units = ingest_round(Path(tmp), load_config()).units
    units = units.reset_index(drop=True)
    analysed = analysed_mask(units)
    by_file = {f.name: f for f in order}
    rows: list[dict] = []
    summary: dict = {"seed": seed, "meetings": [], "skipped": []}
    taken = 0
    for sid in [f"m{i:02d}" for i in range(1, len(order) + 1)] + ["petition", "polis"]:
        sess = units[units["session_id"] == sid]
        pool = [i for i in sess.index if analysed[i]]
        if sid.startswith("m"):
            if taken == MEETINGS:
                continue
            if len(pool) < UNITS_PER_MEETING:
                summary["skipped"].append([sess["file"].iloc[0] if len(sess) else sid,
                                           len(pool)])
                continue
            taken += 1
            k = UNITS_PER_MEETING
        else:
            k = PETITION_UNITS if sid == "petition" else POLIS_UNITS
        picked = sorted(rng.sample(pool, k))
        fname = str(sess["file"].iloc[0])
        source = (f"transcripts/meetings/{fname}" if fname in by_file
                  else "join-reservoir-solar/endorsements.csv" if sid == "petition"
                  else "vtaiwan-uberx/comments.csv")
        summary["meetings" if sid.startswith("m") else sid] = (
            summary["meetings"] + [[fname, len(pool)]] if sid.startswith("m") else len(pool))
        for i in picked:
            u = units.loc[i]
            # Context for the labeller: the units just before and after, same session.
            def text_at(j: int, sess=sess) -> str | None:
                if j in sess.index:
                    who = units.at[j, "speaker"]
                    return f"{who if isinstance(who, str) else ''}｜{units.at[j, 'text']}"
                return None
            rows.append({
                "id": "", "group": source, "line_start": int(u["line_start"]),
                "line_end": int(u["line_end"]),
                "speaker": u["speaker"] if isinstance(u["speaker"], str) else None,
                "role": u["role"], "prev": text_at(i - 1), "text": u["text"],
                "next": text_at(i + 1),
            })
    for n, r in enumerate(rows, 1):
        r["id"] = f"st{n:03d}"
    return rows, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args()
    rows, summary = draw()
    if args.summary:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
