"""Progress on stderr (rich), silenced by --quiet. stdout is kept for results only.

On a terminal each stage shows one bar (items done of total, time elapsed and left) that
disappears when the stage ends; without a terminal (a log file, a scheduler) nothing is
redrawn. Either way one line per stage is printed when it ends, with its main counts and
seconds, and the themes stage's sub-steps (reduce, cluster, represent, reassign) each get a
line as they end, so that a long stage is never silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

# Counts shown on a stage's end line (run.json has them all); other stages show seconds.
SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "ingest": ("files", "units", "units_analysed"),
    "embed": ("unique", "embedded", "cached"),
    "themes": ("n_units", "n_themes", "outlier_share_before", "loose"),
    "mapping": ("units_scored", "gap_themes"),
    "compare": ("compared_with",),
}

# tick(item="", advance=1): advance the bar; `item` (a file name) is shown beside it.
Tick = Callable[..., None]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.0%}" if 0 <= value <= 1 else f"{value:.1f}"
    if isinstance(value, list):
        return str(len(value))
    return str(value)


def stage_line(name: str, record: dict[str, Any]) -> str:
    """`[themes] n_units 5356 · n_themes 24 · … · 12.3 s` (or `reused from RUN`)."""
    parts = [f"{k} {_fmt(record[k])}" for k in SUMMARY_KEYS.get(name, ())
             if record.get(k) is not None]
    if record.get("reused_from"):
        parts.append(f"reused from {record['reused_from']}")
    parts.append(f"{record.get('seconds', 0):.1f} s")
    return f"[{name}] " + " · ".join(parts)


class Progress:
    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.console = Console(stderr=True, quiet=quiet)
        self.live = self.console.is_terminal and not quiet

    def say(self, msg: str) -> None:
        # soft_wrap: a message names files and lines; hard-wrapping would split a path that
        # the user copies (and that grep must find).
        self.console.print(msg, markup=False, highlight=False, soft_wrap=True)

    def stage_done(self, name: str, record: dict[str, Any]) -> None:
        self.say(stage_line(name, record))

    def _bar(self) -> RichProgress:
        return RichProgress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[item]}"), TimeElapsedColumn(), TextColumn("left"),
            TimeRemainingColumn(), console=self.console, transient=True,
        )

    @contextmanager
    def task(self, name: str, total: int | None) -> Iterator[Tick]:
        """Yields `tick(item="", advance=1)`; the bar's label stays `name`."""
        if not self.live:
            yield lambda item="", advance=1: None
            return
        with self._bar() as bar:
            tid = bar.add_task(name, total=total, item="")

            def tick(item: str = "", advance: int = 1) -> None:
                bar.update(tid, advance=advance, item=item[:40])

            yield tick

    @contextmanager
    def steps(self, stage: str, names: tuple[str, ...]) -> Iterator[StepClock]:
        """Sub-steps of a stage: yields a StepClock whose `start(name)` ends the step before;
        each step's seconds are printed when it ends and kept in `clock.seconds`."""
        clock = StepClock(stage, self)
        if not self.live:
            yield clock
            clock.stop()
            return
        with self._bar() as bar:
            tid = bar.add_task(stage, total=len(names), item="")
            clock.on_start = lambda step: bar.update(
                tid, completed=names.index(step) if step in names else None,
                item=step)
            yield clock
            clock.stop()


class StepClock:
    """Times consecutive sub-steps; `start(name)` ends the current one (if any)."""

    def __init__(self, stage: str, progress: Progress | None = None):
        self.stage = stage
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self.on_start: Callable[[str], None] | None = None
        self._current: str | None = None
        self._t0 = 0.0

    def start(self, name: str) -> None:
        self.stop()
        self._current, self._t0 = name, time.perf_counter()
        if self.on_start is not None:
            self.on_start(name)

    def stop(self) -> None:
        if self._current is None:
            return
        secs = round(time.perf_counter() - self._t0, 3)
        self.seconds[self._current] = round(self.seconds.get(self._current, 0.0) + secs, 3)
        if self.progress is not None:
            self.progress.say(f"  {self.stage}: {self._current} {secs:.1f} s")
        self._current = None
