"""Themes stage: analysed units + their embeddings become themes (BERTopic).

BERTopic runs on the precomputed embeddings; each of its sub-models is chosen by
`cfg.themes` (reducer, clusterer, vectorizer, representation, outlier reduction). Two
choices matter for Traditional Chinese:

- The CountVectorizer's tokenizer is our segmenter (`pipeline.segment`), and BERTopic gets
  `language=None`: with the default `language="english"` BERTopic strips every non-ASCII
  character before c-TF-IDF and all labels come out empty (BERTopic issue #1821).
- The reducer may mix word features (TF-IDF of the same tokens, reduced by LSA) into the
  space that UMAP sees; BERTopic itself still gets the plain embeddings, so topic
  embeddings, outlier reduction and quotes are all semantic.

Determinism: UMAP, LSA and k-means are seeded from `cfg.run.seed` (UMAP then runs on one
thread), and theme ids are assigned here, not by BERTopic: by size, largest first, ties
broken by the smallest unit_id, outliers -1. Same units + same config ⇒ the same
themes.json, byte for byte (docs/themes_schema.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.abc
import json
import logging
import math
import re
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.arraycache import ArrayCache, array_key
from pipeline.atomic import Writer, write_atomic
from pipeline.config import Config, RolesConfig, SegmentConfig, ThemesConfig
from pipeline.fingerprint import centroid_hash
from pipeline.ingest.procedural import without_courtesy_opening
from pipeline.ingest.redact import placeholder_pattern
from pipeline.jsonio import plain
from pipeline.progress import StepClock
from pipeline.rundir import CENTROIDS, THEMES, THEMES_FIT, UNIT_THEMES, package_versions
from pipeline.units import analysed_units
from pipeline.values import UNSPECIFIED, is_missing

OUTLIER = -1
SCHEMA_VERSION = 1
# Units table columns that themes are broken down by (absent columns are skipped).
COUNT_COLUMNS = ("session_id", "session_type", "session_location", "role")
QUOTE_COLUMNS = ("unit_id", "text", "session_id", "speaker", "file", "line_start", "line_end")
FLOAT_DIGITS = 6

# Theme id -> [(word, weight)], best first.
Keywords = dict[int, list[tuple[str, float]]]


@dataclass
class ThemeResult:
    themes: list[dict[str, Any]]
    # One row per analysed unit, in units-table order: unit_id, theme_id (-1 = outlier),
    # probability (see docs/themes_schema.md).
    unit_themes: pd.DataFrame
    stats: dict[str, Any]
    # Row i = unit-length mean embedding of theme i (float32); saved as theme_centroids.npy.
    centroids: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    # Wall time; kept out of `stats` so that themes.json stays byte-identical across runs.
    seconds: float = 0.0


# --- tokenizer -----------------------------------------------------------------------------


class SegmenterTokenizer:
    """CountVectorizer tokenizer: the pipeline's segmenter, memoised per whitespace piece.

    BERTopic joins each theme's units with spaces and re-tokenises the joined text at every
    c-TF-IDF pass (fit, each merge, the final update). The segmenter drops whitespace, so
    cutting at spaces first gives the same tokens while each unit text is segmented once.
    """

    def __init__(self, cfg: SegmentConfig, min_chars: int = 1, stopwords: list[str] | None = None,
                 placeholders: re.Pattern[str] | None = None):
        from pipeline.segment import get_segmenter

        self._seg = get_segmenter(cfg)
        # Pseudonyms and redaction tags are not words people said: never keywords.
        self._placeholders = placeholders or re.compile(r"\[[^\[\]\s]{1,8}\]")
        self.min_chars = min_chars
        self.stopwords = {w.lower() for w in stopwords or []}
        self._cache: dict[str, list[str]] = {}

    def prime(self, texts: list[str], tokens: list[Any]) -> None:
        """Take the ingest stage's tokens (units.tokens) for texts without whitespace instead
        of segmenting them again (3 s on a 5,000-unit round). Ingest cut the same text with
        the same segmenter after blanking the same placeholders, so for a text that is one
        piece this is what __call__ would compute; texts with whitespace are cut here."""
        for text, toks in zip(texts, tokens, strict=True):
            if (not isinstance(toks, list | tuple | np.ndarray) or text in self._cache
                    or any(c.isspace() for c in text)):
                continue
            self._cache[text] = [t for t in toks if len(t) >= self.min_chars
                                 and t not in self.stopwords]

    def __call__(self, text: str) -> list[str]:
        out: list[str] = []
        for piece in text.split():
            toks = self._cache.get(piece)
            if toks is None:
                toks = [t for t in self._seg.tokens(self._placeholders.sub(" ", piece))
                        if len(t) >= self.min_chars and t not in self.stopwords]
                self._cache[piece] = toks
            out.extend(toks)
        return out


def _vectorizer(tc: ThemesConfig, tokenize: SegmenterTokenizer) -> Any:
    from sklearn.feature_extraction.text import CountVectorizer

    v = tc.vectorizer
    return CountVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False,
                           min_df=v.min_df, max_df=v.max_df, ngram_range=tuple(v.ngram_range))


# --- sub-models ----------------------------------------------------------------------------


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def lexical_features(token_lists: list[list[str]], tc: ThemesConfig, seed: int
                     ) -> np.ndarray | None:
    """LSA of sublinear TF-IDF over the units' tokens, rows of unit length; None if too few
    words survive min_df to be worth a dimension."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    lx = tc.lexical
    min_df = min(lx.min_df, max(1, len(token_lists)))
    tfidf = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=min_df)
    try:
        m = tfidf.fit_transform(token_lists)
    except ValueError:  # empty vocabulary
        return None
    dims = min(lx.dims, m.shape[1] - 1, m.shape[0] - 1)
    if dims < 2:
        return None
    lsa = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(m)
    return _unit_rows(lsa.astype(np.float32))


