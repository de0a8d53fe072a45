"""Template campaigns: groups of near-identical comments, and themes that count each once.

A coordinated campaign (the same template pasted or lightly edited by many people) is the
repeated mobilisation (重複、過度動員) the consultation worries about, and left alone it
becomes several themes of its own. Found with MinHash LSH (datasketch): each analysed unit of
at least `campaigns.min_chars` characters is a set of character n-grams (`shingle`, after
removing punctuation and spaces); units whose estimated Jaccard similarity reaches
`threshold` are linked, and linked units form groups (connected components). A group of at
least `min_size` units is a campaign. Written to `campaigns.json` (docs/comments.md).

Themes (`fit_with_campaigns`) are fitted on one representative per campaign (its most
frequent text, the earliest on a tie); the other members then get the representative's
theme, so a theme's size still counts everyone who said it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import CampaignsConfig, Config
from pipeline.units import analysed_units

# Punctuation, symbols and spaces: a template edited by re-punctuating is still the template.
_NOISE = re.compile(r"[\W_]+", re.UNICODE)
# MinHash permutations are drawn from this seed: same texts, same campaigns.
_SEED = 1


def _clean(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def _shingles(text: str, n: int) -> set[bytes]:
    if len(text) <= n:
        return {text.encode("utf-8")}
    return {text[i:i + n].encode("utf-8") for i in range(len(text) - n + 1)}


def _groups(links: dict[int, list[int]], n: int) -> list[list[int]]:
    """Connected components (union-find), each sorted, in order of their first member."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, js in links.items():
        for j in js:
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(root(i), []).append(i)
    return sorted(members.values(), key=lambda g: g[0])


def find_campaigns(units: pd.DataFrame, cc: CampaignsConfig) -> dict[str, Any]:
    """campaigns.json as a dict: the campaigns among the analysed units, largest first."""
    from datasketch import MinHash, MinHashLSH

    settings = cc.model_dump()
    rows = analysed_units(units)
    cleaned = [_clean(str(t)) for t in rows["text"].tolist()]
    pos = [i for i, t in enumerate(cleaned) if len(t) >= cc.min_chars]
    out: dict[str, Any] = {"settings": settings, "units_considered": len(pos),
                           "units_in_campaigns": 0, "campaigns": []}
    if not cc.enabled or len(pos) < cc.min_size:
        return out
    hashes = MinHash.bulk([_shingles(cleaned[i], cc.shingle) for i in pos],
                          num_perm=cc.num_perm, seed=_SEED)
    lsh = MinHashLSH(threshold=cc.threshold, num_perm=cc.num_perm)
    with lsh.insertion_session() as session:
        for k, m in enumerate(hashes):
            session.insert(k, m, check_duplication=False)
    values = np.stack([m.hashvalues for m in hashes])
    links: dict[int, list[int]] = {}
    for k, m in enumerate(hashes):
        # LSH candidates are checked against the estimated similarity: LSH alone lets some
        # pairs below the threshold through.
        cand = np.array(sorted(j for j in lsh.query(m) if j > k), dtype=np.int64)
        if len(cand):
            sim = (values[cand] == values[k]).mean(axis=1)
            links[k] = cand[sim >= cc.threshold].tolist()
    ids = rows["unit_id"].astype(str).tolist()
    sessions = rows["session_id"].astype(str).tolist()
    found = []
    for group in _groups(links, len(pos)):
        if len(group) < cc.min_size:
            continue
        texts = Counter(cleaned[pos[k]] for k in group)
        top = max(texts.values())
        rep = next(k for k in group if texts[cleaned[pos[k]]] == top)
        sim = (values[group] == values[rep]).mean(axis=1)
        found.append({
            "size": len(group),
            "representative": ids[pos[rep]],
            "unit_ids": [ids[pos[k]] for k in group],
            "example": str(rows["text"].iloc[pos[rep]]),
            # Mean estimated Jaccard similarity of the members to the representative.
            "similarity": round(float(sim.mean()), 4),
            "distinct_texts": len(texts),
            "sessions": sorted({sessions[pos[k]] for k in group}),
        })
    found.sort(key=lambda c: -c["size"])  # stable: ties keep first-member order
    for n, c in enumerate(found, 1):
        c["id"] = n
    out["campaigns"] = [{"id": c.pop("id"), **c} for c in found]
    out["units_in_campaigns"] = sum(c["size"] for c in found)
    return out


