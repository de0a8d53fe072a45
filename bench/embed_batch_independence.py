"""Benchmark: does a text's vector depend on the texts embedded with it, and what does
embedding each text alone cost? (issue 16)

The default engine (e5-onnx int8) on real units (bench/embed_speed.py's `real_units`), in two
modes of the same engine: `batched` (the former behaviour: windows sorted by length, 16 per
model call, one int8 activation scale per call) and `alone` (the current default: one window
per call). For each mode:

- dependence on neighbours: units [0, 2n/3) and [n/3, n) are embedded as two calls, and the
  max |difference| of the shared third's vectors is reported with how many are bit-identical;
- speed: each mode's encode time on all units in its own child process (peak RSS there), and
  a paired ratio from one process alternating the two modes on the same chunks, so both see
  the same load from other processes on a shared machine.

    .venv/bin/python bench/embed_batch_independence.py [--units 900] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
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
from embed_speed import real_units  # noqa: E402

BATCH = {"batched": 16, "alone": 1}


def engine(mode: str):
    from pipeline.config import EmbedConfig
    from pipeline.embed.e5_model import E5Onnx
    from pipeline.embed.embedder import threads

    cfg = EmbedConfig()
    models = cfg.models_dir or str(Path(cfg.cache_dir).expanduser() / "models")
    return E5Onnx(models, precision=cfg.precision, threads=threads(cfg), batch_size=BATCH[mode])


def child_mode(mode: str, units_file: Path) -> dict:
    texts = json.loads(units_file.read_text(encoding="utf-8"))
    eng = engine(mode)
    eng.encode(texts[:8])  # first-call set-up is not throughput
    t0 = time.perf_counter()
    eng.encode(texts)
    secs = time.perf_counter() - t0
    n = len(texts)
    a = eng.encode(texts[: 2 * n // 3])[n // 3:]
    b = eng.encode(texts[n // 3:])[: 2 * n // 3 - n // 3]
    return {"mode": mode, "encode_s": round(secs, 2), "units_per_s": round(n / secs, 1),
            "shared": len(a), "max_abs_diff": float(np.abs(a - b).max()),
            "bit_identical": int((a == b).all(1).sum()),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def child_paired(units_file: Path, chunk: int = 100) -> dict:
    texts = json.loads(units_file.read_text(encoding="utf-8"))
    engines = {m: engine(m) for m in BATCH}
    for e in engines.values():
        e.encode(texts[:8])
    secs = dict.fromkeys(engines, 0.0)
    for i in range(0, len(texts), chunk):
        for m, e in engines.items():
            t0 = time.perf_counter()
            e.encode(texts[i : i + chunk])
            secs[m] += time.perf_counter() - t0
    return {"batched_s": round(secs["batched"], 2), "alone_s": round(secs["alone"], 2),
            "alone_vs_batched_time": round(secs["alone"] / secs["batched"], 3)}


def _run_child(args: list[str]) -> dict:
    return run_child(__file__, args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=900)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--units-file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "paired":
        print(json.dumps(child_paired(args.units_file)))
        return
    if args.child:
        print(json.dumps(child_mode(args.child, args.units_file)))
        return
    units = real_units(args.units)
    load = [round(os.getloadavg()[0], 2)]
    with tempfile.TemporaryDirectory() as tmp:
        ufile = Path(tmp) / "units.json"
        ufile.write_text(json.dumps(units, ensure_ascii=False), encoding="utf-8")
        rows = [_run_child(["--child", m, "--units-file", str(ufile)]) for m in BATCH]
        paired = _run_child(["--child", "paired", "--units-file", str(ufile)])
    load.append(round(os.getloadavg()[0], 2))
    result = {"units": len(units), "cpus": len(os.sched_getaffinity(0)), "modes": rows,
              "paired": paired, "loadavg_1min": load}
    print(f"{len(units)} units, {result['cpus']} CPUs, load avg {load[0]} -> {load[1]}\n")
    print("| mode | units/s | peak MB | shared units | max abs diff | bit-identical |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['mode']} | {r['units_per_s']} | {r['peak_mb']} | {r['shared']} | "
              f"{r['max_abs_diff']:.4g} | {r['bit_identical']} |")
    print(f"\npaired (same process, alternating chunks): alone/batched time = "
          f"{paired['alone_vs_batched_time']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