def _identity(x: list[str]) -> list[str]:
    return x


class ThemeSpace:
    """BERTopic `umap_model`: centre and mix the embeddings, then reduce them.

    BERTopic calls `fit_transform(embeddings)` with the rows in units order, so the word
    features (computed beforehand for the same rows) line up with them.
    """

    def __init__(self, tc: ThemesConfig, seed: int, lexical: np.ndarray | None,
                 steps: StepClock | None = None):
        self.tc = tc
        self.seed = seed
        self.lexical = lexical
        self.steps = steps
        self.model: Any = None
        self.from_cache = False  # the reduced space was read from themes.reducer.cache_dir
        # The reduced space of the last input: refits that only change the clustering (a
        # raised n_themes) reuse it instead of reducing again.
        self._memo: tuple[str, np.ndarray] | None = None

    def features(self, emb: np.ndarray) -> np.ndarray:
        x = np.asarray(emb, dtype=np.float32)
        if self.tc.reducer.center:
            x = _unit_rows(x - x.mean(axis=0, keepdims=True))
        w = self.tc.lexical.weight
        if self.lexical is not None and w > 0:
            if len(self.lexical) != len(x):
                raise ValueError("word features and embeddings have different row counts")
            # Squared weights: the cosine of the mix is (1-w)·cos(emb) + w·cos(words).
            x = np.hstack([x * math.sqrt(1 - w), self.lexical * math.sqrt(w)])
        return x

    def fit(self, x: np.ndarray, y: Any = None) -> ThemeSpace:
        self.fit_transform(x)
        return self

    def fit_transform(self, x: np.ndarray, y: Any = None) -> np.ndarray:
        if self.steps is not None:
            self.steps.start("reduce")
        key = hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()
        if self._memo is None or self._memo[0] != key:
            self._memo = (key, self._reduce(self.features(x)))
        return self._memo[1]

    def _reduce(self, feats: np.ndarray) -> np.ndarray:
        r = self.tc.reducer
        n = len(feats)
        if r.kind == "none" or n < 4:
            return feats
        dims = max(1, min(r.n_components, n - 2, feats.shape[1]))
        if r.kind == "pca":
            from sklearn.decomposition import PCA

            self.model = PCA(n_components=dims, random_state=self.seed)
            return self.model.fit_transform(feats)
        k = max(2, min(r.n_neighbors, n - 1))
        cache = ArrayCache(r.cache_dir, "reduced-space cache") if r.cache_dir else None
        # UMAP is deterministic for a seed (single-threaded), so a stored result is the
        # result: the same features and settings give the same bytes from the cache.
        key = array_key([feats], {"kind": "umap", "dims": dims, "k": k, "min_dist": r.min_dist,
                                  "metric": r.metric, "knn": r.knn, "seed": self.seed,
                                  "n_epochs": r.n_epochs, "versions": package_versions()})
        if cache is not None and (hit := cache.get(key, (n, dims))) is not None:
            self.from_cache = True
            return hit
        out = np.asarray(self._umap(feats, dims, k), dtype=np.float32)
        if cache is not None:
            cache.put(key, out)
        return out

    def _umap(self, feats: np.ndarray, dims: int, k: int) -> np.ndarray:
        r = self.tc.reducer
        if r.jit_cache_dir:
            cache_compiled_umap(Path(r.jit_cache_dir).expanduser())
        from umap import UMAP

        # Exact neighbours from scikit-learn (a matrix product at these sizes) instead of
        # UMAP's pynndescent, whose numba functions compile anew in every process.
        knn = exact_knn(feats, k, r.metric) if r.knn == "exact" else None
        # random_state makes UMAP single-threaded (n_jobs=1): that is what makes it
        # reproducible, so the warning saying so is expected.
        self.model = UMAP(n_neighbors=k, n_components=dims, min_dist=r.min_dist,
                          metric=r.metric, random_state=self.seed, n_jobs=1,
                          n_epochs=r.n_epochs, low_memory=False,
                          precomputed_knn=knn or (None, None, None))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*n_jobs.*overridden.*")
            warnings.filterwarnings("ignore", message=".*precomputed_knn.*")
            return self.model.fit_transform(feats)

    def transform(self, x: np.ndarray) -> np.ndarray:
        if self.from_cache:
            # Only new units need this (BERTopic.transform), which the pipeline never calls.
            raise RuntimeError("the reduced space came from themes.reducer.cache_dir: there "
                               "is no fitted reducer to place new units with")
        if self.model is None:
            return self.features(x)
        return self.model.transform(self.features(x))


