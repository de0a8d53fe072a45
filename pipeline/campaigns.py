"""Template campaigns: groups of near-identical comments, and themes that count each once.

A coordinated campaign (the same template pasted or lightly edited by many people) is the
repeated mobilisation (重複、過度動員) the consultation worries about, and left alone it
becomes several themes of its own. Found with MinHash LSH, vectorised over all units at once
(numpy; 100,000 comments in seconds): each analysed unit of at least `campaigns.min_chars`
characters is a set of character n-grams (`shingle`, after removing punctuation and spaces);
candidate pairs from banding (bands and rows as datasketch chooses them) whose estimated
Jaccard similarity reaches `threshold` are linked, and linked units form groups (connected
components, scipy). A group of at least `min_size` units is a campaign. Written to
`campaigns.json` (docs/comments.md).

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
# Shingles hashed per block (x num_perm uint64 values): about 16 MB at a time.
_BLOCK = 16_384
# In an LSH bucket each member is checked against at most this many earlier members: a
# template's copies share buckets by the hundred, and checking every pair is quadratic.
# Linking to the first few suffices (connected components do the rest) and costs k x 16.
_ANCHORS = 16
# Candidate pairs checked per block (x num_perm comparisons).
_PAIR_BLOCK = 32_768
# LSH weights of false positives and misses when choosing bands and rows: every candidate is
# checked against the threshold, so a miss costs more than a false candidate. At 0.6 and 128
# permutations: 25 bands of 5 rows (a pair at exactly 0.6 is a candidate with p = 0.87; with
# equal weights 18 of 7, p = 0.40; planted worst-group recall 0.84 instead of 0.74).
_WEIGHTS = (0.1, 0.9)


def clean_text(text: str) -> str:
    """The text as compared: NFKC, lower case, without punctuation, symbols or spaces."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def shingle_hashes(texts: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every text's character n-grams (a text shorter than n is one shingle),
    all texts at once: (hashes, start offset of each text's shingles, plus the end). Texts
    must not be empty."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    # Each text followed by n - 1 zeros, so a window never reaches into the next text and a
    # text shorter than n still has one (zero-padded) window.
    pad = "\0" * (n - 1)
    codes = np.frombuffer((pad.join(texts) + pad).encode("utf-32-le"), dtype=np.uint32)
    text_start = np.concatenate([[0], np.cumsum(lengths + n - 1)[:-1]])
    counts = np.maximum(lengths - n + 1, 1)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    starts = np.repeat(text_start - offsets[:-1], counts) + np.arange(offsets[-1])
    h = np.zeros(len(starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            h = (h * np.uint64(0x100000001B3)) ^ codes[starts + j].astype(np.uint64)
        # splitmix64 finaliser: nearby code points end up far apart.
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h, offsets


def signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int) -> np.ndarray:
    """MinHash signatures (texts x num_perm, uint32): per permutation the least of
    (a * h + b) >> 32 over a text's shingles (multiply-shift hashing, a odd, seeded)."""
    rng = np.random.default_rng(_SEED)
    a = rng.integers(0, 2**63, num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, num_perm, dtype=np.uint64)
    n_texts = len(offsets) - 1
    out = np.empty((n_texts, num_perm), dtype=np.uint32)
    first = 0
    while first < n_texts:
        # Whole texts per block, at least one.
        last = max(int(np.searchsorted(offsets, offsets[first] + _BLOCK, side="right")) - 1,
                   first + 1)
        lo, hi = offsets[first], offsets[last]
        with np.errstate(over="ignore"):
            perm = (hashes[lo:hi, None] * a + b) >> np.uint64(32)
        out[first:last] = np.minimum.reduceat(perm, offsets[first:last] - lo, axis=0)
        first = last
    return out


def candidate_pairs(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Pairs (i < j) sharing all `rows` values of some band (LSH banding, by sorting): in a
    bucket every member is paired with each of its first _ANCHORS members."""
    found = []
    for k in range(bands):
        band = np.ascontiguousarray(sig[:, k * rows:(k + 1) * rows])
        _, key = np.unique(band.view(np.dtype((np.void, band.shape[1] * 4))).ravel(),
                           return_inverse=True)
        order = np.argsort(key, kind="stable")
        skey = key[order]
        new = np.concatenate([[True], skey[1:] != skey[:-1]])
        bucket_start = np.maximum.accumulate(np.where(new, np.arange(len(skey)), 0))
        rank = np.arange(len(skey)) - bucket_start
        for j in range(_ANCHORS):
            at = np.nonzero(rank > j)[0]
            if not len(at):
                break
            found.append(np.stack([order[bucket_start[at] + j], order[at]], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(found), axis=1)
    return np.unique(pairs, axis=0)


def linked_groups(sig: np.ndarray, pairs: np.ndarray, threshold: float) -> list[np.ndarray]:
    """Connected components over the pairs whose estimated Jaccard similarity (share of
    equal signature values) reaches the threshold, each sorted, in order of first member.
    LSH alone lets some pairs below the threshold through."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    keep = np.zeros(len(pairs), dtype=bool)
    for s in range(0, len(pairs), _PAIR_BLOCK):
        p = pairs[s:s + _PAIR_BLOCK]
        keep[s:s + _PAIR_BLOCK] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1) >= threshold
    edges = pairs[keep]
    n = len(sig)
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])),
                       shape=(n, n))
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    cuts = np.nonzero(np.diff(label[order]))[0] + 1
    return sorted(np.split(order, cuts), key=lambda g: int(g[0]))


def find_campaigns(units: pd.DataFrame, cc: CampaignsConfig) -> dict[str, Any]:
    """campaigns.json as a dict: the campaigns among the analysed units, largest first."""
    from datasketch import MinHashLSH

    settings = cc.model_dump()
    rows = analysed_units(units)
    cleaned = [clean_text(str(t)) for t in rows["text"].tolist()]
    pos = [i for i, t in enumerate(cleaned) if len(t) >= max(cc.min_chars, 1)]
    out: dict[str, Any] = {"settings": settings, "units_considered": len(pos),
                           "units_in_campaigns": 0, "campaigns": []}
    if not cc.enabled or len(pos) < cc.min_size:
        return out
    values = signatures(*shingle_hashes([cleaned[i] for i in pos], cc.shingle), cc.num_perm)
    # Bands and rows as datasketch chooses them for this threshold, weighted towards recall
    # (_WEIGHTS); the banding itself is done by sorting, all texts at once.
    lsh = MinHashLSH(threshold=cc.threshold, num_perm=cc.num_perm, weights=_WEIGHTS)
    pairs = candidate_pairs(values, lsh.b, lsh.r)
    ids = rows["unit_id"].astype(str).tolist()
    sessions = rows["session_id"].astype(str).tolist()
    found = []
    for members in linked_groups(values, pairs, cc.threshold):
        if len(members) < cc.min_size:
            continue
        group = members.tolist()
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
    counted, _ = describe_themes(rows, emb, theme, {}, cfg)
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
