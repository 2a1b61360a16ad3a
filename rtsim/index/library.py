"""A sample library on disk: FAISS index + SQLite items + 3-D map + manifest.

Folder layout::

    LIB/
      manifest.json          what built it (embedder, weights hash, front end, dim, metric,
                             count, build time) and the sha256 of every other file
      index.faiss            vectors (rows); a one-shot item has several rows
      items.sqlite           id, name, file, offset_s, length_s, labels
      map.safetensors        the 3-D projection, every item's xyz, and each row's item
      embedder.safetensors   the embedder state, for embedders fitted on the library

:func:`write_library` writes a complete folder next to the destination and swaps it in
atomically; :meth:`Library.open` verifies it and :meth:`Library.check` refuses a running
embedder it was not built for.
"""

from __future__ import annotations

import datetime as _dt
import logging
import shutil
import sqlite3
from pathlib import Path

import faiss
import numpy as np
import torch

from rtsim import __version__
from rtsim.embed import Embedder, EmbedderPlugin, load_state, save_state
from rtsim.errors import ConfigError, EmbedderError, LibraryError, LibraryMismatchError
from rtsim.features import identity
from rtsim.index.atomic import fsync_tree, remove_stale_siblings, replace_dir, temp_sibling
from rtsim.index.faiss_index import (
    DiskSearcher,
    IndexSpec,
    Searcher,
    build_index,
    gpu_available,
    gpu_flat_index,
    index_kind,
    prepared_chunks,
    stored_vectors,
)
from rtsim.index.manifest import Manifest, sha256_file
from rtsim.index.metadata import (
    FileStat,
    Item,
    ItemFiles,
    read_file_stats,
    read_item_files,
    read_items,
    read_names,
    write_items,
)
from rtsim.index.paths import MANIFEST, library_folder
from rtsim.index.projection import Projection, fit_projection

__all__ = ["Library", "write_library", "golden_vector", "GOLDEN_TOLERANCE", "SEARCHES"]

log = logging.getLogger(__name__)

#: Who searches a library (:meth:`Library.use_device`).
SEARCHES = ("auto", "faiss", "torch")

INDEX, ITEMS, MAP, STATE, VECTORS = (
    "index.faiss", "items.sqlite", "map.safetensors", "embedder.safetensors", "vectors.npy"
)


