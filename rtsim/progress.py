"""Progress bars for long offline jobs (library builds, rendering, training)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["progress_bar", "progress_task", "track"]

T = TypeVar("T")


@contextmanager
def progress_bar(enabled: bool = True):
    """A rich ``Progress`` (or None when disabled), on stderr, removed when done."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        yield bar


def track(items: Iterable[T], *, total: int, description: str, bar) -> Iterator[T]:
    """Iterate ``items``, advancing a task of ``bar`` (from :func:`progress_bar`) if any."""
    with progress_task(bar, description, total=total) as advance:
        for item in items:
            yield item
            advance()


@contextmanager
def progress_task(bar, description: str, *, total: int):
    """A task of ``bar`` (or nothing, when ``bar`` is None); yields ``advance(n)``.

    For work that finishes in uneven chunks (a distributed build's batches).
    """
    if bar is None:
        yield lambda n=1: None
        return
    task = bar.add_task(description, total=total)
    try:
        yield lambda n=1: bar.advance(task, n)
    finally:
        bar.remove_task(task)
