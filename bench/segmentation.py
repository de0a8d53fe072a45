"""Word-segmentation benchmark on SIGHAN-2005 CityU (Traditional Chinese, ../shared).

Scores precision/recall/F1 on word spans (the bakeoff's measure, cross-checked against its
perl scorer) and speed for:

- jieba's shipped (Simplified) dictionary, jieba's own cut: the published ~0.74 baseline;
- a plain OpenCC s2t conversion of that dictionary, jieba's own cut: the ~0.81 baseline;
- `jieba-default` and `traditional` (default) Segmenters from pipeline/segment/;
- with --ablations, the default Segmenter with one convention changed at a time.

Every choice in `Conventions` was made on the first half of the test lines ("dev"); the
second half ("held-out") was only looked at as a whole, so its F1 is the honest number.
Neither the test/gold words nor the training word list enter any dictionary.

Also measures the Segmenter set-up time in fresh processes: cold (empty cache dir, the
dictionary is derived and cached) and warm (second start, cache reused).

    .venv/bin/python bench/segmentation.py                 # main table (markdown)
    .venv/bin/python bench/segmentation.py --ablations     # plus one row per idea tried
    .venv/bin/python bench/segmentation.py --via-cli       # plus `python -m pipeline segment`
    .venv/bin/python bench/segmentation.py --json out.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.config import SegmentConfig  # noqa: E402
from pipeline.segment import DEFAULT_CONVENTIONS, Conventions, Segmenter  # noqa: E402

SHARED = REPO.parent / "shared"
CITYU = SHARED / "corpora" / "sighan2005-cityu"
TEST_FILE = CITYU / "testing" / "cityu_test.utf8"
GOLD_FILE = CITYU / "gold" / "cityu_test_gold.utf8"
PERL_SCORER = CITYU / "scripts" / "score"

Cutter = Callable[[str], Sequence[str]]


def read_lines(path: Path) -> list[str]:
    """Lines without BOM and CR (the CityU files are UTF-8 with BOM and CRLF)."""
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _spans(words: Sequence[str]) -> set[tuple[int, int]]:
    out, i = set(), 0
    for w in words:
        out.add((i, i + len(w)))
        i += len(w)
    return out


def prf(gold: Sequence[Sequence[str]], test: Sequence[Sequence[str]]) -> dict[str, float]:
    """Word-span P/R/F1: a test word is right when a gold word has the same start and end."""
    tp = n_gold = n_test = 0
    misaligned = 0
    for g, t in zip(gold, test, strict=True):
        if "".join(g) != "".join(t):
            misaligned += 1
        sg, st = _spans(g), _spans(t)
        tp += len(sg & st)
        n_gold += len(sg)
        n_test += len(st)
    p = tp / n_test if n_test else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"f1": f, "p": p, "r": r, "misaligned_lines": misaligned}


def split_output(lines: Sequence[str]) -> list[list[str]]:
    # str.split() also splits on U+3000, as the perl scorer does; a BOM is not a word.
    return [ln.replace("\ufeff", "").split() for ln in lines]


def perl_score(gold_lines: Sequence[str], test_lines: Sequence[str]) -> dict[str, float] | None:
    """The bakeoff's own scorer on the same output, or None where perl/diff are missing."""
    if not (shutil.which("perl") and Path("/usr/bin/diff").exists() and PERL_SCORER.exists()):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "dict").write_text("", encoding="utf-8")
        (d / "gold").write_text("\n".join(gold_lines) + "\n", encoding="utf-8")
        (d / "test").write_text("\n".join(test_lines) + "\n", encoding="utf-8")
        out = subprocess.run(
            ["perl", str(PERL_SCORER), str(d / "dict"), str(d / "gold"), str(d / "test")],
            capture_output=True, text=True, check=True,
        ).stdout
    vals = {}
    for line in out.splitlines():
        for key, label in (("r", "TOTAL TRUE WORDS RECALL"), ("p", "TOTAL TEST WORDS PRECISION"),
                           ("f1", "F MEASURE")):
            if line.startswith(f"=== {label}:"):
                vals[key] = float(line.split("\t")[-1])
    return vals


