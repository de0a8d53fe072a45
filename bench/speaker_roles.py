"""Role inference without a manifest: who is found as chair and officials, and why; chair
precision/recall against the chairs read from the transcripts.

    .venv/bin/python bench/speaker_roles.py            # the 10-meeting round (truth by reading)
    .venv/bin/python bench/speaker_roles.py --round25  # also the 25-roadshow round (chair 唐鳳)

Precision/recall are counted over analysis units (what would have been quoted as feedback),
not speakers: a chair who speaks a third of a meeting weighs a third.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from rounds import MEETINGS, mixed_round_files, roadshow_files  # noqa: E402

from pipeline.config import load_config  # noqa: E402
from pipeline.ingest.readers import read_document  # noqa: E402
from pipeline.ingest.speakers import SessionSpeakers, infer_roles  # noqa: E402
from pipeline.ingest.turns import cut_units, parse_turns  # noqa: E402


def chair_scores(files: list[Path], truth: dict[str, set[str]], show: bool = False
                 ) -> dict[str, float]:
    cfg = load_config()
    sessions, units = [], Counter()
    for f in files:
        turns = parse_turns(read_document(f, cfg.ingest), cfg.ingest.max_inline_speaker_chars)
        sessions.append(SessionSpeakers(f.name, turns))
        for t in turns:
            units[(f.name, t.speaker)] += len(cut_units(t, cfg.segment.unit,
                                                        cfg.segment.window_size))
    roles = infer_roles(sessions, cfg.roles)
    tp = fp = fn = 0
    for (sid, label), n in units.items():
        if label is None:
            continue
        r = roles[(sid, label)]
        gold, pred = label in truth.get(sid, set()), r.role == "moderator"
        tp += n * (gold and pred)
        fp += n * (pred and not gold)
        fn += n * (gold and not pred)
        if show and (pred or gold or r.role == "official"):
            e = r.evidence
            print(f"{sid[:28]:28} {label:8} {r.role:11} {r.body or r.title or '':22} "
                  f"rule={e.get('rule')} share={e['share']} handoffs={e['handoffs']} "
                  f"addressed={e['addressed_as_chair']}+{e['addressed_after']} "
                  f"opens={e['opens']}{'  <- chair by reading' if gold else ''}")
    p = tp / (tp + fp) if tp + fp else 0.0
    r_ = tp / (tp + fn) if tp + fn else 0.0
    return {"chair_units_true": tp + fn, "precision": round(p, 3), "recall": round(r_, 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--round25", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    truth = {k: set(v["chairs"]) for k, v in yaml.safe_load(
        (REPO / "tests/data/chairs_mixed10.yaml").read_text(encoding="utf-8")).items()}
    print("mixed_round_10:", chair_scores(mixed_round_files(), truth, show=not a.quiet))
    if a.round25:
        files = roadshow_files()[:25]
        t25 = {f.name: {"唐鳳"} for f in files if "唐鳳：" in f.read_text(encoding="utf-8")}
        print("round_25 (chair 唐鳳 where present):", chair_scores(files, t25))
    print(f"(transcripts from {MEETINGS})")


if __name__ == "__main__":
    main()
