"""pipeline/arraycache.py: a cache that only ever saves work."""

from __future__ import annotations

import os

import numpy as np
import pytest

from pipeline.arraycache import ArrayCache, array_key


def test_round_trip_and_key_covers_arrays_and_params(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    key = array_key([a], {"k": 15})
    assert key != array_key([a], {"k": 16})
    assert key != array_key([a + 1], {"k": 15})
    assert key != array_key([a.astype(np.float64)], {"k": 15})
    cache = ArrayCache(tmp_path, "test cache")
    assert cache.get(key, (4, 3)) is None
    cache.put(key, a)
    assert np.array_equal(cache.get(key, (4, 3)), a)
    # Not what the key promises: a miss, never a wrong array.
    assert cache.get(key, (4, 2)) is None
    assert cache.get(key, (4, 3), dtype="float64") is None


def test_damaged_or_partial_files_are_misses(tmp_path):
    a = np.ones((5, 2), dtype=np.float32)
    cache = ArrayCache(tmp_path, "test cache")
    cache.put("k1", a)
    path = tmp_path / "k1.npy"
    path.write_bytes(path.read_bytes()[:-8])  # cut short
    assert cache.get("k1", (5, 2)) is None
    np.save(path, np.full((5, 2), np.nan, dtype=np.float32))
    assert cache.get("k1", (5, 2)) is None


def test_oldest_entries_are_pruned(tmp_path):
    cache = ArrayCache(tmp_path, "test cache", max_entries=3)
    for i in range(5):
        cache.put(f"k{i}", np.full((2, 2), i, dtype=np.float32))
        os.utime(tmp_path / f"k{i}.npy", (1000 + i, 1000 + i))
    cache.put("k5", np.zeros((2, 2), dtype=np.float32))
    assert sorted(p.stem for p in tmp_path.glob("*.npy")) == ["k3", "k4", "k5"]


def test_unwritable_folder_means_no_cache_with_one_warning(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    cache = ArrayCache(blocker / "sub", "test cache")
    with pytest.warns(RuntimeWarning, match="test cache"):
        cache.put("k", np.zeros((1, 1), dtype=np.float32))
    assert cache.get("k", (1, 1)) is None
    cache.put("k", np.zeros((1, 1), dtype=np.float32))  # no second warning, no error
