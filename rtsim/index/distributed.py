"""``rtsim index build --ray``: the same build, its files decoded and embedded on a Ray cluster.

:class:`RayRunner` is a runner for :func:`~rtsim.index.build.build_library`: the folder's
files are cut into batches (``files_per_task``), each batch is one Ray task that decodes,
windows and embeds its files with the functions a local build uses
(:func:`~rtsim.index.build.plan_file`, :func:`~rtsim.index.build.embed_file`), and the
driver merges the batches in folder order, so a distributed library is the local one:
same items, same ids, vectors equal within float tolerance. Everything after the
embedding (index, map, manifest, checks, the atomic replace) is the local build's.

What can go wrong, and what happens:

- a worker process or node dies: Ray runs its task again (``max_retries``), the batch's
  result is kept only once;
- a batch still fails after its retries (a file that kills the decoder every time): its
  files are run one per task, and a file that fails alone is skipped and counted
  (``"crashed a worker"``), like any other skipped file;
- a file that cannot be read, is silent or embeds to NaN: skipped and counted exactly as
  in a local build (the worker records it; the driver merges the counts).

A fitted embedder (``pca``) needs its fitting sample before anything is embedded: one
pass counts every file's windows, a second fetches the windows drawn
(:func:`~rtsim.index.build.fit_picks`, the local build's draw), then the embedding pass;
the files are decoded twice, the drawn ones three times.

At most four tasks per cluster CPU are in flight; the driver keeps each finished batch's
vectors until it writes the library, as a local build does, so the driver needs the
vectors' size in memory while it builds (10^7 one-shots x 8 vectors x 128-d is 41 GB;
``--oneshot-vectors 0`` keeps one per one-shot, their mean: 5 GB).

The workers must see the folder at the same path (a shared or copied file system) and
have rtsim installed; nothing but results travels back. ``address`` is a running
cluster's (``ray start --head``) or None for a Ray instance on this machine.
"""

from __future__ import annotations

import logging
import os
from functools import partial
from pathlib import Path

import numpy as np

from rtsim.errors import ConfigError, LibraryError

__all__ = ["RayRunner", "ray_runner"]

log = logging.getLogger(__name__)

CRASHED = "crashed a worker"
"""Skip reason of a file whose task failed alone, after its retries."""

CRASH_ENV = "RTSIM_RAY_CRASH_FILE"
"""A worker that reaches the file this variable names dies (tests of the retry path)."""

_cache: dict = {}  # per worker process: the front end and embedder of the last build


def ray_runner(address: str | None = None, *, files_per_task: int = 32, max_retries: int = 3,
               num_cpus: int | None = None, num_gpus: float = 0.0):
    """A ``runner`` for :func:`~rtsim.index.build.build_library` that uses Ray.

    Parameters
    ----------
    address : str or None
        ``HOST:PORT`` of a running cluster's head, ``"auto"`` for the one this machine
        is part of, or None to start a Ray instance here for the build.
    files_per_task : int
        Files per Ray task (the unit that is retried).
    max_retries : int
        Times Ray re-runs a task whose worker died.
    num_cpus : int or None
        CPUs of a local instance (None: all); ignored with ``address``.
    num_gpus : float
        GPUs each task asks for (0: CPU workers; with a GPU, tasks run on CUDA).
    """
    if files_per_task < 1 or max_retries < 0 or num_gpus < 0:
        raise ConfigError(f"ray build: files_per_task={files_per_task} (>= 1), max_retries="
                          f"{max_retries} (>= 0), num_gpus={num_gpus} (>= 0)")
    return partial(RayRunner, address=address, files_per_task=files_per_task,
                   max_retries=max_retries, num_cpus=num_cpus, num_gpus=num_gpus)


