"""Build a library from a folder of audio: scan, frame, window, embed, index, write.

Every regular file under the folder is tried; unreadable, truncated, empty, non-audio and
silent files are skipped with a warning naming the file and the reason, and counted in
the report and the manifest. One-shots (files up to ``oneshot_max_s``) become one item
each, searched through several vectors: the windows a live stream would show at its
attack, body and decay (``oneshot_vectors`` of them, evenly spaced from the attack), so a
live window matches the sample at the same phase of its sound, and a trigger's attack
window matches attacks. Longer files are cut where the sound changes
(:mod:`rtsim.index.segment`): one item per hit of a loop, one per held note, each searched
like a one-shot.

A library is never lost: building over an existing one is refused unless the caller asks
to replace it (the old one is kept as a dated backup beside it) or to update it (new and
changed files are embedded, unchanged ones keep their vectors, removed ones are
dropped; files are compared by path, size and modification time). Nothing is written
unless the whole build succeeds (see :func:`~rtsim.index.library.write_library`).
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rtsim.audio.files import load_audio
from rtsim.embed import Embedder, EmbedderPlugin, frame_windows
from rtsim.errors import (
    AudioFileError,
    ConfigError,
    EmbedderError,
    LibraryError,
    LibraryMismatchError,
    TruncatedAudioError,
)
from rtsim.features import FrontEnd, make_frontend
from rtsim.features.onset import level_db
from rtsim.index.faiss_index import IndexSpec
from rtsim.index.library import Library, write_library
from rtsim.index.manifest import Manifest
from rtsim.index.metadata import FileStat, Item
from rtsim.index.paths import EXISTING, MANIFEST, audio_folder, check_destination
from rtsim.index.segment import SEGMENT_MODES, Segment, segments
from rtsim.progress import progress_bar, track

__all__ = ["BuildConfig", "BuildReport", "FileWindows", "file_windows", "build_library",
           "embed_windows", "oneshot_vectors", "clip_vector", "LocalRunner", "plan_file",
           "embed_file", "fit_picks", "EXISTING", "SHRINK_RATIO"]

log = logging.getLogger(__name__)

SHRINK_RATIO = 0.5
"""An update that would keep fewer than this fraction of the library's files stops."""


@dataclass(frozen=True)
class BuildConfig:
    """Library build options.

    Parameters
    ----------
    oneshot_max_s : float
        Files up to this long are one-shots (one item each).
    oneshot_vectors : int
        Vectors kept per item, evenly spaced from its first window to its last
        (0: a single vector, the mean embedding of all its windows).
    silence_db : float
        Windows whose newest hop is quieter than this (dBFS) are not indexed.
    segment : {"onsets", "windows"}
        How a longer file becomes items (:mod:`rtsim.index.segment`).
    segment_max_s : float
        Longest item cut from a longer file (a stretch without onsets is split).
    max_items_per_file : int
        Most items one file may give.
    batch : int
        Windows per model call.
    index : IndexSpec
    fit_max_windows : int
        Windows sampled to fit a fitted embedder (``pca``).
    seed : int
    """

    oneshot_max_s: float = 5.0
    oneshot_vectors: int = 8
    silence_db: float = -60.0
    segment: str = "onsets"
    segment_max_s: float = 5.0
    max_items_per_file: int = 200
    batch: int = 256
    index: IndexSpec = field(default_factory=IndexSpec)
    fit_max_windows: int = 50_000
    seed: int = 0

    def __post_init__(self) -> None:
        finite = all(np.isfinite([self.oneshot_max_s, self.silence_db, self.segment_max_s]))
        if (not finite or self.oneshot_max_s < 0 or self.oneshot_vectors < 0 or self.batch < 1
                or self.fit_max_windows < 1 or self.segment_max_s <= 0
                or self.max_items_per_file < 1):
            raise ConfigError(
                f"invalid build options: oneshot_max_s={self.oneshot_max_s} (finite, >= 0), "
                f"oneshot_vectors={self.oneshot_vectors} (>= 0), silence_db={self.silence_db} "
                f"(finite), segment_max_s={self.segment_max_s} (> 0), max_items_per_file="
                f"{self.max_items_per_file} (>= 1), batch={self.batch} (>= 1), "
                f"fit_max_windows={self.fit_max_windows} (>= 1)"
            )
        if self.segment not in SEGMENT_MODES:
            raise ConfigError(f"segment={self.segment!r} must be one of {SEGMENT_MODES}")