def cache_compiled_umap(folder: Path) -> None:
    """Keep UMAP's and pynndescent's numba-compiled functions on disk in `folder`.

    Most of UMAP's functions are `numba.njit` without `cache=True`, so every new process
    compiled them again (tens of seconds on a laptop, issue 13). Numba's own on-disk cache
    (`Dispatcher.enable_caching`, what `cache=True` does; keyed by the source file, its
    time stamp and the CPU, so an upgrade recompiles) is switched on for the module-level
    functions that lack it; functions that numba cannot cache keep compiling in memory."""
    import numba
    from numba.core.dispatcher import Dispatcher

    folder.mkdir(parents=True, exist_ok=True)
    numba.config.CACHE_DIR = str(folder)
    import umap.umap_  # noqa: F401  (loads umap's and pynndescent's modules)

    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in ("umap", "pynndescent"):
            continue
        for fn in list(vars(module).values()):
            if isinstance(fn, Dispatcher) and type(fn._cache).__name__ == "NullCache":
                with contextlib.suppress(Exception):
                    fn.enable_caching()


def exact_knn(x: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray, None]:
    """(indices, distances, None) of each row's k nearest rows, itself first, as UMAP's
    `precomputed_knn` takes them."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute").fit(x)
    dist, idx = nn.kneighbors(x)
    return idx.astype(np.int32), dist.astype(np.float32), None


def min_cluster_size(tc: ThemesConfig, n_units: int) -> int:
    """max(min_size, min_size_fraction × units): relative to the round, with a floor."""
    return max(tc.min_size, round(tc.min_size_fraction * n_units))


def _clusterer(tc: ThemesConfig, n_units: int, seed: int, mcs: int | None = None,
               selection: str | None = None, max_share: float = 0.25) -> Any:
    """The configured clusterer; `mcs` and `selection` override the configured minimum
    size and HDBSCAN selection (used to raise the number of themes)."""
    c = tc.clusterer
    if c.kind == "kmeans":
        from sklearn.cluster import KMeans

        k = int(tc.n_themes) if tc.n_themes != "auto" else 2  # config validation forbids auto
        return KMeans(n_clusters=max(1, min(k, n_units)), n_init=c.n_init, random_state=seed)
    from hdbscan import HDBSCAN

    mcs = max(2, min(mcs or min_cluster_size(tc, n_units), n_units))
    ms = None if c.min_samples is None else min(c.min_samples, mcs)
    # HDBSCAN's excess-of-mass selection can keep one cluster holding nearly every unit
    # (a round of mixed meetings gave one theme of 96%); clusters above this size are split.
    big = int(max_share * n_units) if max_share else 0
    return HDBSCAN(min_cluster_size=mcs, min_samples=ms, metric="euclidean",
                   max_cluster_size=max(big, mcs + 1) if big else 0,
                   cluster_selection_method=selection or c.selection,
                   cluster_selection_epsilon=c.selection_epsilon, core_dist_n_jobs=1)


TABLE_SUFFIXES = (".csv", ".xlsx", ".jsonl")


def resolved_max_share(rows: pd.DataFrame, cfg: Config) -> float:
    """themes.clusterer.max_share, with "auto" decided by what the units are: written
    comments (most analysed units from table files, or ingest.profile=comments) 0.5,
    transcripts 0.25 (config.py says why)."""
    value = cfg.themes.clusterer.max_share
    if value != "auto":
        return float(value)
    if cfg.ingest.profile != "auto":
        comments = cfg.ingest.profile == "comments"
    else:
        files = rows["file"].astype(str).str.lower() if "file" in rows else pd.Series([])
        comments = bool(len(files)) and float(files.str.endswith(TABLE_SUFFIXES).mean()) > 0.5
    return 0.5 if comments else 0.25


def cluster_attempts(tc: ThemesConfig, n_units: int) -> list[tuple[int, str]]:
    """(min cluster size, HDBSCAN selection) to try in order. The configured pair first;
    when `n_themes` asks for more themes than that finds, finer clusterings follow (leaf
    selection, then half, a quarter, an eighth of the minimum size, never below 2), and the
    first that finds enough is merged down to n_themes."""
    mcs = max(2, min(min_cluster_size(tc, n_units), n_units))
    out = [(mcs, tc.clusterer.selection)]
    if isinstance(tc.n_themes, int) and tc.clusterer.kind == "hdbscan":
        for div in (1, 2, 4, 8):
            pair = (max(2, mcs // div), "leaf")
            if pair not in out:
                out.append(pair)
    return out


class StepClusterer:
    """BERTopic `hdbscan_model` around the real clusterer: says when clustering starts and
    when it ends (BERTopic then computes the topic words: the `represent` step)."""

    def __init__(self, model: Any, steps: StepClock | None):
        self.model = model
        self.steps = steps

    def fit(self, x: np.ndarray, y: Any = None) -> StepClusterer:
        if self.steps is not None:
            self.steps.start("cluster")
        self.model.fit(x)
        self.labels_ = self.model.labels_
        if hasattr(self.model, "probabilities_"):
            self.probabilities_ = self.model.probabilities_
        if self.steps is not None:
            self.steps.start("represent")
        return self


# What `import bertopic` loads only for features the pipeline does not use: its own
# embedding and text-generation backends (sentence-transformers, transformers), saving
# models (torch) and plots (umap: the themes stage imports it itself when it reduces).
BERTOPIC_UNUSED = ("sentence_transformers", "transformers", "torch", "umap")


class _Unavailable(importlib.abc.MetaPathFinder):
    """An import finder under which the named top-level packages cannot be imported."""

    def __init__(self, names: set[str]):
        self.names = names

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def import_bertopic() -> None:
    """Import bertopic without the packages in BERTOPIC_UNUSED (issue 13: 2.7 of the 3.1 s
    that `import bertopic` took went to them).

    bertopic imports each of them in a `try` and puts a placeholder in place of the feature
    when the package is missing. The pipeline hands BERTopic the embeddings, the reduction
    and (for keybert and mmr) its own embedder, so those packages cannot be imported while
    bertopic loads (a finder in front of sys.meta_path; sys.modules is left alone, since
    other libraries look there to see whether torch is loaded), and can be after. A bertopic
    that needs one of them after all is imported again the ordinary way."""
    if "bertopic" in sys.modules:
        return
    finder = _Unavailable({m for m in BERTOPIC_UNUSED if m not in sys.modules})
    sys.meta_path.insert(0, finder)
    try:
        import bertopic
    except ImportError:
        for m in [m for m in sys.modules if m == "bertopic" or m.startswith("bertopic.")]:
            del sys.modules[m]
    finally:
        sys.meta_path.remove(finder)
    import bertopic  # noqa: F401  (a no-op when the import above succeeded)


def pipeline_embedder(cfg: Config) -> Any:
    """A BERTopic embedding backend over `pipeline.embed` (cfg.embed), for the keybert and
    mmr representations, which embed candidate keywords. The units themselves arrive
    already embedded. Built lazily: bertopic.backend is only imported when needed."""
    from bertopic.backend import BaseEmbedder

    class PipelineEmbedder(BaseEmbedder):
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            from pipeline.embed import embed_texts

            emb, _ = embed_texts(list(documents), cfg.embed, cfg.segment, kind="query")
            return np.asarray(emb, dtype=np.float32)

    return PipelineEmbedder()


def _representation(tc: ThemesConfig, seed: int) -> Any:
    r = tc.representation
    if r.kind == "keybert":
        from bertopic.representation import KeyBERTInspired

        return KeyBERTInspired(top_n_words=r.top_n_words, random_state=seed)
    if r.kind == "mmr":
        from bertopic.representation import MaximalMarginalRelevance

        return MaximalMarginalRelevance(diversity=r.mmr_diversity, top_n_words=r.top_n_words)
    return None


# --- fitting -------------------------------------------------------------------------------


def fit_themes(units: pd.DataFrame, embeddings: np.ndarray, cfg: Config,
               steps: StepClock | None = None) -> ThemeResult:
    """Cluster the analysed units into themes.

    `embeddings` has one row per unit with `analysed == True`, in the order those rows have
    in `units` (what the embed stage produces from `units.loc[units.analysed, "text"]`).
    Uses cfg.themes (all settings), cfg.segment (the tokenizer) and cfg.run.seed. `steps`
    is told when each sub-step starts (prepare, reduce, cluster, represent, merge, reassign,
    describe).
    """
    t0 = time.perf_counter()
    if steps is not None:
        steps.start("prepare")  # imports, segmenting the units, word features
    tc, seed = cfg.themes, cfg.run.seed
    rows = analysed_units(units)
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or len(emb) != len(rows):
        raise ValueError(f"themes: {len(rows)} analysed units but embeddings of shape "
                         f"{emb.shape}; embeddings must align with the analysed rows of units")
    docs = [str(t) for t in rows["text"].tolist()]
    unit_ids = [str(u) for u in rows["unit_id"].tolist()]
    n = len(rows)
    stats: dict[str, Any] = {"n_units": n, "seed": seed, "n_themes_target": tc.n_themes}
    if n < 3:
        # Too few units for any clustering: every unit is an outlier.
        labels = np.full(n, OUTLIER)
        probs = np.zeros(n)
        before = np.ones(n, dtype=bool)
        keywords: Keywords = {}
        stats.update(n_themes_found=0, n_themes_merged=0, outlier_share_before=1.0 if n else 0.0,
                     reassigned=0, min_cluster_size=min_cluster_size(tc, n), lexical_dims=0)
    else:
        max_share = resolved_max_share(rows, cfg)
        stats["max_share"] = max_share
        known = rows["tokens"].tolist() if "tokens" in rows else None
        labels, probs, fit_stats, keywords, before = _fit_bertopic(
            docs, emb, tc, cfg, seed, max_share, steps, known)
        stats.update(fit_stats)
    if steps is not None:
        steps.start("describe")
    ids = stable_ids(labels, unit_ids)
    labels = np.array([ids.get(int(t), OUTLIER) for t in labels], dtype=np.int64)
    keywords = {ids[t]: kw for t, kw in keywords.items() if t in ids}
    loose = loose_fit(emb, labels, before, tc.outliers.loose_quantile)
    fit = np.where(labels == OUTLIER, "outlier",
                   np.where(~before, "core", np.where(loose, "loose", "reassigned")))
    themes, centroids = describe_themes(rows, emb, labels, keywords, cfg)
    for t in themes:
        mine = fit[labels == t["id"]]
        t["reassigned"] = int((mine != "core").sum())
        t["loose"] = int((mine == "loose").sum())
    n_out = int((labels == OUTLIER).sum())
    stats.update(n_themes=len(themes), n_outliers=n_out,
                 outlier_share=n_out / n if n else 0.0, loose=int(loose.sum()),
                 loose_share=float(loose.mean()) if n else 0.0)
    unit_themes = pd.DataFrame({
        "unit_id": pd.Series(unit_ids, dtype=object),
        "theme_id": labels.astype(np.int64),
        "probability": np.round(np.asarray(probs, dtype=np.float64), FLOAT_DIGITS),
        "fit": pd.Series(fit, dtype=object),
    })
    if steps is not None:
        steps.stop()
    return ThemeResult(themes=themes, unit_themes=unit_themes, stats=dict(sorted(stats.items())),
                       centroids=centroids, seconds=time.perf_counter() - t0)


def _fit_bertopic(docs: list[str], emb: np.ndarray, tc: ThemesConfig, cfg: Config, seed: int,
                  max_share: float, steps: StepClock | None = None,
                  known_tokens: list[Any] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, dict[str, Any], Keywords, np.ndarray]:
    """BERTopic fit, optional merging, outlier reduction and final keywords. `known_tokens`:
    the units' tokens from ingest (units.tokens), one entry per doc, when there are some.

    Returns BERTopic's topic per unit, probabilities, stats, keywords by topic id, and which
    units were outliers before outlier reduction."""
    import_bertopic()
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer

    n = len(docs)
    tokenize = SegmenterTokenizer(cfg.segment, tc.vectorizer.min_chars, tc.vectorizer.stopwords,
                                  placeholder_pattern(cfg.redact))
    if known_tokens is not None:
        tokenize.prime(docs, known_tokens)
    # Segmenting every unit up front also fills the tokenizer's cache for BERTopic's passes.
    token_lists = [tokenize(d) for d in docs]
    if not any(token_lists):
        raise ValueError(f"themes: none of the {n} analysed units has a content word left "
                         "after segmentation and stopwords, so themes cannot be described")
    lexical = lexical_features(token_lists, tc, seed) if tc.lexical.weight > 0 else None
    rep = tc.representation
    space = ThemeSpace(tc, seed, lexical, steps)
    # BERTopic's constructor resets its logger to WARNING; update_topics below warns that
    # custom assignments are final, which here they are by design.
    best: tuple[Any, np.ndarray, Any, int, tuple[int, str]] | None = None
    attempts = cluster_attempts(tc, n)
    for mcs, selection in attempts:
        model = BERTopic(
            language=None,  # not "english": that strips CJK before c-TF-IDF (issue #1821)
            embedding_model=pipeline_embedder(cfg) if rep.kind != "ctfidf" else None,
            umap_model=space,
            hdbscan_model=StepClusterer(_clusterer(tc, n, seed, mcs, selection, max_share),
                                        steps),
            vectorizer_model=_vectorizer(tc, tokenize),
            ctfidf_model=ClassTfidfTransformer(bm25_weighting=rep.bm25_weighting,
                                               reduce_frequent_words=rep.reduce_frequent_words),
            representation_model=_representation(tc, seed),
            top_n_words=rep.top_n_words,
            calculate_probabilities=False,
        )
        logging.getLogger("BERTopic").setLevel(logging.ERROR)
        topics, probs = model.fit_transform(docs, embeddings=emb)
        topics = np.asarray(topics, dtype=np.int64)
        found = len(set(topics.tolist()) - {OUTLIER})
        if best is None or found > best[3]:
            best = (model, topics, probs, found, (mcs, selection))
        if not isinstance(tc.n_themes, int) or found >= tc.n_themes:
            break
    assert best is not None
    model, topics, probs, found, (mcs, selection) = best
    # HDBSCAN's membership strength; k-means has none, so its members count as certain.
    probs = np.ones(n) if probs is None else np.asarray(probs, dtype=np.float64).reshape(n)
    stats: dict[str, Any] = {"n_themes_found": found, "min_cluster_size": mcs,
                             "lexical_dims": 0 if lexical is None else int(lexical.shape[1])}
    if (mcs, selection) != attempts[0]:
        # n_themes asked for more themes than the configured clustering found.
        stats["n_themes_raised"] = {"min_cluster_size": mcs, "selection": selection}
    if found > 1 and (isinstance(tc.n_themes, int) and found > tc.n_themes):
        if steps is not None:
            steps.start("merge")
        # BERTopic counts the outlier topic (-1) among nr_topics when there is one.
        model.reduce_topics(docs, nr_topics=tc.n_themes + int(OUTLIER in topics))
        topics = np.asarray(model.topics_, dtype=np.int64)
    elif found > 2 and tc.n_themes == "auto" and tc.merge == "auto":
        if steps is not None:
            steps.start("merge")
        model.reduce_topics(docs, nr_topics="auto")
        topics = np.asarray(model.topics_, dtype=np.int64)
    stats["n_themes_merged"] = found - len(set(topics.tolist()) - {OUTLIER})
    before = topics == OUTLIER
    stats["outlier_share_before"] = float(before.mean())
    strategy = tc.outliers.strategy
    if strategy != "none" and before.any() and not before.all():
        if steps is not None:
            steps.start("reassign")
        new = model.reduce_outliers(docs, topics.tolist(), strategy=strategy,
                                    threshold=tc.outliers.threshold, embeddings=emb)
        topics = np.asarray(new, dtype=np.int64)
    # Units placed by outlier reduction keep HDBSCAN's probability for them: 0.
    probs = np.where(before, 0.0, probs)
    stats["reassigned"] = int((before & (topics != OUTLIER)).sum())
    # Keywords for the final partition (after merging and outlier reduction); pass the
    # vectorizer again, or update_topics falls back to an English CountVectorizer.
    if (topics != OUTLIER).any():
        if steps is not None:
            steps.start("represent")
        logging.getLogger("BERTopic").setLevel(logging.ERROR)  # embedding may have reset it
        model.update_topics(docs, topics=topics.tolist(), top_n_words=rep.top_n_words,
                            vectorizer_model=model.vectorizer_model,
                            ctfidf_model=model.ctfidf_model,
                            representation_model=model.representation_model)
    keywords = {int(t): [(str(w), float(s)) for w, s in model.get_topic(int(t)) or [] if w]
                for t in set(topics.tolist()) - {OUTLIER}}
    return topics, probs, stats, keywords, before


def loose_fit(emb: np.ndarray, labels: np.ndarray, before: np.ndarray, quantile: float
              ) -> np.ndarray:
    """Units placed in a theme by outlier reduction that fit it loosely: their cosine to
    the centroid of the theme's clustered members is below that `quantile` of the members'
    own cosines (so "low" is relative to how tight each theme is, with no fixed threshold)."""
    loose = np.zeros(len(labels), dtype=bool)
    if quantile <= 0:
        return loose
    x = _unit_rows(np.asarray(emb, dtype=np.float64))
    for tid in sorted(set(labels[before].tolist()) - {OUTLIER}):
        core = (labels == tid) & ~before
        placed = (labels == tid) & before
        if core.sum() < 2:
            continue
        c = x[core].mean(axis=0)
        c /= np.linalg.norm(c) or 1.0
        floor = np.quantile(x[core] @ c, quantile)
        loose[placed] = (x[placed] @ c) < floor
    return loose


# --- describing themes ---------------------------------------------------------------------


def stable_ids(labels: np.ndarray, unit_ids: list[str]) -> dict[int, int]:
    """Cluster label -> theme id: 0 for the largest, ties to the one holding the smallest
    unit_id; the outlier label stays -1."""
    members: dict[int, list[str]] = {}
    for lab, uid in zip(labels.tolist(), unit_ids, strict=True):
        if lab != OUTLIER:
            members.setdefault(int(lab), []).append(uid)
    order = sorted(members, key=lambda lab: (-len(members[lab]), min(members[lab])))
    ids = {lab: i for i, lab in enumerate(order)}
    ids[OUTLIER] = OUTLIER
    return ids


def _value(v: Any) -> str:
    if is_missing(v):
        return UNSPECIFIED
    s = str(v).strip()
    return s or UNSPECIFIED


def _counts(rows: pd.DataFrame, col: str) -> dict[str, int]:
    if col not in rows:
        return {}
    c = Counter(_value(v) for v in rows[col].tolist())
    return dict(sorted(c.items()))


_TEXT_KEY = re.compile(r"\s+")


def representative(rows: pd.DataFrame, emb: np.ndarray, centroid: np.ndarray, k: int
                   ) -> list[int]:
    """Positions (into `rows`) of the k units closest to the centroid by cosine, skipping
    repeats of a text already chosen; ties go to the smaller unit_id."""
    sims = emb @ centroid
    uids = rows["unit_id"].astype(str).tolist()
    # Rounded so that float noise in the last bits cannot reorder near-equal units.
    order = sorted(range(len(uids)), key=lambda i: (-round(float(sims[i]), 6), uids[i]))
    chosen, seen = [], set()
    for i in order:
        key = _TEXT_KEY.sub("", str(rows["text"].iat[i]))
        if key in seen:
            continue
        seen.add(key)
        chosen.append(i)
        if len(chosen) == k:
            break
    return chosen


def shorten(text: str, limit: int) -> str:
    """The text up to `limit` characters, cut at the end of its first clause if that comes
    earlier, with an ellipsis when cut."""
    t = re.sub(r"\s+", " ", text).strip()
    if limit <= 0:
        return ""
    if len(t) <= limit:
        return t
    head = t[:limit]
    # Prefer ending at a clause break in the second half of the limit.
    cut = max(head.rfind(p) for p in "。！？；，,;!?")
    if cut >= limit // 2:
        return head[:cut] + "…"
    return head.rstrip() + "…"


def _label_quote(quotes: list[dict[str, Any]], roles: RolesConfig | None,
                 names: re.Pattern[str] | None = None) -> str:
    """The most representative quote, without an opening greeting, thanks or
    self-introduction: a label reads 「我這邊作說明…」, not 「政委好，我這邊…」 (the quote
    itself is shown in full)."""
    if not quotes:
        return ""
    text = str(quotes[0]["text"])
    return without_courtesy_opening(text, roles, names) if roles is not None else text


def make_label(keywords: list[tuple[str, float]], quote: str, tc: ThemesConfig) -> str:
    lc = tc.labels
    words = "、".join(w for w, _ in keywords[: lc.n_keywords])
    text = shorten(quote, lc.quote_chars)
    if words and text:
        return f"{words}｜{text}"
    return words or text


def courtesy_check(themes: list[dict[str, Any]], tc: ThemesConfig) -> dict[str, Any]:
    """Themes an analyst would throw away: most of their top keywords are courtesies or meeting
    mechanics (午安、政委、夥伴; 有沒有、補充、朋友). Reported in themes.json and the report's
    method section, so that a rise (a procedural rule that stopped working) is seen."""
    cc = tc.courtesy
    words = set(cc.words)
    total = sum(int(t["size"]) for t in themes) or 1
    hits = []
    for t in themes:
        top = [k["word"] for k in t.get("keywords", [])[: cc.top_keywords]]
        if top and sum(w in words for w in top) >= cc.min_hits:
            hits.append(int(t["id"]))
    size = sum(int(t["size"]) for t in themes if int(t["id"]) in hits)
    return {"themes": hits, "units": size, "share": size / total}


def _quotes(sub: pd.DataFrame, emb: np.ndarray, centroid: np.ndarray, k: int, role: str
            ) -> list[dict[str, Any]]:
    """The k units of `role` closest to the theme's centroid, as quote records."""
    if k <= 0:
        return []
    mine = np.flatnonzero((sub["role"] == role).to_numpy()) if "role" in sub else np.arange(0)
    rows = sub.iloc[mine].reset_index(drop=True)
    picks = representative(rows, emb[mine], centroid, k)
    return [{col: plain(rows[col].iat[i]) if col in rows else None for col in QUOTE_COLUMNS}
            for i in picks]


