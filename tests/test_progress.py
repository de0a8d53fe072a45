"""Progress without a terminal: one line per stage with counts and seconds, and a line per
sub-step of the themes stage; nothing redrawn."""

from __future__ import annotations

import io

from rich.console import Console

from pipeline.progress import Progress, StepClock, stage_line


def _captured() -> tuple[Progress, io.StringIO]:
    buf = io.StringIO()
    p = Progress()
    p.console = Console(file=buf, force_terminal=False, width=200)
    p.live = p.console.is_terminal
    return p, buf


def test_stage_end_line_has_counts_and_seconds():
    line = stage_line("themes", {"seconds": 12.34, "n_units": 5356, "n_themes": 24,
                                 "outlier_share_before": 0.3412, "loose": 210, "seed": 42})
    assert line == ("[themes] n_units 5356 · n_themes 24 · outlier_share_before 34% · "
                    "loose 210 · 12.3 s")
    reused = stage_line("ingest", {"seconds": 0.2, "units": 10, "reused_from": "/r/1"})
    assert reused == "[ingest] units 10 · reused from /r/1 · 0.2 s"
    assert stage_line("participation", {"seconds": 1.0}) == "[participation] 1.0 s"


def test_without_a_terminal_bars_print_nothing_and_steps_print_a_line_each():
    p, buf = _captured()
    with p.task("embed", total=3) as tick:
        tick(advance=2)
        tick("a file name")
    assert buf.getvalue() == ""
    with p.steps("themes", ("reduce", "cluster")) as clock:
        clock.start("reduce")
        clock.start("cluster")
    p.stage_done("themes", {"seconds": 3.0, "n_themes": 4})
    lines = buf.getvalue().splitlines()
    assert [ln.split()[:2] for ln in lines[:2]] == [["themes:", "reduce"], ["themes:", "cluster"]]
    assert lines[2] == "[themes] n_themes 4 · 3.0 s"
    assert set(clock.seconds) == {"reduce", "cluster"}


def test_step_clock_adds_up_repeated_steps():
    clock = StepClock("themes")
    for name in ("represent", "reassign", "represent"):
        clock.start(name)
    clock.stop()
    assert set(clock.seconds) == {"represent", "reassign"}
    clock.stop()  # a second stop does nothing
