"""Compare the themes of two finished runs (`consult diff RUN_A RUN_B`).

Matching, with the settings of `cfg.compare`:

1. Similarity of every theme of A with every theme of B:
   `centroid_weight · cosine(centroids) + (1 − centroid_weight) · keyword overlap`, where the
   keyword overlap is `fingerprint.keyword_similarity` of the two fingerprints. The centroids
   are first centred on their pooled, share-weighted mean: e5 vectors share one large common
   direction, so raw cosines of theme centroids all fall within 0.96–0.99 and could not tell
   one theme from another (the themes stage centres for the same reason,
   `themes.reducer.center`). Negative cosines count as 0.
2. One-to-one matches: the optimal assignment (`scipy.optimize.linear_sum_assignment`) over
   the pairs reaching `min_similarity`.
3. Many-to-one: a theme left unmatched whose similarity to a matched theme on the other side
   reaches `split_merge_similarity` joins that pair: several A themes into one B theme is a
   merge, one A theme into several B themes a split. Links are taken strongest first, and a
   pair becomes either a merge or a split, never both, so every theme of either run is
   reported exactly once: matched, merged, split, or new (B) / vanished (A).

Runs whose centroids live in different embedding spaces (another model or dimension, or a
TF-IDF space fitted to other texts) are matched on keywords alone, and the diff says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pipeline.compare.match import match_themes
from pipeline.compare.runs import RunThemes, load_run
from pipeline.config import Config
from pipeline.report.labels import ZH_TW  # status words, defined once (labels), for the CLI

SCHEMA_VERSION = 1
DIGITS = 4
# Where files go and what a run is called: they differ between runs without changing what
# the runs found, so listing them would bury the settings that did change something.
IGNORED_CONFIG_KEYS = frozenset({
    "run.round_name", "run.reports_root", "embed.cache_dir", "embed.models_dir",
    "segment.cache_dir",
})

Status = Literal["continuing", "growing", "shrinking"]


# --- the diff --------------------------------------------------------------------------------


def rounded(x: float) -> float:
    v = round(float(x), DIGITS)
    return 0.0 if v == 0 else v


def _ref(run: RunThemes, i: int) -> dict[str, Any]:
    t = run.themes[i]
    return {"id": t["id"], "label": str(t.get("label") or ""), "size": t["size"],
            "share": rounded(run.shares[i])}


def share_status(share_a: float, share_b: float, size_change: float) -> Status:
    if share_a <= 0:
        return "growing" if share_b > 0 else "continuing"
    rel = (share_b - share_a) / share_a
    if rel >= size_change:
        return "growing"
    if rel <= -size_change:
        return "shrinking"
    return "continuing"


def _closest(s: np.ndarray, other: RunThemes) -> dict[str, Any] | None:
    # Shown with new/vanished themes, so a reader sees how near the miss was.
    if not len(s):
        return None
    j = int(np.argmax(s))
    return {"id": other.themes[j]["id"], "label": str(other.themes[j].get("label") or ""),
            "similarity": rounded(s[j])}


MAPPING_FIELDS = ("key_area", "gap", "jt_dimensions")


def _mapping_value(t: dict[str, Any], key: str) -> Any:
    v = t.get(key)
    # The dimensions are a set; their order follows scores and is not a change in itself.
    return sorted(v) if key == "jt_dimensions" and isinstance(v, list) else v


def _mapping_change(a: RunThemes, i: int, b: RunThemes, j: int) -> dict[str, Any] | None:
    ta, tb = a.themes[i], b.themes[j]
    changes = {}
    for key in MAPPING_FIELDS:
        if key not in ta and key not in tb:
            continue  # a `consult themes` run has no mapping to compare
        va, vb = _mapping_value(ta, key), _mapping_value(tb, key)
        if va != vb:
            changes[key] = {"a": va, "b": vb}
    if not changes:
        return None
    names = {"a": ta.get("key_area_name"), "b": tb.get("key_area_name")}
    return {"a": {"id": ta["id"], "label": str(ta.get("label") or "")},
            "b": {"id": tb["id"], "label": str(tb.get("label") or "")},
            "changes": changes, "key_area_names": names}


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(_flatten(v, f"{key}."))
        else:
            out[key] = v
    return out


def config_changes(config_a: Mapping[str, Any], config_b: Mapping[str, Any],
                   ignore: frozenset[str] = IGNORED_CONFIG_KEYS) -> list[dict[str, Any]]:
    """Dotted config keys whose values differ, sorted: [{key, a, b}] (None = absent)."""
    fa, fb = _flatten(config_a), _flatten(config_b)
    out = []
    for key in sorted(set(fa) | set(fb)):
        if key in ignore:
            continue
        va, vb = fa.get(key), fb.get(key)
        if va != vb:
            out.append({"key": key, "a": va, "b": vb})
    return out


def _run_info(run: RunThemes) -> dict[str, Any]:
    return {"round": run.round_name, "run_id": run.run_id, "folder": str(run.run_dir.resolve()),
            "config_hash": run.config_hash, "n_themes": len(run.themes), "n_units": run.n_units}


def diff_runs(a: RunThemes | str | Path, b: RunThemes | str | Path, cfg: Config
              ) -> dict[str, Any]:
    """The differences between the themes of run `a` (earlier) and run `b` (later).

    JSON-ready and deterministic: lists are ordered by theme id (of A, else of B), config
    keys alphabetically. Folders are loaded with `load_run`. Uses `cfg.compare`.
    """
    ra = a if isinstance(a, RunThemes) else load_run(a)
    rb = b if isinstance(b, RunThemes) else load_run(b)
    cc = cfg.compare
    m = match_themes(ra, rb, cc)
    s, sim = m.similarity.combined, m.similarity

    matched = []
    for i, j in m.matched:
        sa, sb = float(ra.shares[i]), float(rb.shares[j])
        matched.append({
            "a": _ref(ra, i), "b": _ref(rb, j),
            "similarity": rounded(s[i, j]),
            "centroid_similarity": None if sim.centroid is None else rounded(sim.centroid[i, j]),
            "keyword_similarity": rounded(sim.keyword[i, j]),
            "share_change": rounded(sb - sa),
            "share_change_relative": rounded((sb - sa) / sa) if sa > 0 else None,
            "status": share_status(sa, sb, cc.size_change),
        })
    merged = [{"into": _ref(rb, j),
               "from": [{**_ref(ra, i), "similarity": rounded(s[i, j])} for i in members],
               "share_a": rounded(sum(ra.shares[i] for i in members)),
               "share_b": rounded(rb.shares[j])}
              for j, members in m.merged.items()]
    split = [{"from": _ref(ra, i),
              "into": [{**_ref(rb, j), "similarity": rounded(s[i, j])} for j in parts],
              "share_a": rounded(ra.shares[i]),
              "share_b": rounded(sum(rb.shares[j] for j in parts))}
             for i, parts in m.split.items()]
    new = [{**_ref(rb, j), "closest": _closest(s[:, j], ra)} for j in m.new]
    vanished = [{**_ref(ra, i), "closest": _closest(s[i, :], rb)} for i in m.vanished]
    mapping_changes = [c for i, j in m.matched if (c := _mapping_change(ra, i, rb, j))]
    cfg_changes = config_changes(ra.config, rb.config)

    statuses = [x["status"] for x in matched]
    return {
        "schema_version": SCHEMA_VERSION,
        "runs": {"a": _run_info(ra), "b": _run_info(rb)},
        "matching": {"basis": sim.basis, "note": sim.note, **cc.model_dump(mode="json")},
        "counts": {
            "themes_a": len(ra.themes), "themes_b": len(rb.themes),
            "matched": len(matched), "continuing": statuses.count("continuing"),
            "growing": statuses.count("growing"), "shrinking": statuses.count("shrinking"),
            "new": len(new), "vanished": len(vanished), "merged": len(merged),
            "split": len(split), "mapping_changes": len(mapping_changes),
            "config_changes": len(cfg_changes),
        },
        "matched": matched,
        "new": new,
        "vanished": vanished,
        "merged": merged,
        "split": split,
        "mapping_changes": mapping_changes,
        "config_changes": cfg_changes,
    }


def diff_json(diff: Mapping[str, Any]) -> str:
    """diff.json text: the diff's own (deterministic) key order, UTF-8, newline at the end."""
    return json.dumps(diff, ensure_ascii=False, indent=2) + "\n"


