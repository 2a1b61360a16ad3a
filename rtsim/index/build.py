"""Build a library from a folder of audio: scan, frame, window, embed, index, write.

Every regular file under the folder is tried; unreadable, empty, non-audio and silent
files are skipped with a warning naming the file and the reason, and counted in the
report. One-shots (files up to ``oneshot_max_s``) become one item each, searched through
several vectors: the windows a live stream would show at its attack, body and decay
(``oneshot_vectors`` of them, evenly spaced from the attack), so a live window matches the
sample at the same phase of its sound, and a trigger's attack window matches attacks.
Longer files become one item per window at the embedder's hop. Nothing is written unless the whole
build succeeds (see :func:`~rtsim.index.library.write_library`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rtsim.audio.files import load_audio
from rtsim.embed import Embedder, EmbedderPlugin, frame_windows
from rtsim.errors import AudioFileError, ConfigError, LibraryError
from rtsim.features import FrontEnd, make_frontend
from rtsim.features.onset import level_db
from rtsim.index.faiss_index import IndexSpec
from rtsim.index.library import write_library
from rtsim.index.manifest import Manifest
from rtsim.index.metadata import Item
from rtsim.progress import progress_bar, track

__all__ = ["BuildConfig", "BuildReport", "FileWindows", "file_windows", "build_library",
           "embed_windows", "oneshot_vectors", "clip_vector"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildConfig:
    """Library build options.

    Parameters
    ----------
    oneshot_max_s : float
        Files up to this long are one-shots (one item each).
    oneshot_vectors : int
        Vectors kept per one-shot, evenly spaced from its first window to its last
        (0: a single vector, the mean embedding of all its windows).
    silence_db : float
        Windows whose newest hop is quieter than this (dBFS) are not indexed.
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
    batch: int = 256
    index: IndexSpec = field(default_factory=IndexSpec)
    fit_max_windows: int = 50_000
    seed: int = 0

    def __post_init__(self) -> None:
        if (self.oneshot_max_s < 0 or self.oneshot_vectors < 0 or self.batch < 1
                or self.fit_max_windows < 1):
            raise ConfigError(
                f"invalid build options: oneshot_max_s={self.oneshot_max_s}, "
                f"oneshot_vectors={self.oneshot_vectors}, batch={self.batch}, "
                f"fit_max_windows={self.fit_max_windows}"
            )


@dataclass
class BuildReport:
    """What a build did."""

    manifest: Manifest
    files_indexed: int
    skipped: dict[str, list[str]]
    seconds: float

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
                  progress: bool = True) -> BuildReport:
    """Index every audio file under ``folder`` into the library ``out``.

    Raises
    ------
    LibraryError
        When the folder is missing or yields no item (nothing is written then).
    """
    t0 = time.perf_counter()
    folder = Path(folder)
    if not folder.is_dir():
        raise LibraryError(f"audio folder not found: {folder}")
    spec = plugin.spec
    frontend = make_frontend(spec.frontend, device=device)
    files = _scan(folder)
    skipped: dict[str, list[str]] = {}
    planned: list[tuple[str, FileWindows, float]] = []
    with progress_bar(progress) as bar:
        for path in track(files, total=len(files), description="features", bar=bar):
            rel = path.relative_to(folder).as_posix()
            try:
                x, _ = load_audio(path, sr=spec.frontend.sr, mono=True)
            except AudioFileError as exc:
                _skip(skipped, "unreadable or not audio", rel, str(exc))
                continue
            fw = file_windows(x, frontend=frontend, window=spec.window, hop=spec.hop,
                              oneshot_max_s=config.oneshot_max_s, silence_db=config.silence_db)
            if len(fw.windows) == 0:
                _skip(skipped, "silent", rel, f"no window above {config.silence_db} dBFS")
                continue
            planned.append((rel, fw, len(x) / spec.frontend.sr))
        if not planned:
            raise LibraryError(
                f"no audio to index in {folder}: {len(files)} files, "
                + (", ".join(f"{len(v)} {k}" for k, v in skipped.items()) or "none found")
            )
        fitted_state = None
        if plugin.fitted:
            fitted_state = plugin.fit(_fit_sample(planned, config), spec)
        embedder = plugin.load(device=device, state=fitted_state)
        vectors, items, row_item, n_files = [], [], [], 0
        for rel, fw, duration in track(planned, total=len(planned), description="embedding",
                                       bar=bar):
            v = embed_windows(embedder, fw.windows, batch=config.batch)
            if not np.isfinite(v).all():
                _skip(skipped, "non-finite embedding", rel, "the model returned NaN/Inf")
                continue
            new_items = _items(rel, fw, duration, spec)
            if fw.oneshot:
                v = oneshot_vectors(v, n=config.oneshot_vectors, metric=spec.metric)
                row_item.append(np.full(len(v), len(items)))
            else:
                row_item.append(len(items) + np.arange(len(v)))
            vectors.append(v)
            items += new_items
            n_files += 1
    manifest = write_library(
        out, embedder=embedder, vectors=np.concatenate(vectors), items=items,
        row_item=np.concatenate(row_item), fitted_state=fitted_state, index_spec=config.index,
        source={"folder": str(folder), "files_found": len(files),
                "files_indexed": n_files, "skipped": {k: len(v) for k, v in skipped.items()}},
        build_config=_jsonable(asdict(config)),
    )
    return BuildReport(manifest, n_files, skipped, time.perf_counter() - t0)


def _scan(folder: Path) -> list[Path]:
    """Every regular, non-hidden file under ``folder``, sorted."""
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _skip(skipped: dict[str, list[str]], reason: str, rel: str, detail: str) -> None:
    log.warning("skipping %s: %s", rel, detail)
    skipped.setdefault(reason, []).append(rel)


def _fit_sample(planned, config: BuildConfig) -> np.ndarray:
    counts = [len(fw.windows) for _, fw, _ in planned]
    total = sum(counts)
    rng = np.random.default_rng(config.seed)
    pick = np.sort(rng.choice(total, size=min(total, config.fit_max_windows), replace=False))
    owner = np.repeat(np.arange(len(planned)), counts)
    local = pick - np.concatenate([[0], np.cumsum(counts)[:-1]])[owner[pick]]
    return np.stack([planned[o][1].windows[i] for o, i in zip(owner[pick], local, strict=True)])


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


def _items(rel: str, fw: FileWindows, duration: float, spec) -> list[Item]:
    name = rel.rsplit(".", 1)[0]
    labels = {"folder": str(Path(rel).parent)} if "/" in rel else {}
    if fw.oneshot:
        return [Item(name, rel, 0.0, duration, labels)]
    span = spec.window * spec.frontend.hop_length / spec.frontend.sr
    return [Item(f"{name}@{max(0.0, e - span):.2f}s", rel, max(0.0, e - span), span, labels)
            for e in fw.ends_s]


def _jsonable(d):
    if isinstance(d, dict):
        return {k: _jsonable(v) for k, v in d.items()}
    return d if isinstance(d, str | int | float | bool | type(None)) else str(d)
