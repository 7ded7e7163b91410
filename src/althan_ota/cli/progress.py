"""Progress display for long CLI steps: a bar when the total is known, a spinner otherwise; quiet when the
output is not a terminal, so scripts and CI logs stay clean."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def status(message: str):
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


@contextlib.contextmanager
def progress_bar(description: str, total: float):
    """Yields ``update(done)``; the bar shows done/total."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=total)
        yield lambda done: bar.update(task, completed=done)