# --- plain-text summary ----------------------------------------------------------------------



def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _name(side: str, t: Mapping[str, Any]) -> str:
    return f"{side}#{t['id']} {t['label']}".rstrip()


def _value(v: Any) -> str:
    # YAML-like, as the value would be written in a config or after --set.
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, str):
        return v if v.strip() and v == v.strip() else json.dumps(v, ensure_ascii=False)
    return json.dumps(v, ensure_ascii=False)


def format_summary(diff: Mapping[str, Any]) -> str:
    """A plain-text summary of `diff_runs` output for the terminal, headings in 繁體中文."""
    ra, rb = diff["runs"]["a"], diff["runs"]["b"]
    mt, c = diff["matching"], diff["counts"]
    lines = [
        "主題比較 (theme diff)",
        f"  A: {ra['round']} {ra['run_id']}  {ra['n_themes']} 個主題, {ra['n_units']} 則分析單元",
        f"  B: {rb['round']} {rb['run_id']}  {rb['n_themes']} 個主題, {rb['n_units']} 則分析單元",
    ]
    if mt["basis"] == "keywords":
        how = "僅關鍵詞 (keywords only)"
    else:
        w = mt["centroid_weight"]
        how = f"中心向量 {w:g} + 關鍵詞 {1 - w:g}"
    lines.append(f"  比對: {how}; 一對一 ≥ {mt['min_similarity']:g}, "
                 f"合併/分裂 ≥ {mt['split_merge_similarity']:g}")
    if mt.get("note"):
        lines.append(f"  注意: {mt['note']}")

    def section(title: str, n: int, body: list[str], detail: str = "") -> None:
        lines.append("")
        lines.append(f"{title} ({n}){detail}")
        lines.extend(body or ["  (無)"])

    section("延續 matched", c["matched"],
            [f"  {_name('A', x['a'])}\n    → {_name('B', x['b'])}\n"
             f"    相似 {x['similarity']:.2f}, 佔比 {_pct(x['a']['share'])} → "
             f"{_pct(x['b']['share'])} ({ZH_TW['status_' + x['status']]})"
             for x in diff["matched"]],
            f": 擴大 {c['growing']}, 縮小 {c['shrinking']}, 持平 {c['continuing']}")
    section("新出現 new", c["new"],
            [f"  {_name('B', x)}  佔比 {_pct(x['share'])}"
             + (f"\n    最接近 A#{x['closest']['id']} ({x['closest']['similarity']:.2f})"
                if x["closest"] else "") for x in diff["new"]])
    section("消失 vanished", c["vanished"],
            [f"  {_name('A', x)}  佔比 {_pct(x['share'])}"
             + (f"\n    最接近 B#{x['closest']['id']} ({x['closest']['similarity']:.2f})"
                if x["closest"] else "") for x in diff["vanished"]])
    section("合併 merged", c["merged"],
            ["\n".join([f"  → {_name('B', x['into'])}  佔比 {_pct(x['share_b'])}"]
                       + [f"    ← {_name('A', f)} ({f['similarity']:.2f})" for f in x["from"]])
             for x in diff["merged"]])
    section("分裂 split", c["split"],
            ["\n".join([f"  {_name('A', x['from'])}  佔比 {_pct(x['share_a'])}"]
                       + [f"    → {_name('B', t)} ({t['similarity']:.2f})" for t in x["into"]])
             for x in diff["split"]])
    section("對應變化 mapping changes", c["mapping_changes"],
            [f"  A#{x['a']['id']} → B#{x['b']['id']}: "
             + "; ".join(f"{k} {_value(v['a'])} -> {_value(v['b'])}"
                         for k, v in x["changes"].items()) for x in diff["mapping_changes"]])
    section("設定差異 config changes", c["config_changes"],
            [f"  {x['key']}: {_value(x['a'])} -> {_value(x['b'])}"
             for x in diff["config_changes"]])
    return "\n".join(lines) + "\n"
