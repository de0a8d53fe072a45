"""Fixtures that several test files share: writable copies of the repository's sample round
and of the report fixture run (tests must never write into the repository)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ROUND = REPO / "corpora" / "sample-round"
REPORT_RUN = REPO / "tests" / "fixtures" / "report" / "run"


@pytest.fixture
def sample_round_copy(tmp_path: Path) -> Path:
    """corpora/sample-round copied to tmp_path/round, e.g. to add a curation.yaml to it."""
    return Path(shutil.copytree(SAMPLE_ROUND, tmp_path / "round"))


@pytest.fixture
def report_run(tmp_path: Path) -> Path:
    """The report fixture run (tests/fixtures/report/run) copied to tmp_path/run."""
    return Path(shutil.copytree(REPORT_RUN, tmp_path / "run"))
