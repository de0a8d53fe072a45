"""Draw the units of the procedural-vs-substantive labelled set (issue 10, item 2).

Re-runnable and seeded: the same corpus and the same unit-cutting code give the same draw.

    .venv/bin/python tests/data/draw_procedural_sample.py            # JSONL to stdout
    .venv/bin/python tests/data/draw_procedural_sample.py --summary  # meetings and halves only

Steps (see tests/data/procedural_labels.md):
1. Meetings: the transcripts in CORPUS whose file name marks a consultation-like session are
   put in five strata by file name; a fixed number of meetings is drawn from each stratum
   with ``random.Random(SEED)`` (simple random sampling without replacement within stratum:
   the stratum is put in random order and the first files with at least UNITS_PER_MEETING
   eligible units are taken; shorter files, i.e. minutes rather than transcripts, are
   skipped and listed by --summary).
2. Units: each drawn meeting is cut into the pipeline's own analysis units (default config:
   sentences) with ``read_document`` / ``parse_turns`` / ``cut_units`` / ``normalize_text``;
   units with fewer than 2 CJK characters are not eligible; UNITS_PER_MEETING eligible
   units are drawn uniformly at random (all of them if the meeting has fewer).
3. Halves: the drawn meetings are shuffled within each stratum and dealt alternately to
   half "A" and half "B" (all units of one meeting in one half).

No label is assigned here, and nothing from pipeline/roles.py is used.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.config import load_config  # noqa: E402
from pipeline.ingest.normalize import normalize_text  # noqa: E402
from pipeline.ingest.readers import read_document  # noqa: E402
from pipeline.ingest.turns import cut_units, parse_turns  # noqa: E402

SEED = 20240610
CORPUS = REPO.parent / "shared" / "corpora" / "transcripts" / "meetings"
UNITS_PER_MEETING = 18
MIN_CJK = 2

# (stratum, file-name test, meetings drawn). A file goes to the first stratum it matches.
STRATA: list[tuple[str, re.Pattern[str], int]] = [
    ("roadshow", re.compile(r"巡迴"), 7),
    ("visit", re.compile(r"來訪|拜訪|訪談"), 3),
    ("forum", re.compile(r"座談"), 5),
    ("advisory", re.compile(r"諮詢會議"), 4),
    ("collaboration", re.compile(r"協作(會議|公聽會)"), 5),
]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def stratify(files: list[Path]) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {name: [] for name, _, _ in STRATA}
    for f in sorted(files):
        for name, rx, _ in STRATA:
            if rx.search(f.name):
                out[name].append(f)
                break
    return out


def meeting_units(path: Path, cfg) -> list[dict]:
    """All non-empty units of one meeting, in order, with speaker and line range."""
    doc = read_document(path, cfg.ingest)
    units = []
    for turn in parse_turns(doc, cfg.ingest.max_inline_speaker_chars):
        for piece in cut_units(turn, cfg.segment.unit, cfg.segment.window_size):
            text = normalize_text(piece.text, cfg.normalize)
            if text:
                units.append({
                    "speaker": turn.speaker,
                    "line_start": piece.line_start,
                    "line_end": piece.line_end,
                    "text": text,
                })
    return units


def _eligible(unit: dict) -> bool:
    return len(_CJK.findall(unit["text"])) >= MIN_CJK


def draw(corpus: Path = CORPUS, seed: int = SEED) -> tuple[list[dict], list[dict], list[Path]]:
    cfg = load_config()
    rng = random.Random(seed)
    strata = stratify(list(corpus.glob("*.md")))
    meetings: list[dict] = []
    skipped: list[Path] = []
    cache: dict[Path, list[dict]] = {}
    for name, _, k in STRATA:
        # Random order of the whole stratum; the first k files with at least
        # UNITS_PER_MEETING eligible units are drawn (shorter files are minutes, not
        # transcripts, and are skipped).
        chosen = []
        for f in rng.sample(strata[name], len(strata[name])):
            if len(chosen) == k:
                break
            cache[f] = meeting_units(f, cfg)
            if sum(_eligible(u) for u in cache[f]) >= UNITS_PER_MEETING:
                chosen.append(f)
            else:
                skipped.append(f)
        for f in sorted(chosen):
            meetings.append({"stratum": name, "file": f, "pool": len(strata[name])})
    # Halves by meeting: shuffle within stratum, deal alternately A/B across strata.
    turn = 0
    for name, _, _ in STRATA:
        group = [m for m in meetings if m["stratum"] == name]
        rng.shuffle(group)
        for m in group:
            m["half"] = "AB"[turn % 2]
            turn += 1
    rows: list[dict] = []
    for m in meetings:
        units = cache[m["file"]]
        eligible = [i for i, u in enumerate(units) if _eligible(u)]
        m["units"], m["eligible"] = len(units), len(eligible)
        picked = sorted(rng.sample(eligible, UNITS_PER_MEETING))
        for i in picked:
            u = units[i]
            rows.append({
                "id": f"pl{len(rows) + 1:03d}",
                "file": f"meetings/{m['file'].name}",
                "line_start": u["line_start"],
                "line_end": u["line_end"],
                "speaker": u["speaker"],
                "prev": units[i - 1]["text"] if i > 0 else None,
                "text": u["text"],
                "next": units[i + 1]["text"] if i + 1 < len(units) else None,
                "label": None,
                "kind": None,
                "reason": None,
                "half": m["half"],
            })
    return meetings, rows, skipped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--summary", action="store_true", help="print meetings and halves only")
    ap.add_argument("--check", type=Path, metavar="JSONL",
                    help="compare the draw with a labelled file (all fields but the labels)")
    args = ap.parse_args(argv)
    meetings, rows, skipped = draw(args.corpus, args.seed)
    if args.check:
        labelled = [json.loads(line) for line in args.check.read_text("utf-8").splitlines()]
        keys = [k for k in rows[0] if k not in ("label", "kind", "reason")]
        bad = [r["id"] for r, lab in zip(rows, labelled, strict=False)
               if any(r[k] != lab.get(k) for k in keys)]
        if bad or len(rows) != len(labelled):
            print(f"draw differs: {len(rows)} drawn, {len(labelled)} labelled, "
                  f"{len(bad)} rows differ (first: {bad[:5]})", file=sys.stderr)
            return 1
        print(f"draw matches {args.check} ({len(rows)} units)", file=sys.stderr)
        return 0
    if args.summary:
        for f in skipped:
            print(f"-\tskipped (< {UNITS_PER_MEETING} eligible units)\t{f.name}")
        for m in meetings:
            print(f"{m['half']}\t{m['stratum']}\t{m['units']}\t{m['eligible']}\t{m['file'].name}")
        print(f"{len(meetings)} meetings, {len(rows)} units", file=sys.stderr)
        return 0
    for r in rows:
        print(json.dumps(r, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