class RayRunner:
    """Runs a build's per-file work as Ray tasks (see the module notes).

    Made by :func:`ray_runner`; :func:`~rtsim.index.build.build_library` calls it with
    the build's folder, plugin, device, options, skip record and progress bar.
    """

    def __init__(self, *, folder: Path, plugin, device: str, config, skipped: dict,
                 bar=None, address: str | None = None, files_per_task: int = 32,
                 max_retries: int = 3, num_cpus: int | None = None,
                 num_gpus: float = 0.0) -> None:
        ray = _ray()
        if not ray.is_initialized():
            _check_reachable(address)
            try:
                ray.init(address=address, num_cpus=None if address else num_cpus,
                         include_dashboard=False, log_to_driver=False,
                         logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ConfigError(f"cannot reach the Ray cluster at {address!r}: {exc}") \
                    from exc
            self._owns = True
        else:
            self._owns = False
        self.folder, self.plugin, self.config = folder, plugin, config
        self.device = "cuda" if num_gpus > 0 else "cpu"  # where the task runs, not the driver
        self.skipped, self.bar = skipped, bar
        self.files_per_task = files_per_task
        self._task = ray.remote(_work).options(
            max_retries=max_retries, retry_exceptions=False, num_gpus=num_gpus,
            num_cpus=1)
        self._plugin_ref = ray.put(plugin)

    def counts(self, rels: list[str]) -> list[tuple[str, int]]:
        """Windows of each file that gives any, in folder order."""
        out = self._run(rels, "count", None, "features", record=False)  # embed records
        return [c for part in out for c in part]

    def windows(self, picks: dict[str, np.ndarray]) -> np.ndarray:
        """The picked windows, stacked in the order of ``picks``."""
        rels = list(picks)
        out = self._run(rels, "windows", picks, "fitting sample", record=False)
        return np.concatenate([w for part in out for w in part])

    def embed(self, rels: list[str], fitted_state) -> list:
        """Every item of ``rels`` with its vectors, in folder order."""
        out = self._run(rels, "embed", fitted_state, "embedding")
        return [p for part in out for p in part]

    def close(self) -> None:
        """Shut down the Ray instance this runner started (a cluster is left running)."""
        if self._owns:
            _ray().shutdown()
            self._owns = False

    def _run(self, rels: list[str], mode: str, arg, description: str, *,
             record: bool = True) -> list:
        """Each batch's result, in order; skips merged into ``self.skipped`` in order."""
        from rtsim.progress import progress_task

        ray = _ray()
        arg_ref = ray.put(arg)
        batches = [rels[i : i + self.files_per_task]
                   for i in range(0, len(rels), self.files_per_task)]
        window = max(8, 4 * int(ray.cluster_resources().get("CPU", 1)))  # tasks in flight
        results: list = [None] * len(batches)
        refs: dict = {}
        with progress_task(self.bar, description, total=len(rels)) as advance:
            queue = iter(enumerate(batches))
            for i, b in queue:  # fill the window, then one new task per finished one
                refs[self._submit(b, mode, arg_ref)] = i
                if len(refs) >= window:
                    break
            while refs:
                done, _ = ray.wait(list(refs), num_returns=1)
                i = refs.pop(done[0])
                results[i] = self._result(done[0], batches[i], mode, arg_ref)
                advance(len(batches[i]))
                nxt = next(queue, None)
                if nxt is not None:
                    refs[self._submit(nxt[1], mode, arg_ref)] = nxt[0]
        if record:
            for _, skips in results:
                _merge_skips(self.skipped, skips)
        return [r for r, _ in results]

    def _submit(self, rels: list[str], mode: str, arg_ref):
        return self._task.remote(str(self.folder), rels, self._plugin_ref, self.device,
                                 self.config, mode, arg_ref)

    def _result(self, ref, rels: list[str], mode: str, arg_ref):
        """A batch's result; a batch that failed after its retries is run file by file."""
        ray = _ray()
        try:
            return ray.get(ref)
        except (ray.exceptions.RayTaskError, ray.exceptions.WorkerCrashedError,
                ray.exceptions.NodeDiedError, ray.exceptions.TaskUnschedulableError) as exc:
            if len(rels) == 1:
                log.warning("skipping %s: its task failed after retries (%s)", rels[0],
                            type(exc).__name__)
                return ([], {CRASHED: list(rels)})
            log.warning("a batch of %d files failed after retries (%s); running them one "
                        "by one", len(rels), type(exc).__name__)
            parts, skips = [], {}
            for rel in rels:
                p, s = self._result(self._submit([rel], mode, arg_ref), [rel], mode, arg_ref)
                parts += p
                _merge_skips(skips, s)
            return parts, skips


def _work(folder: str, rels: list[str], plugin, device: str, config, mode: str, arg):
    """One Ray task: ``(result, skipped)`` of a batch of files (see :class:`RayRunner`)."""
    from rtsim.embed import state_hash
    from rtsim.features import make_frontend
    from rtsim.index.build import embed_file, plan_file

    key = (plugin.name, device)
    if _cache.get("key") != key:
        _cache.clear()
        _cache.update(key=key, frontend=make_frontend(plugin.spec.frontend, device=device))
    skipped: dict[str, list[str]] = {}
    if mode == "embed":
        state_key = "" if arg is None else state_hash(arg)  # "" != a missing entry
        if _cache.get("state") != state_key:
            _cache.update(state=state_key, embedder=plugin.load(device=device, state=arg))
    out = []
    for rel in rels:
        if os.environ.get(CRASH_ENV) == rel:  # fault injection for the tests
            os._exit(13)
        got = plan_file(Path(folder), rel, spec=plugin.spec, frontend=_cache["frontend"],
                        config=config, skipped=skipped)
        if got is None:
            continue
        fw, segs = got
        if mode == "count":
            out.append((rel, len(fw.windows)))
        elif mode == "windows":
            out.append(fw.windows[arg[rel]])
        else:
            out += embed_file(rel, fw, segs, embedder=_cache["embedder"], config=config,
                              skipped=skipped)
    return out, skipped


def _check_reachable(address: str | None, *, timeout_s: float = 5.0) -> None:
    """Fail fast on a ``HOST:PORT`` nothing listens on (Ray itself waits minutes)."""
    import socket

    if not address or address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Ray cluster at {address!r}: {exc} (start one "
                          "with `ray start --head`, or leave out the address)") from exc


def _merge_skips(into: dict[str, list[str]], skips: dict[str, list[str]]) -> None:
    for reason, files in skips.items():
        into.setdefault(reason, []).extend(files)


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise LibraryError("--ray needs Ray: pip install 'rtsim[ray]' (or pip install "
                           "'ray>=2.9')") from exc
    return ray