@dataclass
class BuildReport:
    """What a build did.

    ``kept`` counts files whose items an update carried over unchanged; ``backup`` is
    where a replaced library was moved.
    """

    manifest: Manifest
    files_indexed: int
    skipped: dict[str, list[str]]
    seconds: float
    kept: int = 0
    removed: int = 0
    backup: Path | None = None

    @property
    def n_skipped(self) -> int:
        """Files skipped, all reasons together."""
        return sum(len(v) for v in self.skipped.values())


@dataclass(frozen=True)
class FileWindows:
    """The model windows of one file.

    Attributes
    ----------
    windows : array, shape (m, window, n_bins)
    ends_s : np.ndarray, shape (m,)
        Time in the file (s) of each window's newest sample.
    oneshot : bool
        The windows are to be averaged into one item.
    """

    windows: np.ndarray
    ends_s: np.ndarray
    oneshot: bool


def file_windows(x: np.ndarray, *, frontend: FrontEnd, window: int, hop: int,
                 oneshot_max_s: float, silence_db: float) -> FileWindows:
    """Cut one file's audio (mono, at the front end's rate) into the windows to embed.

    Frames are those of a live stream starting at the file (``offline(primed=True)``). A
    one-shot's window history also starts with silence frames, as a live window's does,
    so its first window ends one frame into the sound, and the sound is followed by one
    window hop of silence; windows whose newest hop is silent are dropped (a one-shot
    keeps at least its loudest window).
    """
    p = frontend.properties
    step = hop * p.hop_length  # samples between windows
    oneshot = len(x) <= oneshot_max_s * p.sr or len(x) < window * p.hop_length
    tail = np.zeros(step if oneshot else 0, np.float32)
    frames = frontend.offline(np.concatenate([x, tail]), primed=True).cpu().numpy()
    lead = window - 1 if oneshot else 0
    if lead:
        frames = np.concatenate([np.repeat(frontend.silence_frame()[None], lead, 0), frames])
    wins = frame_windows(frames, window=window, hop=hop)
    ends = (np.arange(len(wins)) * hop + window - lead) * p.hop_length  # file samples
    if oneshot:
        keep = ends <= len(x) + step - 1
        wins, ends = wins[keep], ends[keep]
    levels = np.array([level_db(x[max(0, e - step) : max(0, e)]) for e in ends])
    loud = levels >= silence_db
    if oneshot and not loud.any() and len(levels):
        loud[int(np.argmax(levels))] = levels.max() > -120.0
    return FileWindows(windows=wins[loud], ends_s=ends[loud] / p.sr, oneshot=oneshot)


def embed_windows(embedder: Embedder, windows: np.ndarray, *, batch: int) -> np.ndarray:
    """Embed windows in batches; shape (m, window, n_bins) -> (m, dim) float32."""
    out = [embedder(np.ascontiguousarray(windows[i : i + batch]))
           for i in range(0, len(windows), batch)]
    return np.concatenate(out) if out else np.zeros((0, embedder.spec.dim), np.float32)


def clip_vector(embedder: Embedder, path) -> np.ndarray:
    """Song-level embedding of an audio file: the mean of its non-overlapping windows.

    Subspaces (if the embedder has any) are re-normalised on their own, as stored
    (Lee et al.'s song-level embedding). Shape (dim,), float32.
    """
    spec = embedder.spec
    x, _ = load_audio(path, sr=spec.frontend.sr)
    frames = embedder.frontend().offline(x, primed=True).cpu().numpy()
    windows = frame_windows(frames, window=spec.window, hop=spec.window)
    if len(windows) == 0:
        windows = frame_windows(frames, window=spec.window, hop=1)[-1:]
    if len(windows) == 0:
        raise AudioFileError(f"{path}: shorter than one model window")
    v = embedder(np.ascontiguousarray(windows)).mean(0)
    for s in spec.subspaces:
        v[s.start : s.stop] /= max(float(np.linalg.norm(v[s.start : s.stop])), 1e-12)
    return v


