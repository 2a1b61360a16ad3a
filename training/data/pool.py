"""Run independent render jobs in a process pool, with a progress bar.

Results do not depend on the number of workers: every job carries its own seed.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

from rtsim.errors import ConfigError
from rtsim.progress import progress_bar, track

__all__ = ["run_jobs"]

log = logging.getLogger(__name__)

J = TypeVar("J")
R = TypeVar("R")


def _unordered(fn: Callable[[J], R], jobs: Sequence[J], workers: int) -> Iterator[R]:
    if workers == 1:
        yield from map(fn, jobs)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(fn, job) for job in jobs]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def run_jobs(
    fn: Callable[[J], R],
    jobs: Sequence[J],
    *,
    workers: int = 2,
    description: str = "rendering",
    progress: bool = True,
) -> list[R]:
    """Apply ``fn`` to every job, ``workers`` processes at a time.

    Parameters
    ----------
    fn : callable
        A module-level (picklable) function of one job.
    jobs : sequence
        Picklable job descriptions.
    workers : int
        Processes (1 runs in this process, no pool).
    description : str
        Progress bar label.
    progress : bool
        Show a rich progress bar on stderr.

    Returns
    -------
    list
        The results in completion order (not job order).
    """
    if workers < 1:
        raise ConfigError(f"workers={workers!r} must be >= 1")
    workers = min(workers, max(len(jobs), 1))
    log.info("%s: %d jobs on %d worker(s)", description, len(jobs), workers)
    with progress_bar(progress) as bar:
        it = track(_unordered(fn, jobs, workers), total=len(jobs), description=description,
                   bar=bar)
        return list(it)