def measure(name: str, cut: Cutter, test: list[str], gold: list[list[str]],
            repeats: int) -> tuple[dict[str, object], list[str]]:
    n_chars = sum(len(s) for s in test)
    best_wall = best_cpu = float("inf")
    out: list[str] = []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        out = [" ".join(cut(s)) for s in test]
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    words = split_output(out)
    half = len(gold) // 2
    row: dict[str, object] = {"variant": name, **prf(gold, words)}
    row["f1_dev"] = prf(gold[:half], words[:half])["f1"]
    row["f1_heldout"] = prf(gold[half:], words[half:])["f1"]
    row["chars_per_s"] = n_chars / best_wall
    row["chars_per_cpu_s"] = n_chars / best_cpu
    return row, out


_SETUP_SNIPPET = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {repo!r})
from pipeline.config import SegmentConfig
from pipeline.segment import Segmenter
t1 = time.perf_counter()
seg = Segmenter(SegmentConfig(cache_dir={cache!r}))
t2 = time.perf_counter()
seg.cut("公正轉型要先問漁民")
print(json.dumps({{"import_s": t1 - t0, "setup_s": t2 - t1, "built": seg.built}}))
"""


def setup_times() -> dict[str, object]:
    """Cold and warm Segmenter set-up, each in a fresh process, on an empty cache dir."""
    with tempfile.TemporaryDirectory() as cache:
        code = _SETUP_SNIPPET.format(repo=str(REPO), cache=cache)
        runs = []
        for _ in range(3):  # cold, then two warm starts (the better one is reported)
            res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True)
            runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    cold, warm = runs[0], min(runs[1:], key=lambda r: r["setup_s"])
    assert cold["built"] and not warm["built"], runs
    return {"cold_setup_s": cold["setup_s"], "warm_setup_s": warm["setup_s"],
            "import_s": warm["import_s"]}


def via_cli(test: list[str], gold: list[list[str]]) -> dict[str, object]:
    """Score `python -m pipeline segment FILE` as a user would run it (startup included)."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "pipeline", "segment", str(TEST_FILE)],
                         cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        return {"variant": "CLI: python -m pipeline segment", "error": res.stderr.strip()[-500:]}
    lines = res.stdout.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(gold):
        return {"variant": "CLI: python -m pipeline segment",
                "error": f"{len(lines)} output lines for {len(gold)} input lines"}
    words = split_output(lines)
    half = len(gold) // 2
    return {"variant": "CLI: python -m pipeline segment", **prf(gold, words),
            "f1_dev": prf(gold[:half], words[:half])["f1"],
            "f1_heldout": prf(gold[half:], words[half:])["f1"],
            "chars_per_s": sum(len(s) for s in test) / wall}