def build_library(folder: str | Path, out: str | Path, *, plugin: EmbedderPlugin,
                  device: str = "cpu", config: BuildConfig = BuildConfig(),
                  progress: bool = True, existing: str = "refuse",
                  runner=None) -> BuildReport:
    """Index every audio file under ``folder`` into the library ``out``.

    Parameters
    ----------
    existing : {"refuse", "replace", "update"}
        When ``out`` is already a library: refuse (the default), replace it (the old one
        is moved to ``OUT.backup-<UTC time>`` beside it), or update it (only new and
        changed files are embedded; an update that would keep fewer than
        :data:`SHRINK_RATIO` of its files stops: a wrong folder, or an unmounted disk).
    runner : callable, optional
        Makes the object that decodes and embeds the files (``runner(folder=, plugin=,
        device=, config=, skipped=, bar=)``, with :class:`LocalRunner`'s methods); the
        default is this process (:class:`LocalRunner`), a Ray cluster is
        :class:`rtsim.index.distributed.RayRunner`. Whoever runs them, files are merged in
        folder order, so the library is the same.

    Raises
    ------
    LibraryError
        When the folder is missing or yields no item, or ``out`` is a library and
        ``existing`` does not say what to do with it (nothing is written then).
    """
    t0 = time.perf_counter()
    folder, out = audio_folder(folder), Path(out)
    prior = _prior(out, existing)
    spec = plugin.spec
    files = _scan(folder)
    stats = {p.relative_to(folder).as_posix(): _stat(p) for p in files}
    old_vectors = prior.vectors() if prior is not None else None  # read once
    kept = _kept(prior, old_vectors, stats) if prior is not None else {}
    skipped: dict[str, list[str]] = {}
    with progress_bar(progress) as bar:
        todo = [rel for rel in stats if rel not in kept]  # folder order
        run = runner(folder=folder, plugin=plugin, device=device, config=config,
                     skipped=skipped, bar=bar) if runner else \
            LocalRunner(folder=folder, plugin=plugin, device=device, config=config,
                        skipped=skipped, bar=bar)
        fitted_state = prior.embedder_state if prior is not None else None
        embedder = _same_embedder(prior, plugin, device) if prior is not None else None
        try:
            if prior is None and plugin.fitted:
                counts = run.counts(todo)
                if not counts:
                    raise _nothing(folder, files, skipped)
                fitted_state = plugin.fit(run.windows(fit_picks(counts, config)), spec)
            parts = _carried(prior, old_vectors, kept) if kept else []
            parts += run.embed(todo, fitted_state)
        finally:
            getattr(run, "close", lambda: None)()
        if not parts:
            raise _nothing(folder, files, skipped)
        embedder = embedder or plugin.load(device=device, state=fitted_state)
    n_files = len({item.file for item, _ in parts})
    removed = _check_shrink(prior, n_files, stats) if prior is not None else 0
    items, vectors, row_item = _assemble(parts)
    backup = _backup_name(out) if existing == "replace" and (out / MANIFEST).is_file() else None
    indexed = {f: stats[f] for f in {it.file for it in items}}
    manifest = write_library(
        out, embedder=embedder, vectors=vectors, items=items, row_item=row_item,
        fitted_state=fitted_state if plugin.fitted else None, index_spec=config.index,
        source={"folder": str(folder.resolve()), "files_found": len(files),
                "files_indexed": n_files, "skipped": {k: len(v) for k, v in skipped.items()},
                **({"update": {"kept": len(kept), "embedded": n_files - len(kept),
                               "removed": removed}} if prior is not None else {})},
        build_config=_jsonable(asdict(config)), files=indexed, keep_old=backup,
    )
    return BuildReport(manifest, n_files, skipped, time.perf_counter() - t0, kept=len(kept),
                       removed=removed, backup=backup)


def _nothing(folder: Path, files: list[Path], skipped: dict[str, list[str]]) -> LibraryError:
    return LibraryError(f"no audio to index in {folder}: {len(files)} files, "
                        + (", ".join(f"{len(v)} {k}" for k, v in skipped.items())
                           or "none found"))


def _prior(out: Path, existing: str) -> Library | None:
    """The library an update starts from; refuse what ``existing`` does not allow."""
    return Library.open(out) if check_destination(out, existing) else None


def _same_embedder(prior: Library, plugin: EmbedderPlugin, device: str) -> Embedder:
    """The embedder an update must use: the library's own (weights, fitted state)."""
    try:
        return prior.load_embedder(plugin, device=device)
    except (LibraryMismatchError, EmbedderError) as exc:
        raise LibraryError(f"cannot --update {prior.path} with {plugin.name}: {exc}; "
                           "use --replace to rebuild it") from exc


def _kept(prior: Library, old_vectors: np.ndarray | None,
          stats: dict[str, FileStat]) -> dict[str, FileStat]:
    """Files an update can carry over: same path, size and modification time."""
    if old_vectors is None:
        log.warning("library %s keeps only compressed vectors: every file is re-embedded",
                    prior.path)
        return {}
    old = prior.file_stats()
    return {f: st for f, st in stats.items() if old.get(f) == st}