class Library:
    """A loaded library, ready to search. Use :meth:`open`."""

    def __init__(self, path: Path, manifest: Manifest, searcher: Searcher, names: list[str],
                 projection: Projection, xyz: np.ndarray, row_item: np.ndarray,
                 embedder_state: dict[str, torch.Tensor] | None) -> None:
        self.path = path
        self.manifest = manifest
        self.searcher = searcher
        self._cpu_searcher = searcher
        self.index = searcher.index  # the FAISS index as loaded (host memory)
        self.search_backend = "faiss-cpu"
        self.names = names
        self._files: ItemFiles | None = None
        self.projection = projection
        self.xyz = xyz
        self.row_item = row_item
        self.rows_per_item = int(np.bincount(row_item).max()) if len(row_item) else 1
        self.embedder_state = embedder_state

    # -- loading ---------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, *, verify: bool = True) -> Library:
        """Load and check a library folder.

        Parameters
        ----------
        path : path-like
        verify : bool
            Check every file's sha256 against the manifest (catches bit flips FAISS
            would load without complaint).
        """
        path = library_folder(path)
        m = Manifest.read(path / MANIFEST)
        for name, digest in m.files.items():
            f = path / name
            if not f.is_file():
                raise LibraryError(f"library {path} is incomplete: {name} is missing")
            if verify and sha256_file(f) != digest:
                raise LibraryError(f"library {path}: {name} is corrupt (sha256 mismatch)")
        try:
            index = faiss.read_index(str(path / INDEX))
        except RuntimeError as exc:
            raise LibraryError(f"library {path}: cannot read {INDEX}: {exc}") from exc
        names = read_names(path / ITEMS)
        mp = load_state(path / MAP)
        xyz, row_item = mp.pop("xyz").numpy(), mp.pop("row_item").numpy()
        state = load_state(path / STATE) if m.fitted else None
        if m.index_kind == "disk":  # codes in memory, vectors mapped from disk
            refine = int(m.build_config.get("index", {}).get("refine", IndexSpec.refine))
            try:
                searcher = DiskSearcher(index, np.load(path / VECTORS, mmap_mode="r"),
                                        metric=m.metric, refine=refine)
            except (OSError, ValueError) as exc:
                raise LibraryError(f"library {path}: cannot map {VECTORS}: {exc}") from exc
        else:
            searcher = Searcher(index, metric=m.metric)
        lib = cls(path, m, searcher, names, Projection.from_state(mp), xyz, row_item, state)
        lib._check_consistent()
        return lib

    def _check_consistent(self) -> None:
        m, n, rows = self.manifest, len(self.names), self.searcher.count
        if not (n == m.count == len(self.xyz) and rows == m.rows == len(self.row_item)):
            raise LibraryError(
                f"library {self.path} is inconsistent: {m.count} items and {m.rows} vectors in "
                f"the manifest, {n} items in the table, {len(self.xyz)} in the map, {rows} "
                f"vectors in the index, {len(self.row_item)} row owners"
            )
        if rows and not (0 <= self.row_item.min() and self.row_item.max() < n):
            raise LibraryError(f"library {self.path}: a vector belongs to no item")
        if self.searcher.dim != m.dim:
            raise LibraryError(f"library {self.path}: index dim {self.searcher.dim} != {m.dim}")

    def use_device(self, device: str, *, search: str = "auto") -> str:
        """Search on ``device`` from now on; returns who searches.

        ``cpu``: the FAISS index (``search="torch"``: exact torch search on the CPU).
        ``cuda``: the library is copied to the GPU, as a FAISS GPU flat index (fp16) when
        the installed FAISS has GPU support (``pip install rtsim[gpu]``) and ``search`` is
        not ``"torch"``, otherwise as a :class:`~rtsim.index.torch_search.TorchSearcher`.
        GPU searches are exact whatever the library's own index kind.

        Returns
        -------
        str
            ``"faiss-cpu"``, ``"faiss-gpu"``, ``"torch-cpu"`` or ``"torch-cuda"``.

        Raises
        ------
        ConfigError
            ``search="faiss"`` on CUDA without a GPU build of FAISS.
        LibraryError
            The index keeps only compressed codes (``ivfpq``), or the library does not fit
            in the device's free memory (the message names the sizes).
        """
        from rtsim.index.torch_search import TorchSearcher

        if search not in SEARCHES:
            raise ConfigError(f"search={search!r} must be one of {SEARCHES}")
        dev = torch.device(device)
        if dev.type == "cpu" and search != "torch":
            self.searcher = self._cpu_searcher
            self.search_backend = "faiss-cpu"
            return self.search_backend
        if search == "faiss" and not gpu_available():
            raise ConfigError("search='faiss' on CUDA needs FAISS built with GPU support "
                              "(pip install 'rtsim[gpu]'); search='auto' uses torch instead")
        vectors = self.vectors()
        if vectors is None:
            raise LibraryError(
                f"library {self.path} keeps only compressed codes ({self.manifest.index_kind}) "
                f"and cannot be searched exactly on {dev.type}; rebuild it with --index flat, "
                "hnsw or ivf, or search on the CPU")
        metric = self.manifest.metric
        if search != "torch" and gpu_available():
            self.searcher = Searcher(gpu_flat_index(vectors, metric=metric), metric=metric)
            self.search_backend = "faiss-gpu"
        else:
            self.searcher = TorchSearcher(vectors, metric=metric, device=dev)
            self.search_backend = f"torch-{dev.type}"
        return self.search_backend

    # -- pairing with an embedder ------------------------------------------------------
    def load_embedder(self, plugin: EmbedderPlugin, *, device: str = "cpu",
                      backend: str = "eager") -> Embedder:
        """Load ``plugin`` for this library (with the library's state if fitted) and check it."""
        if plugin.fitted and self.embedder_state is None:
            raise EmbedderError(f"library {self.path} stores no state for {plugin.name}")
        emb = plugin.load(device=device, state=self.embedder_state if plugin.fitted else None,
                          backend=backend)
        self.check(emb)
        return emb

    def check(self, embedder: Embedder) -> None:
        """Raise :class:`~rtsim.errors.LibraryMismatchError` unless built for ``embedder``.

        Besides the manifest's declarations, the embedder must reproduce the golden
        self-test vector recorded at build time (a fixed probe signal through the same
        front end and model): a model or front end that computes differently is refused
        even when its declarations match.
        """
        s = embedder.spec
        self.manifest.check_embedder(
            name=s.name, weights_hash=embedder.weights_hash, frontend=identity(s.frontend),
            dim=s.dim, metric=s.metric,
        )
        if self.manifest.golden:
            want = np.asarray(self.manifest.golden, np.float32)
            got = golden_vector(embedder)
            err = float(np.max(np.abs(got - want))) / (1.0 + float(np.max(np.abs(want))))
            if not err <= GOLDEN_TOLERANCE:
                raise LibraryMismatchError(
                    f"library {self.path}: the embedder's self-test embedding differs from the "
                    f"one recorded at build time (error {err:.2e} > {GOLDEN_TOLERANCE:g}); "
                    "rebuild the library")

    # -- queries ---------------------------------------------------------------------
    @property
    def files(self) -> ItemFiles:
        """Each item's absolute file path, offset and length (read on first use, kept)."""
        if self._files is None:
            self._files = read_item_files(self.path / ITEMS, self.source_root)
        return self._files

    @property
    def source_root(self) -> Path:
        """The folder the library was built from: items' files are relative to it."""
        return Path(self.manifest.source.get("folder") or self.path)

    @property
    def count(self) -> int:
        """Number of items."""
        return len(self.names)

    @property
    def subspaces(self) -> list[tuple[int, int]]:
        """The ``[start, stop)`` slices of the embedder's named subspaces (may be empty)."""
        return [(s["start"], s["stop"]) for s in self.manifest.embedder_spec.get("subspaces", [])]

    def search(self, vector: np.ndarray, k: int, *, weights: np.ndarray | None = None,
               unit: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest *items* to one vector, best first.

        An item's distance is that of its nearest vector; ids are item ids (never -1).

        Parameters
        ----------
        vector : np.ndarray, shape (dim,)
        k : int
        weights : np.ndarray, shape (n_subspaces,), optional
            Subspace weights (libraries of embedders whose subspaces are unit vectors
            searched by inner product, e.g. ``disentangled``). The ranking is then exactly
            that of ``Σ w_s ‖q_s - x_s‖²``, which is also the distance reported.
        unit : bool
            ``vector`` is unit length already (an embedder's own output): a cosine
            library does not normalise it again.

        Returns
        -------
        ids : np.ndarray, shape (m,), int64, m <= k
        distances : np.ndarray, shape (m,), float32, ascending
        """
        if weights is not None:
            vector = np.asarray(vector, np.float32) * self.query_scale(weights)
        rows, dist = self.searcher.search(vector, k * self.rows_per_item, unit=unit)
        return self.best_items(rows, dist, k, weights=weights)

    def best_items(self, rows: np.ndarray, distances: np.ndarray, k: int, *,
                   weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The first ``k`` distinct items owning ``rows`` (best first), with distances.

        ``distances`` as a searcher reports them; with ``weights``, those of the query
        scaled by :meth:`query_scale`, turned into the weighted distances.
        """
        if weights is not None:
            distances = self.weighted_distances(distances, weights)
        items = self.row_item[rows]
        if self.rows_per_item == 1:  # one row per item: rows are distinct items already
            return items[:k].astype(np.int64), distances[:k]
        _, first = np.unique(items, return_index=True)
        keep = np.sort(first)[:k]
        return items[keep].astype(np.int64), distances[keep]

    def query_scale(self, weights: np.ndarray) -> np.ndarray:
        """Per-dimension factors of a weighted query, shape (dim,) (1 outside subspaces).

        With unit subspaces ``‖q_s - x_s‖² = 2 - 2 q_s·x_s``, so ``Σ w_s ‖q_s - x_s‖² =
        2 Σ w_s - 2 Σ (w_s q_s)·x_s``: the largest inner product of the scaled query is the
        nearest (see :meth:`weighted_distances`).
        """
        slices = self.subspaces
        w = np.asarray(weights, np.float32)
        if self.manifest.metric != "ip" or len(slices) != len(w):
            raise LibraryError(
                f"library {self.path}: subspace weights need an inner-product library with "
                f"{len(w)} subspaces (it has metric {self.manifest.metric!r} and "
                f"{len(slices)} subspaces)")
        scale = np.ones(self.manifest.dim, np.float32)
        for (lo, hi), ws in zip(slices, w, strict=True):
            scale[lo:hi] = ws
        return scale

    @staticmethod
    def weighted_distances(neg_ip: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``Σ w_s ‖q_s - x_s‖²`` from an ip search's ``-<scaled q, x>`` distances."""
        return (2 * np.asarray(weights, np.float32).sum() + 2 * neg_ip).astype(np.float32)

    def project(self, vector: np.ndarray) -> np.ndarray:
        """Position of a vector (shape (dim,)) in the library's 3-D map, shape (3,)."""
        return self.projection(vector)

    def all_items(self) -> list[Item]:
        """Every item, in id order."""
        return read_items(self.path / ITEMS)

    def vectors(self) -> np.ndarray | None:
        """Every stored vector (row order), or None when the index keeps only codes.

        A ``disk`` library's are memory-mapped (read from disk as they are touched).
        """
        if isinstance(self._cpu_searcher, DiskSearcher):
            return self._cpu_searcher.vectors
        return stored_vectors(self.index)

    def file_stats(self) -> dict[str, FileStat]:
        """The source files it was built from: relative path -> (size, mtime_ns)."""
        return read_file_stats(self.path / ITEMS)

    def items(self, ids) -> list[Item]:
        """Full metadata of some items."""
        return read_items(self.path / ITEMS, [int(i) for i in ids])


GOLDEN_TOLERANCE = 1e-3


def golden_vector(embedder: Embedder) -> np.ndarray:
    """The embedding of a fixed probe (a 3-s rising sweep and noise) through ``embedder``.

    Recorded in every library at build time and recomputed when a running embedder is
    checked against the library.
    """
    from rtsim.audio.synth import synth_signal

    fe = embedder.frontend()
    sr = embedder.spec.frontend.sr
    x = synth_signal("sweep:80-4000:3", sr=sr, n=3 * sr) + 0.05 * synth_signal(
        "noise", sr=sr, n=3 * sr, seed=7)
    frames = fe.offline(x.astype(np.float32), primed=True).cpu().numpy()
    window = frames[-embedder.spec.window :]
    return embedder(window[None])[0]


def _save_prepared(path: Path, vectors: np.ndarray, metric: str) -> None:
    """``vectors`` as a ``disk`` index re-ranks them (unit rows for cosine), chunk by chunk."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=vectors.shape)
    i = 0
    for chunk in prepared_chunks(vectors, metric):
        out[i : i + len(chunk)] = chunk
        i += len(chunk)
    out.flush()
    del out


def write_library(out: str | Path, *, embedder: Embedder, vectors: np.ndarray,
                  items: list[Item], row_item: np.ndarray | None = None,
                  fitted_state: dict[str, torch.Tensor] | None = None,
                  index_spec: IndexSpec = IndexSpec(), source: dict | None = None,
                  build_config: dict | None = None, files: dict[str, FileStat] | None = None,
                  keep_old: Path | None = None) -> Manifest:
    """Write a complete library to ``out`` atomically (never a partial one).

    Parameters
    ----------
    out : path-like
        Destination folder; an existing *library* there is replaced, any other existing
        folder is refused.
    embedder : Embedder
        The embedder the vectors come from.
    vectors : np.ndarray, shape (rows, dim)
    items : list of Item
    row_item : np.ndarray, shape (rows,), optional
        The item each vector belongs to (default: vector i is item i).
    fitted_state : dict or None
        State of a fitted embedder, stored as ``embedder.safetensors``.
    files : dict, optional
        The source files (relative path -> size, mtime_ns), for ``index build --update``.
    keep_old : path-like, optional
        Move the library being replaced there instead of deleting it (a backup).
    """
    out = Path(out)
    spec = embedder.spec
    row_item = np.arange(len(vectors)) if row_item is None else np.asarray(row_item)
    if len(items) == 0 or len(row_item) != len(vectors) or \
            not np.array_equal(np.unique(row_item), np.arange(len(items))):
        raise LibraryError(
            f"every one of the {len(items)} items (> 0) needs at least one of the "
            f"{len(vectors)} vectors, and every vector an item"
        )
    if out.exists() and not (out / MANIFEST).is_file():
        raise LibraryError(f"refusing to replace {out}: it exists and is not an rtsim library")
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_siblings(out)
    tmp = temp_sibling(out)
    try:
        kind = index_kind(index_spec, len(vectors), spec.dim)
        faiss.write_index(build_index(vectors, metric=spec.metric, spec=index_spec),
                          str(tmp / INDEX))
        if kind == "disk":
            _save_prepared(tmp / VECTORS, vectors, spec.metric)
        write_items(tmp / ITEMS, items, files)
        projection = fit_projection(vectors, native=spec.native_xyz)
        row_xyz = projection(vectors)
        xyz = np.zeros((len(items), 3), np.float32)
        np.add.at(xyz, row_item, row_xyz)
        xyz /= np.bincount(row_item, minlength=len(items))[:, None]
        save_state({**projection.state(), "xyz": torch.from_numpy(xyz),
                    "row_item": torch.from_numpy(row_item.astype(np.int64))}, tmp / MAP)
        if fitted_state is not None:
            save_state(fitted_state, tmp / STATE)
        manifest = Manifest(
            embedder=spec.name, embedder_spec=spec.to_dict(), weights_hash=embedder.weights_hash,
            fitted=fitted_state is not None, frontend=identity(spec.frontend), dim=spec.dim,
            metric=spec.metric, count=len(items), rows=len(vectors),
            index_kind=kind,
            xyz="native" if spec.native_xyz else "pca",
            built_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            rtsim_version=__version__, source=source or {}, build_config=build_config or {},
            golden=golden_vector(embedder).tolist(),
            files={p.name: sha256_file(p) for p in sorted(tmp.iterdir())},
        )
        manifest.write(tmp / MANIFEST)
        fsync_tree(tmp)
        replace_dir(tmp, out, keep_old=Path(keep_old) if keep_old else None)
    except (OSError, sqlite3.Error, RuntimeError) as exc:  # disk full, I/O, FAISS write
        shutil.rmtree(tmp, ignore_errors=True)
        free = shutil.disk_usage(out.parent).free
        raise LibraryError(
            f"could not write the library {out} ({exc}; {free / 2**20:.1f} MiB free on its "
            f"file system); the previous library, if any, is unchanged") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("library %s: %d items, %s index", out, len(items), manifest.index_kind)
    return manifest
