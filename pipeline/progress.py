"""Progress on stderr (rich), silenced by --quiet. stdout is kept for results only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.console = Console(stderr=True, quiet=quiet)

    def say(self, msg: str) -> None:
        # soft_wrap: a message names files and lines; hard-wrapping would split a path that
        # the user copies (and that grep must find).
        self.console.print(msg, markup=False, highlight=False, soft_wrap=True)

    @contextmanager
    def task(self, name: str, total: int | None) -> Iterator[Callable[[str], None]]:
        """Yields `tick(item)`: advance by one and show the item being processed."""
        if self.quiet:
            yield lambda _item: None
            return
        bar = RichProgress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[item]}"), TimeElapsedColumn(),
            console=self.console, transient=True,
        )
        with bar:
            tid = bar.add_task(name, total=total, item="")

            def tick(item: str) -> None:
                bar.update(tid, advance=1, item=item[:40])

            yield tick