def _carried(prior: Library, old_vectors: np.ndarray,
             kept: dict[str, FileStat]) -> list[tuple[Item, np.ndarray]]:
    """The kept files' items, each with its vectors, from the old library."""
    items = prior.all_items()
    order = np.argsort(prior.row_item, kind="stable")  # rows grouped by item, in row order
    per_item = np.split(old_vectors[order],
                        np.cumsum(np.bincount(prior.row_item, minlength=len(items)))[:-1])
    return [(it, v) for it, v in zip(items, per_item, strict=True) if it.file in kept]


def _check_shrink(prior: Library, n_files: int, stats: dict[str, FileStat]) -> int:
    """Files the update drops; stop when it would keep too few of the library's files."""
    before = int(prior.manifest.source.get("files_indexed") or 0)
    removed = len(set(prior.file_stats()) - set(stats))
    if before and n_files < SHRINK_RATIO * before:
        raise LibraryError(
            f"this update would shrink {prior.path} from {before} files to {n_files} "
            f"({removed} no longer found under the folder); pass --replace if that is meant")
    return removed


class LocalRunner:
    """Decodes and embeds a build's files in this process (the default runner).

    A runner answers three calls, each over relative paths in folder order, and records
    skipped files in ``skipped`` as a local build does:

    - ``counts(rels)``: ``[(rel, windows)]`` of the files that give windows (only a
      fitted embedder asks, to draw its fitting sample);
    - ``windows(picks)``: the windows ``{rel: indices}`` names, stacked;
    - ``embed(rels, fitted_state)``: ``[(Item, vectors)]`` of every item, in order.
    """

    def __init__(self, *, folder: Path, plugin: EmbedderPlugin, device: str,
                 config: BuildConfig, skipped: dict[str, list[str]], bar=None) -> None:
        self.folder, self.plugin, self.device, self.config = folder, plugin, device, config
        self.skipped, self.bar = skipped, bar
        self.frontend = make_frontend(plugin.spec.frontend, device=device)
        self._planned: dict[str, tuple[FileWindows, list[Segment]]] | None = None

    def _plan(self, rels: list[str]) -> dict[str, tuple[FileWindows, list[Segment]]]:
        if self._planned is None:
            self._planned = {}
            for rel in track(rels, total=len(rels), description="features", bar=self.bar):
                got = plan_file(self.folder, rel, spec=self.plugin.spec,
                                frontend=self.frontend, config=self.config,
                                skipped=self.skipped)
                if got is not None:
                    self._planned[rel] = got
        return self._planned

    def counts(self, rels: list[str]) -> list[tuple[str, int]]:
        """Windows of each file that gives any, in order."""
        return [(rel, len(fw.windows)) for rel, (fw, _) in self._plan(rels).items()]

    def windows(self, picks: dict[str, np.ndarray]) -> np.ndarray:
        """The picked windows of each file, stacked in the order of ``picks``."""
        planned = self._planned or {}  # planned by counts(), which a draw follows
        return np.concatenate([planned[rel][0].windows[i] for rel, i in picks.items()])

    def embed(self, rels: list[str], fitted_state) -> list[tuple[Item, np.ndarray]]:
        """Every item of ``rels`` with its vectors."""
        planned = self._plan(rels)
        embedder = self.plugin.load(device=self.device, state=fitted_state)
        parts = []
        for rel, (fw, segs) in track(list(planned.items()), total=len(planned),
                                     description="embedding", bar=self.bar):
            parts += embed_file(rel, fw, segs, embedder=embedder, config=self.config,
                                skipped=self.skipped)
        return parts


def plan_file(folder: Path, rel: str, *, spec, frontend: FrontEnd, config: BuildConfig,
              skipped: dict[str, list[str]]) -> tuple[FileWindows, list[Segment]] | None:
    """Decode and window one file; its windows and the items (segments) it will give.

    None (and the file recorded in ``skipped``) when it is truncated, unreadable or silent.
    """
    try:
        x, _ = load_audio(folder / rel, sr=spec.frontend.sr, mono=True)
    except TruncatedAudioError as exc:
        _skip(skipped, "truncated", rel, str(exc))
        return None
    except AudioFileError as exc:
        _skip(skipped, "unreadable or not audio", rel, str(exc))
        return None
    fw = file_windows(x, frontend=frontend, window=spec.window, hop=spec.hop,
                      oneshot_max_s=config.oneshot_max_s, silence_db=config.silence_db)
    if len(fw.windows) == 0:
        _skip(skipped, "silent", rel, f"no window above {config.silence_db} dBFS")
        return None
    sr = spec.frontend.sr
    if fw.oneshot:
        return fw, [Segment(0.0, len(x) / sr, np.arange(len(fw.windows)))]
    return fw, segments(x, sr, np.round(fw.ends_s * sr).astype(np.int64),
                        mode=config.segment, window_s=spec.window * spec.frontend.hop_length / sr,
                        max_s=config.segment_max_s, max_items=config.max_items_per_file,
                        frames=fw.windows[:, -1, :])


