"""Draw the sentences of the passing-name labelled set (issue 16, item 2).

Re-runnable and seeded: the same corpus and code give the same draw.

    .venv/bin/python tests/data/draw_person_names_sample.py > /tmp/draw.jsonl

Sentences: every line of a speaker turn (after `### 名字：`) of the meetings in CORPUS, split
after 。！？ and kept with at least 8 CJK characters; each keeps its file, line and speaker.
Three strata, each drawn with its own ``random.Random(seed)`` from the sorted list:

- ``random`` (seed 1601, 200 sentences): uniform over all sentences; labelled for every
  person name, so it estimates both precision and recall where names are as rare as in a run.
- ``named`` (seed 1602, 80): uniform over the sentences that contain another speaker's name
  label of the same meeting (a 2-4 character CJK label that looks like a name). The
  recogniser plays no part in this filter, so recall measured here is not biased towards
  what it finds; real names mentioned in passing are rare in the random stratum.
- ``found`` (seed 1603, 80): uniform over the sentences where the recogniser finds a name,
  among a uniform sample of 6,000 sentences (seed 1604); estimates precision. This stratum
  depends on the recogniser: it was drawn with its first version (commit 9cba920's parent,
  before the dictionary, place and firm checks), so a re-run today draws other sentences;
  the committed labels file is the record.

The labels (tests/data/person_names_labels.jsonl) were assigned by one reader (the
developer), reading each sentence with its speaker label (not the surrounding lines);
`names` lists every person's full name in the sentence that redaction should remove
(private people and officials alike, except a name directly followed by a public office
title of `redact.public_titles`, 唐鳳政委, which the rules keep); given names alone (宜芳)
are noted in `reason` but not counted. Each item has a one-line reason.

Honesty note: the recogniser's checks (dictionary words, places, firms, the 3rd character
after a 2-character find) were added after reading the random stratum and the first draw's
finds, so figures on this set are in-sample; the planted set (tests/test_person_names.py)
was not used for tuning.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "corpora" / "transcripts" / "meetings"

_HEADING = re.compile(r"^###\s*(.+?)[：:]\s*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_END = re.compile(r"(?<=[。！？])")


def sentences(root: Path = CORPUS) -> list[dict]:
    out = []
    for path in sorted(root.glob("*.md")):
        speaker = None
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            s = line.strip()
            if s.startswith("#"):
                m = _HEADING.match(s)
                speaker = m.group(1) if m else None
                continue
            if speaker and s:
                for part in _END.split(s):
                    if len(_CJK.findall(part)) >= 8:
                        out.append({"file": path.name, "line": lineno, "speaker": speaker,
                                    "text": part.strip()})
    return out


def main() -> None:
    from pipeline.config import RedactConfig
    from pipeline.ingest.recognisers.person_names import PassingNames
    from pipeline.ingest.redact import looks_like_name

    sents = sentences()
    labels: dict[str, set[str]] = {}
    for s in sents:
        if looks_like_name(s["speaker"]):
            labels.setdefault(s["file"], set()).add(s["speaker"])
    draw = [dict(s, stratum="random") for s in random.Random(1601).sample(sents, 200)]
    named = [s for s in sents
             if any(n in s["text"] and n != s["speaker"] for n in labels.get(s["file"], ()))]
    draw += [dict(s, stratum="named") for s in random.Random(1602).sample(named, 80)]
    rec = PassingNames(RedactConfig())
    pool = random.Random(1604).sample(sents, 6000)
    found = [s for s in pool if rec.spans(s["text"])]
    draw += [dict(s, stratum="found") for s in random.Random(1603).sample(found, 80)]
    for i, s in enumerate(draw, 1):
        print(json.dumps({"id": f"pn{i:03d}", **s}, ensure_ascii=False))


if __name__ == "__main__":
    main()