def ablations() -> list[tuple[str, Conventions, dict[str, object]]]:
    d = DEFAULT_CONVENTIONS
    rep = dataclasses.replace
    return [
        ("− HMM (segment.hmm=false)", d, {"hmm": False}),
        ("− domain dictionary", d, {"dictionaries": []}),
        ("HMM on Traditional text as is", rep(d, hmm_via_simplified=False), {}),
        ("− number/Latin runs as one token", rep(d, number_tokens=False), {}),
        ("− numeral + measure word split", rep(d, split_classifiers=False), {}),
        ("− measure word alone after a number", rep(d, units_after_number=False), {}),
        ("− dash/ellipsis runs as one mark", rep(d, punct_runs=False), {}),
        ("− merge suffix 者", rep(d, merge_suffixes=""), {}),
        ("− split 4+ char compounds", rep(d, split_compounds=False), {}),
        ("keep freq 2-3 entries (min_freq=0)", rep(d, min_freq=0), {}),
        ("min_freq=5", rep(d, min_freq=5), {}),
        ("− Simplified entries kept", rep(d, keep_simplified=False), {}),
        ("conversions s2t only", rep(d, conversions=("s2t",)), {}),
        ("conversions s2tw only", rep(d, conversions=("s2tw",)), {}),
        ("conversions s2twp only", rep(d, conversions=("s2twp",)), {}),
        ("conversions s2hk only", rep(d, conversions=("s2hk",)), {}),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ablations", action="store_true", help="one row per convention changed")
    ap.add_argument("--via-cli", action="store_true",
                    help="also score `python -m pipeline segment` on the test file")
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats (best is reported)")
    ap.add_argument("--cache-dir", default=SegmentConfig().cache_dir,
                    help="cache dir of the default segmenters (the CLI's); baselines and "
                    "ablations use its bench/ subfolder; set-up times use a fresh one")
    ap.add_argument("--no-setup", action="store_true", help="skip the cold/warm set-up timing")
    ap.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = ap.parse_args(argv)

    if not TEST_FILE.exists():
        print(f"CityU data not found at {CITYU}", file=sys.stderr)
        return 2
    test = read_lines(TEST_FILE)
    gold_lines = read_lines(GOLD_FILE)
    gold = split_output(gold_lines)

    import jieba

    jieba.setLogLevel(60)
    rows: list[dict[str, object]] = []

    # Baseline and ablation dictionaries are kept apart from the product's cache.
    variant_cache = str(Path(args.cache_dir).expanduser() / "bench")
    Path(variant_cache).mkdir(parents=True, exist_ok=True)
    plain_jieba = jieba.Tokenizer()
    plain_jieba.tmp_dir = variant_cache
    rows.append(measure("jieba default dict (jieba.cut)", plain_jieba.lcut, test, gold,
                        args.repeats)[0])

    # The plain OpenCC baseline: s2t of jieba's dictionary, nothing else, jieba's own cut.
    plain_conv = Conventions(conversions=("s2t",), keep_simplified=False, min_freq=0,
                             split_compounds=False)
    s2t = Segmenter(SegmentConfig(cache_dir=variant_cache, dictionaries=[]), plain_conv)
    rows.append(measure("OpenCC s2t dict (jieba.cut)", s2t.tokenizer.lcut, test, gold,
                        args.repeats)[0])

    base = Segmenter(SegmentConfig(cache_dir=args.cache_dir, base_dictionary="jieba-default"))
    rows.append(measure("Segmenter base_dictionary=jieba-default", base.cut, test, gold,
                        args.repeats)[0])

    seg = Segmenter(SegmentConfig(cache_dir=args.cache_dir))
    row, out = measure("Segmenter default (traditional)", seg.cut, test, gold, args.repeats)
    perl = perl_score(gold_lines, out)
    if perl is not None:
        row["perl_f1"], row["perl_p"], row["perl_r"] = perl["f1"], perl["p"], perl["r"]
        for k in ("f1", "p", "r"):
            if abs(round(float(row[k]), 3) - perl[k]) > 0.0011:
                print(f"warning: perl scorer {k}={perl[k]} differs from ours {row[k]:.4f}",
                      file=sys.stderr)
    rows.append(row)

    if args.ablations:
        for name, conv, over in ablations():
            cfg = SegmentConfig(cache_dir=variant_cache, **over)
            rows.append(measure(name, Segmenter(cfg, conv).cut, test, gold, args.repeats)[0])
            print(f"  done: {name}", file=sys.stderr)

    if args.via_cli:
        rows.append(via_cli(test, gold))

    result: dict[str, object] = {"rows": rows, "n_lines": len(test),
                                 "n_chars": sum(len(s) for s in test)}
    if not args.no_setup:
        result["setup"] = setup_times()

    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def markdown(result: dict[str, object]) -> str:
    head = ("| variant | F1 | P | R | F1 dev half | F1 held-out half | chars/s (wall) "
            "| chars/s (CPU) |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in result["rows"]:
        if "error" in r:
            lines.append(f"| {r['variant']} | error: {r['error']} | | | | | | |")
            continue
        cpu = f"{r['chars_per_cpu_s']:,.0f}" if "chars_per_cpu_s" in r else "–"
        lines.append(
            f"| {r['variant']} | {r['f1']:.4f} | {r['p']:.4f} | {r['r']:.4f} | "
            f"{r['f1_dev']:.4f} | {r['f1_heldout']:.4f} | {r['chars_per_s']:,.0f} | {cpu} |"
        )
    for r in result["rows"]:
        if "perl_f1" in r:
            lines.append(f"\nperl bakeoff scorer on '{r['variant']}': F={r['perl_f1']:.3f} "
                         f"P={r['perl_p']:.3f} R={r['perl_r']:.3f}")
    s = result.get("setup")
    if isinstance(s, dict):
        lines.append(f"\nSegmenter set-up in a fresh process: cold {s['cold_setup_s']:.2f} s "
                     f"(derive + cache the dictionary), warm {s['warm_setup_s']:.2f} s "
                     f"(plus {s['import_s']:.2f} s imports)")
    lines.append(f"\n{result['n_lines']} lines, {result['n_chars']:,} characters")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