def embed_file(rel: str, fw: FileWindows, segs: list[Segment], *, embedder: Embedder,
               config: BuildConfig, skipped: dict[str, list[str]]) -> list[tuple[Item, np.ndarray]]:
    """One planned file's items with their vectors ([] if its embedding is not finite)."""
    v = embed_windows(embedder, fw.windows, batch=config.batch)
    if not np.isfinite(v).all():
        _skip(skipped, "non-finite embedding", rel, "the model returned NaN/Inf")
        return []
    return [(item, oneshot_vectors(v[seg.windows], n=config.oneshot_vectors,
                                   metric=embedder.spec.metric))
            for item, seg in zip(_items(rel, fw, segs), segs, strict=True)]


def _assemble(parts) -> tuple[list[Item], np.ndarray, np.ndarray]:
    """Items, vectors and each vector's item from ``(item, vectors)`` parts (at least one)."""
    items = [it for it, _ in parts]
    vectors = np.concatenate([v for _, v in parts]).astype(np.float32)
    row_item = np.repeat(np.arange(len(parts)), [len(v) for _, v in parts])
    return items, vectors, row_item


def _backup_name(out: Path) -> Path:
    """``OUT.backup-YYYYmmddTHHMMSSZ`` beside ``out`` (a new name if that one is taken)."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path, n = out.with_name(f"{out.name}.backup-{stamp}"), 1
    while path.exists():
        path, n = out.with_name(f"{out.name}.backup-{stamp}-{n}"), n + 1
    return path


def _stat(path: Path) -> FileStat:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _scan(folder: Path) -> list[Path]:
    """Every regular, non-hidden file under ``folder``, sorted."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _skip(skipped: dict[str, list[str]], reason: str, rel: str, detail: str) -> None:
    log.warning("skipping %s: %s", rel, detail)
    skipped.setdefault(reason, []).append(rel)


def fit_picks(counts: list[tuple[str, int]], config: BuildConfig) -> dict[str, np.ndarray]:
    """The windows a fitted embedder is fitted on: ``{rel: window indices}``.

    ``counts`` is ``[(rel, windows)]`` in folder order; at most ``fit_max_windows`` are
    drawn uniformly over all windows (seeded), so any runner draws the same ones.
    """
    sizes = np.array([n for _, n in counts], np.int64)
    total = int(sizes.sum())
    rng = np.random.default_rng(config.seed)
    pick = np.sort(rng.choice(total, size=min(total, config.fit_max_windows), replace=False))
    owner = np.searchsorted(np.cumsum(sizes), pick, side="right")
    local = pick - np.concatenate([[0], np.cumsum(sizes)[:-1]])[owner]
    return {counts[o][0]: local[owner == o] for o in np.unique(owner)}


def oneshot_vectors(v: np.ndarray, *, n: int, metric: str) -> np.ndarray:
    """The vectors kept for a one-shot from its window embeddings ``v`` (m, dim).

    ``n`` evenly spaced windows from the first (the attack) to the last; ``n = 0`` gives
    the mean embedding (unit length for the cosine metric).
    """
    if n == 0:
        mean = v.mean(axis=0, keepdims=True)
        if metric == "cosine":
            mean /= max(float(np.linalg.norm(mean)), 1e-12)
        return mean.astype(np.float32)
    pick = np.unique(np.round(np.linspace(0, len(v) - 1, min(n, len(v)))).astype(int))
    return np.ascontiguousarray(v[pick], np.float32)


def _items(rel: str, fw: FileWindows, segs: list[Segment]) -> list[Item]:
    name = rel.rsplit(".", 1)[0]
    labels = {"folder": str(Path(rel).parent)} if "/" in rel else {}
    if fw.oneshot:
        return [Item(name, rel, 0.0, segs[0].length_s, labels)]
    return [Item(f"{name}@{s.offset_s:.2f}s", rel, s.offset_s, s.length_s, labels)
            for s in segs]


def _jsonable(d):
    if isinstance(d, dict):
        return {k: _jsonable(v) for k, v in d.items()}
    return d if isinstance(d, str | int | float | bool | type(None)) else str(d)