def describe_themes(rows: pd.DataFrame, emb: np.ndarray, labels: np.ndarray,
                    keywords: Keywords, cfg: Config
                    ) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Each theme of `labels` (ids 0..n-1 over `rows`) described as in themes.json (label,
    keywords, size, counts, quotes, fingerprint), and its unit-length centroid; curation's
    merges describe a merged theme the same way. Uses cfg.themes, and cfg.roles and
    cfg.redact for the openings a label's quote does not start with."""
    tc, roles, names = cfg.themes, cfg.roles, placeholder_pattern(cfg.redact)
    n = len(rows)
    n_themes = int(labels.max()) + 1 if n and labels.max() >= 0 else 0
    centroids = np.zeros((n_themes, emb.shape[1] if emb.ndim == 2 else 0), np.float32)
    themes = []
    for tid in range(n_themes):
        pos = np.flatnonzero(labels == tid)
        sub = rows.iloc[pos].reset_index(drop=True)
        c = emb[pos].astype(np.float64).mean(axis=0)
        c = c / (np.linalg.norm(c) or 1.0)
        centroids[tid] = c.astype(np.float32)
        # Quotes are participants' feedback; officials' statements are context, kept apart.
        quotes = _quotes(sub, emb[pos], c, tc.labels.n_quotes, "participant")
        official = _quotes(sub, emb[pos], c, tc.labels.n_official_quotes, "official")
        kw = keywords.get(tid, [])
        first = quotes or official
        themes.append({
            "id": tid,
            "label": make_label(kw, _label_quote(first, roles, names), tc),
            "size": len(pos),
            "share": len(pos) / n,
            "keywords": [{"word": w, "weight": s} for w, s in kw],
            "quotes": quotes,
            "official_quotes": official,
            "counts": {col: _counts(sub, col) for col in COUNT_COLUMNS},
            "fingerprint": {
                "keywords": [w for w, _ in kw[:10]],
                "centroid_sha256": centroid_hash(centroids[tid]),
                "top_units": [q["unit_id"] for q in quotes[:3]],
            },
        })
    return themes, centroids


