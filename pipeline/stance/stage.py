"""The stance stage: one stance per analysed unit, with its probability and cue evidence.

Writes `unit_stance.parquet`: unit_id, stance (a code of cues.STANCES), probability (of that
stance; missing when the cue rules decided), evidence (the cue words found for that stance,
joined by "、"; empty when the embedding alone decided). Rows in analysed-unit order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import Config, resolve_path
from pipeline.stance import model as sm
from pipeline.stance.cues import cue_matches, cue_stance

COLUMNS = ["unit_id", "stance", "probability", "evidence"]


def load_model(cfg: Config, dim: int) -> tuple[sm.StanceModel | None, str | None]:
    """The shipped model, or None and why not (then the cue rules decide)."""
    path = resolve_path(cfg.stance.model)
    if not path.is_file():
        return None, f"stance model {path} not found: the cue-word rules were used"
    model, meta = sm.load(path)
    if cfg.embed.backend not in meta.get("embed_backends", sm.E5_BACKENDS):
        return None, (f"the stance model was fitted on e5 embeddings, not "
                      f"{cfg.embed.backend!r}: the cue-word rules were used")
    if meta.get("embedding_dim") != dim:
        return None, (f"the stance model expects {meta.get('embedding_dim')}-dimensional "
                      f"embeddings, the run has {dim}: the cue-word rules were used")
    return model, None


def classify_units(units: pd.DataFrame, emb: np.ndarray, cfg: Config,
                   model: sm.StanceModel | None = None) -> tuple[pd.DataFrame, str | None]:
    """`units`: the analysed units (rows aligned with `emb`). Returns the table and a note
    when the model could not be used."""
    texts = [str(t) for t in units["text"]]
    note = None
    if model is None:
        model, note = load_model(cfg, int(emb.shape[1]) if emb.ndim == 2 else 0)
    if model is not None and len(texts):
        prob = model.proba(sm.features(texts, emb))
        best = prob.argmax(axis=1)
        stance = [model.classes[i] for i in best]
        p = prob[np.arange(len(texts)), best]
    else:
        # Rules have no probability model: missing, rather than a number that looks like one.
        stance = [cue_stance(t) for t in texts]
        p = np.full(len(texts), np.nan)
    evidence = ["、".join(dict.fromkeys(cue_matches(t).get(s, ())))
                for t, s in zip(texts, stance, strict=True)]
    table = pd.DataFrame({"unit_id": units["unit_id"].astype(str).to_numpy(),
                          "stance": stance, "probability": np.round(p, 4),
                          "evidence": evidence}, columns=COLUMNS)
    return table, note
