"""Determinism across cache histories: a round gives the same themes.json byte for byte
whether the embedding cache is fresh or was filled by an earlier, overlapping round (issue 16).

Before, the int8 engine's vector for a sentence depended on which texts shared its batch, so
cached vectors (embedded with another round's texts) differed from fresh ones, and the config
hash in themes.json included embed.cache_dir."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rounds import MEETINGS, build_round, roadshow_files

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MEETINGS.is_dir(), reason="needs ../shared/corpora/transcripts"),
]


def run(rnd: Path, out: Path, cache: Path) -> Path:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", str(rnd), "--out", str(out), "--quiet",
         "--set", f"embed.cache_dir={cache}"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (themes,) = out.rglob("themes.json")
    return themes


def test_fresh_and_history_filled_cache_give_identical_themes_json(tmp_path: Path):
    files = [p for p in roadshow_files() if "社會創新" in p.name][:3]
    target = build_round(tmp_path / "target", files[:2], "target")
    earlier = build_round(tmp_path / "earlier", files[1:], "earlier")  # shares files[1]
    # The cache used by the second run was first filled by the overlapping round.
    run(earlier, tmp_path / "out-earlier", tmp_path / "cache-b")
    fresh = run(target, tmp_path / "out-fresh", tmp_path / "cache-a")
    filled = run(target, tmp_path / "out-filled", tmp_path / "cache-b")
    assert fresh.read_bytes() == filled.read_bytes()