# --- output --------------------------------------------------------------------------------


def _canonical(obj: Any) -> Any:
    """JSON-ready copy: floats rounded to 6 places, numpy/pandas scalars made plain."""
    obj = plain(obj)
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_canonical(v) for v in obj.tolist()]
    if isinstance(obj, float):
        r = round(obj, FLOAT_DIGITS)
        return 0.0 if r == 0 else r  # no "-0.0"
    return obj


def themes_json(result: ThemeResult, meta: dict[str, Any]) -> str:
    """themes.json: deterministic (sorted keys, rounded floats, no timings), UTF-8 text."""
    doc = {"schema_version": SCHEMA_VERSION, "meta": meta, "stats": result.stats,
           "themes": result.themes}
    return json.dumps(_canonical(doc), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def write_theme_files(result: ThemeResult, meta: dict[str, Any], folder: Path) -> list[Path]:
    """themes.json (and the same as themes_fit.json, which mapping leaves as it is for a
    later run to reuse), unit_themes.parquet and theme_centroids.npy (row i = theme i)."""
    centroids = np.ascontiguousarray(result.centroids, dtype=np.float32)
    doc = themes_json(result, meta).encode("utf-8")
    writers: list[tuple[str, Writer]] = [
        (THEMES, lambda fh: fh.write(doc)),
        (THEMES_FIT, lambda fh: fh.write(doc)),
        (UNIT_THEMES, lambda fh: result.unit_themes.to_parquet(fh, index=False)),
        (CENTROIDS, lambda fh: np.save(fh, centroids, allow_pickle=False)),
    ]
    for name, write in writers:
        write_atomic(folder / name, write)
    return [folder / name for name, _ in writers]
