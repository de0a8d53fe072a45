"""Benchmark: the stance and proposals stages on the 25-meeting roadshow round.

Builds round_25 (tests/rounds.py) in a temp folder, ingests it, embeds the analysed units
(embedding cache used: the stance stage takes the embed stage's vectors, it never embeds),
then times in the same process, best of `--repeat`:
- cue rules only (cues.cue_stance on every unit: the baseline),
- the stance stage (classify_units: cue features + the shipped model),
- the proposals list (build_proposals, with the mapping stage's areas faked as one area per
  session so the de-duplication runs over every proposal; themes not needed: all -1),
and reports units/second, the ratio stage / cue rules, the embed time for scale, and the
process's peak RSS.

    .venv/bin/python bench/stance_speed.py [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv: list[str] | None = None) -> int:
    import pandas as pd
    from rounds import round_25

    from pipeline.config import load_config
    from pipeline.embed import embed_texts
    from pipeline.ingest import ingest_round
    from pipeline.stance.cues import cue_stance
    from pipeline.stance.proposals import build_proposals
    from pipeline.stance.stage import classify_units
    from pipeline.units import analysed_units

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    cfg = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        rnd = round_25(Path(tmp) / "round")
        t0 = time.perf_counter()
        units = ingest_round(rnd, cfg).units
        t_ingest = time.perf_counter() - t0
    analysed = analysed_units(units)
    texts = analysed["text"].astype(str).tolist()
    t0 = time.perf_counter()
    emb, stats = embed_texts(texts, cfg.embed, cfg.segment, kind="query")
    t_embed = time.perf_counter() - t0
    t_cues, _ = best(lambda: [cue_stance(t) for t in texts], args.repeat)
    t_stance, (table, note) = best(lambda: classify_units(analysed, emb, cfg), args.repeat)
    areas = pd.DataFrame({"unit_id": analysed["unit_id"].astype(str),
                          "key_area": analysed["session_id"].astype(str)})
    themes = pd.DataFrame({"unit_id": analysed["unit_id"].astype(str), "theme_id": -1})
    t_prop, props = best(lambda: build_proposals(analysed, emb, table, areas, themes, cfg),
                         args.repeat)
    n = len(texts)
    out = {
        "round": "roadshow-25 (tests/rounds.py round_25)",
        "sessions": int(units["session_id"].nunique()),
        "units": len(units), "analysed_units": n, "stance_method": "rules" if note else "model",
        "ingest_s": round(t_ingest, 2),
        "embed_s": round(t_embed, 2), "embed_stats": stats,
        "cue_rules_s": round(t_cues, 3), "stance_stage_s": round(t_stance, 3),
        "stance_units_per_s": round(n / t_stance),
        "ratio_stance_stage_to_cue_rules": round(t_stance / t_cues, 2),
        "proposals_s": round(t_prop, 3), "proposal_units": props["proposal_units"],
        "distinct_proposals": sum(a["distinct_proposals"] for a in props["areas"]),
        "stances": table["stance"].value_counts().to_dict(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "repeat": args.repeat,
    }
    text = json.dumps(out, ensure_ascii=False, indent=1)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
