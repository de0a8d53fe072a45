"""Theme tracking across rounds, and the compare stage of `consult run`.

The run being made is compared with an earlier run (`report.compare_with`, or the run of
the previous round when several rounds are run together); that run's own `compared_with`
leads further back (rounds.history). Consecutive runs are matched with diff.match_themes,
and each theme of the newest run is followed back through its matches:

- status against the round before: new / continuing / growing / shrinking (by
  `compare.size_change`), or merged (several earlier themes became this one) / split (it
  is one part of an earlier theme);
- its share of analysed units in every round it can be traced to (None where it cannot),
  which is what the tracking chart draws;
- themes of earlier rounds that found no successor are listed as vanished, with the round
  they were last seen in.

Data only: the report draws the chart (report/tracking_chart.py).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from pipeline.compare.diff import rounded, share_status
from pipeline.compare.match import ThemeMatch, match_themes
from pipeline.compare.runs import RunThemes
from pipeline.config import Config

# Status codes, in the order tracking.json counts them; the report words them (labels).
STATUSES = ("new", "continuing", "growing", "shrinking", "merged", "split")


def _predecessors(m: ThemeMatch, earlier: RunThemes
                  ) -> tuple[dict[int, int], dict[int, str]]:
    """Later theme index -> the earlier theme it continues, and how (its status kind)."""
    pred: dict[int, int] = {}
    kind: dict[int, str] = {}
    for i, j in m.matched:
        pred[j], kind[j] = i, "matched"
    for j, members in m.merged.items():
        # A merged theme's history follows its largest ancestor.
        pred[j] = max(members, key=lambda i: (float(earlier.shares[i]), -i))
        kind[j] = "merged"
    for i, parts in m.split.items():
        for j in parts:
            pred[j], kind[j] = i, "split"
    return pred, kind


def track(runs: list[RunThemes], cfg: Config) -> dict[str, Any]:
    """tracking.json for runs (compare.load_run) oldest first; the last is the run reported."""
    steps = [match_themes(a, b, cfg.compare) for a, b in pairwise(runs)]
    links = [_predecessors(m, a) for m, a in zip(steps, runs, strict=False)]
    newest = runs[-1]
    themes = []
    for j, t in enumerate(newest.themes):
        shares: list[float | None] = [None] * len(runs)
        ids: list[Any] = [None] * len(runs)
        shares[-1], ids[-1] = rounded(newest.shares[j]), t["id"]
        cur = j
        for k in range(len(runs) - 2, -1, -1):
            pred, _ = links[k]
            if cur not in pred:
                break
            cur = pred[cur]
            shares[k], ids[k] = rounded(runs[k].shares[cur]), runs[k].themes[cur]["id"]
        status = "new"
        if links:
            pred, kind = links[-1]
            if j in pred:
                status = kind[j]
                if status == "matched":
                    status = share_status(float(runs[-2].shares[pred[j]]),
                                             float(newest.shares[j]), cfg.compare.size_change)
        themes.append({"id": t["id"], "label": str(t.get("label") or ""), "size": t["size"],
                       "share": shares[-1], "status": status,
                       "shares": shares, "ids": ids})
    vanished = []
    for k, (m, a) in enumerate(zip(steps, runs, strict=False)):
        for i in m.vanished:
            vanished.append({"round": a.round_name, "run_id": a.run_id,
                             "next_round": runs[k + 1].round_name, "id": a.themes[i]["id"],
                             "label": str(a.themes[i].get("label") or ""),
                             "share": rounded(a.shares[i])})
    statuses = [t["status"] for t in themes]
    return {
        "rounds": [{"round": r.round_name, "run_id": r.run_id, "folder": str(r.run_dir),
                    "n_themes": len(r.themes), "n_units": r.n_units} for r in runs],
        "counts": {s: statuses.count(s) for s in STATUSES} | {"vanished": len(vanished)},
        "themes": themes,
        "vanished": vanished,
    }
