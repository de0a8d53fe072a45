"""Theme identity across runs: the words that identify a theme, how alike two such word lists
are, and the hash that ties a theme to its centroid row.

Theme numbers change whenever a run renumbers its themes, so everything that must recognise
"the same theme" again (curation entries, the comparison of runs) matches by these words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

# Digits a centroid is rounded to before hashing (themes.json's own rounding).
CENTROID_DIGITS = 6


def theme_fingerprint(theme: dict[str, Any]) -> list[str]:
    """Words that identify a theme across runs: its fingerprint, else its keywords."""
    fp = theme.get("fingerprint") or {}
    words = fp.get("keywords") if isinstance(fp, dict) else None
    if not words:
        words = [k.get("word") if isinstance(k, dict) else k for k in theme.get("keywords") or []]
    return [str(w).strip().lower() for w in words if w is not None and str(w).strip()]


def keyword_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Overlap coefficient |A∩B| / min(|A|,|B|): a short, distinctive pin matches fully."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def centroid_hash(centroid: np.ndarray) -> str:
    """fingerprint.centroid_sha256: catches a centroid file that does not belong to the themes."""
    # Rounded first: the hash identifies the theme's position, not float noise.
    data = np.round(centroid.astype(np.float64), CENTROID_DIGITS).astype("<f8").tobytes()
    return hashlib.sha256(data).hexdigest()[:16]
