"""Precision and recall of the passing-name recogniser (pipeline/ingest/recognisers/
person_names.py) on the hand-labelled real sentences (tests/data/person_names_labels.jsonl,
drawn by tests/data/draw_person_names_sample.py) and on planted mentions
(tests/test_person_names.py: PLANTED), with bootstrap 95% intervals (2,000 resamples of
sentences, seed 0).

    .venv/bin/python bench/person_names.py [--json out.json]

A labelled name counts as found when one found span covers it whole (a span that covers
only 張芳 of 張芳睿 leaks 睿 and is a miss); a found span is correct when it overlaps a
labelled name. Precision is over found spans, recall over labelled names.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LABELS = REPO / "tests" / "data" / "person_names_labels.jsonl"


def score_item(text: str, names: list[str], spans: list[tuple[int, int]]
               ) -> tuple[int, int, int, int]:
    """(names found, names labelled, spans correct, spans found) for one sentence."""
    occ = []
    for n in names:
        i = text.find(n)
        while i >= 0:
            occ.append((i, i + len(n)))
            i = text.find(n, i + 1)
    hit = sum(any(s <= a and b <= e for s, e in spans) for a, b in occ)
    good = sum(any(s < b and a < e for a, b in occ) for s, e in spans)
    return hit, len(occ), good, len(spans)


def summarise(rows: list[tuple[int, int, int, int]], seed: int = 0, n_boot: int = 2000) -> dict:
    def pr(sample: list[tuple[int, int, int, int]]) -> tuple[float, float]:
        h, n, g, f = (sum(x[i] for x in sample) for i in range(4))
        return (g / f if f else float("nan")), (h / n if n else float("nan"))

    p, r = pr(rows)
    rng = random.Random(seed)
    ps, rs = [], []
    for _ in range(n_boot):
        bp, br = pr([rows[rng.randrange(len(rows))] for _ in rows])
        ps.append(bp)
        rs.append(br)

    def ci(v: list[float]) -> list[float]:
        v = sorted(x for x in v if x == x)
        return [round(v[int(0.025 * len(v))], 3), round(v[int(0.975 * len(v)) - 1], 3)] if v else []

    return {"sentences": len(rows), "names": sum(x[1] for x in rows),
            "found_spans": sum(x[3] for x in rows),
            "precision": round(p, 3), "precision_ci": ci(ps),
            "recall": round(r, 3), "recall_ci": ci(rs)}


def evaluate(items: list[dict]) -> dict:
    from pipeline.config import RedactConfig
    from pipeline.ingest.recognisers.person_names import PassingNames

    rec = PassingNames(RedactConfig())
    by: dict[str, list] = {}
    for d in items:
        row = score_item(d["text"], d["names"], rec.spans(d["text"]))
        by.setdefault(d.get("stratum", "planted"), []).append(row)
    return {k: summarise(v) for k, v in sorted(by.items())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "tests"))
    from test_person_names import planted_items

    items = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    result = evaluate(items + planted_items())
    print("| set | sentences | names | found | precision (95% CI) | recall (95% CI) |")
    print("|---|---:|---:|---:|---|---|")
    for k, v in result.items():
        print(f"| {k} | {v['sentences']} | {v['names']} | {v['found_spans']} | "
              f"{v['precision']} {v['precision_ci']} | {v['recall']} {v['recall_ci']} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
