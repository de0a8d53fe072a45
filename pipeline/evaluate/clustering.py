"""Scores of the configured pipeline on labelled files, reusing the stages themselves.

Clustering: the texts of a labelled CSV are embedded (pipeline.embed, cfg.embed) and
clustered (pipeline.themes, cfg.themes) exactly as a round's units would be; the themes
are compared with a label column (e.g. the Pol.is conversation) by NMI and ARI, with the
outliers (-1) counted as one more cluster, so leaving units out is not free.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pipeline.config import (
    Config,
    ThemesClustererConfig,
    ThemesOutliersConfig,
    ThemesReducerConfig,
)
from pipeline.source import InputError

ClusteringMode = Literal["default", "bertopic-defaults"]


def bertopic_defaults(cfg: Config) -> Config:
    """cfg with the themes stage set to BERTopic's own defaults: UMAP(n_neighbors=15,
    n_components=5, min_dist=0, cosine) on the embeddings as given, HDBSCAN(
    min_cluster_size=10, eom), no outlier reduction or merging. Kept: our segmenter
    vectorizer (BERTopic's English one gives empty Chinese labels) and the seed (BERTopic
    leaves UMAP unseeded, so its runs differ)."""
    t = cfg.themes
    themes = t.model_copy(update={
        "min_size": 10, "min_size_fraction": 0.0, "n_themes": "auto", "merge": "none",
        "reducer": ThemesReducerConfig(kind="umap", n_neighbors=15, n_components=5,
                                       min_dist=0.0, metric="cosine", center=False),
        "lexical": t.lexical.model_copy(update={"weight": 0.0}),
        "clusterer": ThemesClustererConfig(kind="hdbscan", min_samples=None, selection="eom",
                                           selection_epsilon=0.0),
        "outliers": ThemesOutliersConfig(strategy="none"),
    })
    return cfg.model_copy(update={"themes": themes})


def read_labelled(path: Path, text_col: str, label_col: str) -> pd.DataFrame:
    """Rows with a non-empty text and label, as columns `text` and `label`."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as e:
        raise InputError(path, f"not a readable UTF-8 CSV ({e})", "save it as UTF-8 CSV") from e
    for col in (text_col, label_col):
        if col not in df.columns:
            raise InputError(path, f"no column '{col}' (columns: {', '.join(df.columns)})",
                             "name the columns with --text-col and --label-col")
    out = pd.DataFrame({"text": df[text_col].str.strip(), "label": df[label_col].str.strip()})
    out = out[(out["text"] != "") & (out["label"] != "")].reset_index(drop=True)
    if len(out) < 3:
        raise InputError(path, f"only {len(out)} rows with both a text and a label",
                         "clustering needs at least 3 labelled texts")
    return out


def as_units(texts: list[str], file: str = "labelled.csv") -> pd.DataFrame:
    """Texts as a units table. The label is deliberately not in it (not even in session_id),
    so nothing downstream can see the answer. `file` is the labelled file's name: a table of
    written comments is themed as comments (themes.clusterer.max_share: auto)."""
    n = len(texts)
    return pd.DataFrame({
        "unit_id": [f"eval:{i:06d}:0" for i in range(n)],
        "session_id": ["eval"] * n, "session_title": [""] * n, "session_date": [""] * n,
        "session_type": [""] * n, "session_location": [""] * n, "speaker": [""] * n,
        "role": ["participant"] * n, "text": texts, "file": [file] * n,
        "line_start": list(range(1, n + 1)), "line_end": list(range(1, n + 1)),
        "analysed": [True] * n,
    })


