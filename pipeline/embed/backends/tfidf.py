"""Backend `tfidf`: no model; jieba tokens, TF-IDF and truncated SVD fitted on the texts given."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.config import EmbedConfig, SegmentConfig
from pipeline.embed.embedder import Kind, normalise


class TfidfEmbedder:
    """No-model baseline: TF-IDF over jieba tokens, reduced by truncated SVD.

    Fitted on the texts of each `encode` call, so vectors depend on the whole corpus and are
    never cached per text.
    """

    corpus_fitted = True

    def __init__(self, cfg: EmbedConfig, segment: SegmentConfig):
        from pipeline.segment import get_segmenter

        self._segmenter = get_segmenter(segment)
        self.cfg = cfg
        self.dim = cfg.tfidf_dim
        self.name = f"tfidf:jieba-svd{cfg.tfidf_dim}"

    def encode(self, texts: Sequence[str], kind: Kind = "query") -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        out = np.zeros((len(texts), self.dim), np.float32)
        docs = [self._segmenter.tokens(t) for t in texts]
        if not any(docs):
            return out
        # Texts arrive pre-tokenised: the analyzer just passes the token lists through.
        vec = TfidfVectorizer(analyzer=lambda toks: toks, sublinear_tf=True,
                              min_df=min(self.cfg.tfidf_min_df, len(docs)),
                              max_features=self.cfg.tfidf_max_features)
        x = vec.fit_transform(docs)
        k = min(self.dim, x.shape[1] - 1, x.shape[0] - 1)
        if k >= 1:
            svd = TruncatedSVD(n_components=k, random_state=self.cfg.tfidf_seed)
            out[:, :k] = svd.fit_transform(x)
        else:  # one text or one term: nothing to reduce
            k = min(self.dim, x.shape[1])
            out[:, :k] = x[:, :k].toarray()
        return normalise(out)
