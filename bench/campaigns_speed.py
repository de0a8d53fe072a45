"""Benchmark: campaign detection (pipeline/campaigns.py) on 100,000 comments.

The comments are synthetic variations of real ones (seed written below): every real comment of
../shared (the petition's reasons, the 899 Pol.is dev comments, the vTaiwan UberX comments)
is cut into clauses at ，。！？；; a synthetic comment joins 1-3 clauses drawn at random from
different comments, then drops or repeats a character with probability 0.3 each. A tenth of
them are planted campaigns: 20 templates (a random real comment of ≥ 20 characters each), 500
copies of each with one to three edits (a character dropped, a clause of another comment
added, punctuation changed). Recall of the planted groups is printed beside time and memory.

Each measurement runs in a child process (wall seconds, peak RSS of that child). Baseline in
the same command: reading the same table, cleaning every comment and hashing its shingles (the
floor any near-duplicate method pays), so the ratio shows what MinHash, banding, checking the
candidate pairs and grouping cost on top.

    .venv/bin/python bench/campaigns_speed.py [--n 100000] [--seed 15]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "corpora"
sys.path.insert(0, str(REPO))


def real_comments() -> list[str]:
    polis = pd.read_csv(SHARED / "polis-tw" / "comments_dev.csv")["comment_body"]
    petition = pd.read_csv(SHARED / "join-reservoir-solar" / "endorsements.csv")["reason"]
    uberx = pd.read_csv(SHARED / "vtaiwan-uberx" / "comments.csv")["comment-body"]
    texts = pd.concat([polis, petition, uberx]).dropna().astype(str).str.strip()
    return [t for t in texts if t]


def synthetic(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    real = real_comments()
    clauses = [c for t in real for c in re.split(r"(?<=[，。！？；,!?;])", t) if len(c) >= 4]

    def noisy(text: str) -> str:
        if rng.random() < 0.3 and len(text) > 2:
            i = rng.randrange(len(text))
            text = text[:i] + text[i + 1:]
        if rng.random() < 0.3 and text:
            i = rng.randrange(len(text))
            text = text[:i] + text[i] + text[i:]
        return text

    n_planted = n // 10
    templates = rng.sample([t for t in real if len(t) >= 20], 20)
    texts, group = [], []
    for k in range(n_planted):
        tid = k % len(templates)
        text = templates[tid]
        for _ in range(rng.randint(1, 3)):
            edit = rng.choice(["drop", "add", "punct"])
            if edit == "drop":
                i = rng.randrange(len(text))
                text = text[:i] + text[i + 1:]
            elif edit == "add":
                text = text + rng.choice(clauses)[:8]
            else:
                text = text.replace("，", rng.choice(["、", " ", "；"]), 1)
        texts.append(text)
        group.append(tid)
    for _ in range(n - n_planted):
        texts.append(noisy("".join(rng.sample(clauses, rng.randint(1, 3)))))
        group.append(-1)
    order = list(range(n))
    rng.shuffle(order)
    return pd.DataFrame({"unit_id": [f"s{i % 50}:{i}:0" for i in range(n)],
                         "session_id": [f"s{i % 50}" for i in range(n)],
                         "text": [texts[i] for i in order],
                         "planted": [group[i] for i in order], "analysed": True})


def child_main(kind: str, table: Path) -> None:
    from pipeline.campaigns import clean_text, find_campaigns, shingle_hashes
    from pipeline.config import load_config

    units = pd.read_parquet(table)
    cfg = load_config().campaigns
    if kind == "baseline":
        cleaned = [c for c in (clean_text(t) for t in units["text"]) if c]
        hashes, _ = shingle_hashes(cleaned, cfg.shingle)
        print(json.dumps({"shingles": len(hashes)}))
        return
    found = find_campaigns(units, cfg)
    planted = units.set_index("unit_id")["planted"]
    recalls, impure = [], 0
    for g in range(20):
        ids = set(planted.index[planted == g])
        best = max((set(c["unit_ids"]) for c in found["campaigns"]), key=lambda s: len(s & ids))
        recalls.append(len(best & ids) / len(ids))
        impure += len([u for u in best if planted[u] != g])
    print(json.dumps({"campaigns": len(found["campaigns"]),
                      "units_in_campaigns": found["units_in_campaigns"],
                      "planted_recall_min": round(min(recalls), 4),
                      "planted_recall_mean": round(sum(recalls) / len(recalls), 4),
                      "planted_recall": [round(r, 3) for r in recalls],
                      "other_units_in_planted_groups": impure,
                      "largest": [c["size"] for c in found["campaigns"][:25]]}))


def child(args: list[str]) -> tuple[float, float, dict]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          check=False)
    secs = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(proc.stderr)
    # Children run one after the other, the bigger last: max RSS so far is this child's.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return secs, peak, json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--child", choices=["baseline", "detect"])
    ap.add_argument("--table", type=Path)
    args = ap.parse_args()
    if args.child:
        child_main(args.child, args.table)
        return
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "units.parquet"
        units = synthetic(args.n, args.seed)
        units.to_parquet(table)
        chars = int(units["text"].str.len().sum())
        base_s, base_mb, _ = child(["--child", "baseline", "--table", str(table)])
        det_s, det_mb, found = child(["--child", "detect", "--table", str(table)])
    print(json.dumps({
        "comments": args.n, "characters": chars, "seed": args.seed,
        "detect_seconds": round(det_s, 1), "detect_peak_rss_mb": round(det_mb, 1),
        "baseline_read_and_shingle_seconds": round(base_s, 1),
        "baseline_peak_rss_mb": round(base_mb, 1),
        "ratio_vs_baseline": round(det_s / base_s, 1), **found,
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