def clustering_scores(labels: list[str] | np.ndarray, themes: np.ndarray) -> dict[str, float]:
    """NMI (arithmetic normalisation, sklearn's default) and ARI; -1 is a cluster like any."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    y = np.asarray([str(v) for v in labels], dtype=object)
    return {"nmi": float(normalized_mutual_info_score(y, themes)),
            "ari": float(adjusted_rand_score(y, themes))}


def eval_clustering(path: Path, text_col: str, label_col: str, cfg: Config,
                    mode: ClusteringMode = "default") -> dict[str, Any]:
    """Cluster the texts of a labelled CSV with the configured pipeline and score the themes
    against the label column. mode "bertopic-defaults" swaps the themes config for
    BERTopic's defaults (same embeddings, same segmenter). `seconds` covers embedding and
    clustering; `embed_seconds` the embedding alone."""
    from pipeline.embed import embed_texts
    from pipeline.themes import fit_themes

    data = read_labelled(Path(path), text_col, label_col)
    run_cfg = bertopic_defaults(cfg) if mode == "bertopic-defaults" else cfg
    t0 = time.perf_counter()
    emb, _ = embed_texts(data["text"].tolist(), run_cfg.embed, run_cfg.segment, kind="query")
    t1 = time.perf_counter()
    result = fit_themes(as_units(data["text"].tolist()), emb, run_cfg)
    seconds = time.perf_counter() - t0
    themes = result.unit_themes["theme_id"].to_numpy()
    st = result.stats
    return {
        **clustering_scores(data["label"].tolist(), themes),
        "n_themes": int(st["n_themes"]),
        "outlier_share": float(st["outlier_share"]),
        "outlier_share_before": float(st.get("outlier_share_before", st["outlier_share"])),
        "reassigned": int(st.get("reassigned", 0)),
        "n_texts": len(data),
        "n_labels": int(data["label"].nunique()),
        "mode": mode,
        "embed_backend": run_cfg.embed.backend,
        "seconds": round(seconds, 2),
        "embed_seconds": round(t1 - t0, 2),
    }


# --- split halves: choosing defaults that are scored on data they were not chosen on -------

# Candidate themes settings (--set overrides on top of the given config), one change at a
# time from it: the choices that the issue-13 defaults rest on.
CANDIDATES: dict[str, list[str]] = {
    "config": [],
    "knn-nndescent": ["themes.reducer.knn=nndescent"],
    "no-words": ["themes.lexical.weight=0"],
    "more-words": ["themes.lexical.weight=0.4"],
    "5-dims": ["themes.reducer.n_components=5"],
    "min-samples-default": ["themes.clusterer.min_samples=null"],
    "min-size-2pct": ["themes.min_size_fraction=0.02"],
    "no-max-share": ["themes.clusterer.max_share=0"],
    # UMAP's epochs for more than 10,000 units, at every size: 40% of the reduction's time.
    "200-epochs": ["themes.reducer.n_epochs=200"],
}


def _fit_scores(texts: list[str], labels: list[str], emb: np.ndarray, cfg: Config
                ) -> dict[str, Any]:
    from pipeline.themes import fit_themes

    result = fit_themes(as_units(texts), emb, cfg)
    st = result.stats
    return {**{k: round(v, 4) for k, v in clustering_scores(
                labels, result.unit_themes["theme_id"].to_numpy()).items()},
            "n_themes": int(st["n_themes"]),
            "outlier_share_before": round(float(st.get("outlier_share_before", 0.0)), 4),
            "outlier_share": round(float(st["outlier_share"]), 4),
            "loose_share": round(float(st.get("loose_share", 0.0)), 4)}


def split_halves(path: Path, text_col: str, label_col: str, cfg: Config, seed: int = 0
                 ) -> dict[str, Any]:
    """The labels (conversations) drawn into two halves (numpy seed `seed`); every candidate
    of CANDIDATES is fitted on each half; the candidate with the best NMI on one half is
    scored on the other (held out: the honest figure), and the reverse. Also: the given
    config and BERTopic's defaults on each half and on the whole file, with the outlier
    share before and after outlier reduction."""
    from pipeline.config import with_overrides
    from pipeline.embed import embed_texts

    data = read_labelled(Path(path), text_col, label_col)
    labels = sorted(data["label"].unique())
    order = np.random.default_rng(seed).permutation(len(labels))
    half = {"A": {labels[i] for i in order[: len(labels) // 2]},
            "B": {labels[i] for i in order[len(labels) // 2:]}}
    emb, _ = embed_texts(data["text"].tolist(), cfg.embed, cfg.segment, kind="query")
    texts, ys = data["text"].tolist(), data["label"].tolist()

    def score(rows: np.ndarray, c: Config) -> dict[str, Any]:
        return _fit_scores([texts[i] for i in rows], [ys[i] for i in rows], emb[rows], c)

    rows = {h: np.flatnonzero(data["label"].isin(v).to_numpy()) for h, v in half.items()}
    grid = {h: {name: score(r, with_overrides(cfg, ov)) for name, ov in CANDIDATES.items()}
            for h, r in rows.items()}
    out: dict[str, Any] = {"file": str(path), "seed": seed, "n_texts": len(data),
                           "halves": {h: {"labels": sorted(v), "n_texts": len(rows[h])}
                                      for h, v in half.items()},
                           "candidates": CANDIDATES, "grid_in_sample": grid, "held_out": {}}
    for tune, test in (("A", "B"), ("B", "A")):
        best = max(CANDIDATES, key=lambda name: (grid[tune][name]["nmi"], name == "config"))
        out["held_out"][f"tuned_on_{tune}_scored_on_{test}"] = {
            "chosen": best, **grid[test][best],
            "bertopic_defaults": score(rows[test], bertopic_defaults(cfg))}
    everything = np.arange(len(data))
    out["full"] = {"config": score(everything, cfg),
                   "bertopic_defaults": score(everything, bertopic_defaults(cfg))}
    return out