def folded_members(campaigns: dict[str, Any] | None) -> dict[str, str]:
    """unit id -> its campaign's representative, for every member that is not one."""
    out: dict[str, str] = {}
    for c in (campaigns or {}).get("campaigns", []):
        for u in c["unit_ids"]:
            if u != c["representative"]:
                out[u] = c["representative"]
    return out


def fit_with_campaigns(units: pd.DataFrame, embeddings: np.ndarray, cfg: Config,
                       campaigns: dict[str, Any] | None, steps: Any = None) -> Any:
    """fit_themes on the units with each campaign's members folded into its representative,
    then the members given the representative's theme; sizes, shares and counts count every
    member. Without campaigns (or with weight_themes off) this is fit_themes itself."""
    from pipeline.themes import describe_themes, fit_themes

    fold = folded_members(campaigns) if cfg.campaigns.weight_themes else {}
    if not fold:
        return fit_themes(units, embeddings, cfg, steps=steps)
    rows = analysed_units(units)
    emb = np.asarray(embeddings, dtype=np.float32)
    member = rows["unit_id"].astype(str).isin(list(fold)).to_numpy()
    fitted = units.copy()
    fitted.loc[fitted["unit_id"].astype(str).isin(list(fold)), "analysed"] = False
    result = fit_themes(fitted, emb[~member], cfg, steps=steps)
    ut = result.unit_themes.set_index("unit_id")
    all_ids = rows["unit_id"].astype(str).tolist()
    source = [fold.get(u, u) for u in all_ids]
    theme = ut.loc[source, "theme_id"].to_numpy(dtype=np.int64)
    result.unit_themes = pd.DataFrame({
        "unit_id": pd.Series(all_ids, dtype=object), "theme_id": theme,
        "probability": ut.loc[source, "probability"].to_numpy(dtype=np.float64),
        # A member fits its theme as its representative does (themes.loose_fit).
        "fit": ut.loc[source, "fit"].to_numpy(dtype=object)})
    # Sizes, shares and breakdown counts over every member; labels, keywords, quotes and
    # centroids stay those of the fit (each template counted once).
    counted, _ = describe_themes(rows, emb, theme, {}, cfg.themes)
    fit = result.unit_themes["fit"].to_numpy(dtype=object)
    by_id = {t["id"]: t for t in counted}
    for t in result.themes:
        full = by_id.get(t["id"])
        if full:
            t.update(size=full["size"], share=full["share"], counts=full["counts"])
        mine = fit[theme == t["id"]]
        t.update(reassigned=int((mine != "core").sum()), loose=int((mine == "loose").sum()))
    _renumber_by_size(result)
    n_out = int((theme < 0).sum())
    result.stats.update(n_units=len(rows), n_outliers=n_out,
                        outlier_share=n_out / len(rows) if len(rows) else 0.0,
                        loose=int((fit == "loose").sum()),
                        loose_share=float((fit == "loose").mean()) if len(rows) else 0.0,
                        campaign_members_folded=len(fold))
    result.stats = dict(sorted(result.stats.items()))
    return result


def _renumber_by_size(result: Any) -> None:
    """Theme ids by size, largest first (as fit_themes numbers them), after the members
    changed the sizes; ties keep the fitted order."""
    order = sorted(range(len(result.themes)), key=lambda i: (-result.themes[i]["size"], i))
    new_id = {result.themes[i]["id"]: k for k, i in enumerate(order)}
    if all(old == new for old, new in new_id.items()):
        return
    result.themes = [result.themes[i] for i in order]
    for t in result.themes:
        t["id"] = new_id[t["id"]]
    if len(result.centroids):
        result.centroids = result.centroids[order]
    result.unit_themes["theme_id"] = [new_id.get(int(t), int(t))
                                      for t in result.unit_themes["theme_id"]]
