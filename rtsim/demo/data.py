"""The demo's assets: a sample library, a performance clip, and the library's index.

Everything is synthesised (see :mod:`rtsim.demo.sounds`), deterministic, and cached
under ``$RTSIM_CACHE`` (default ``$XDG_CACHE_HOME/rtsim`` or ``~/.cache/rtsim``), so the
first ``rtsim demo`` renders for a few seconds and later ones start at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from rtsim.cache import cache_dir
from rtsim.demo.sounds import DRUMS, PITCHED, render_note

__all__ = ["DemoAssets", "StemsDemo", "PITCHES", "cache_dir", "render_library",
           "render_performance", "ensure_demo", "ensure_stems_demo"]

log = logging.getLogger(__name__)

VERSION = "1"
PITCHES = (40, 45, 50, 55, 60, 64, 67, 72, 76, 81)
SR = 44100


@dataclass(frozen=True)
class DemoAssets:
    """Paths of the demo's cached assets and the clip's score."""

    samples: Path
    library: Path
    clip: Path
    score: list[dict]


def render_library(folder: Path, *, sr: int = SR) -> list[Path]:
    """Write the demo one-shots: ``<family>/<family>_<midi>.wav`` and drum variants."""
    paths = []
    for family in PITCHED:
        for midi in PITCHES:
            paths.append(_write(folder / family / f"{family}_{midi}.wav",
                                render_note(family, midi=midi, sr=sr), sr))
    for drum in DRUMS:
        for variant in range(4):
            note = render_note(drum, seconds=0.6, sr=sr, seed=variant,
                               velocity=0.6 + 0.1 * variant)
            paths.append(_write(folder / "drums" / f"{drum}_{variant}.wav", note, sr))
    return paths


def render_performance(path: Path, *, seconds: float = 30.0, sr: int = SR,
                       seed: int = 7) -> list[dict]:
    """Write a clip of notes drawn from the library's families; return its score.

    The score lists each note's ``onset_s``, ``family`` and ``midi``; it is also
    written next to the clip as JSON.
    """
    rng = np.random.default_rng(seed)
    x = np.zeros(int(seconds * sr), np.float32)
    x += 10 ** (-70 / 20) * rng.standard_normal(x.size).astype(np.float32)  # noise floor
    families = PITCHED + DRUMS
    score, t = [], 0.5
    while t < seconds - 1.5:
        family = families[rng.integers(len(families))]
        midi = int(rng.choice(PITCHES)) if family in PITCHED else 60
        dur = float(rng.uniform(0.5, 1.2)) if family in PITCHED else 0.6
        note = render_note(family, midi=midi, seconds=dur, sr=sr, velocity=rng.uniform(0.4, 0.9),
                           seed=int(rng.integers(1 << 16)))
        i = int(t * sr)
        x[i : i + note.size] += note[: x.size - i]
        score.append({"onset_s": round(t, 4), "family": family, "midi": midi})
        t += dur + float(rng.uniform(0.1, 0.6))
    _write(path, np.clip(x, -1, 1), sr)
    path.with_suffix(".json").write_text(json.dumps(score, indent=1))
    return score


def ensure_demo(*, embedder: str = "pca", device: str = "cpu", progress: bool = True,
                root: Path | None = None) -> DemoAssets:
    """Render (once) and return the demo assets, building the library index if needed."""
    from rtsim.embed import get
    from rtsim.errors import RtsimError
    from rtsim.index import Library
    from rtsim.index.build import build_library

    base = (root or cache_dir()) / f"demo-v{VERSION}"
    samples, clip = base / "samples", base / "performance.wav"
    library = base / f"library-{embedder.replace('/', '_')}"
    if not (samples / ".complete").exists():
        log.info("rendering the demo sample library into %s", samples)
        render_library(samples)
        (samples / ".complete").write_text(VERSION)
    if not clip.exists() or not clip.with_suffix(".json").exists():
        render_performance(clip)
    plugin = get(embedder)
    try:
        Library.open(library).load_embedder(plugin, device=device)
    except RtsimError:
        log.info("indexing the demo library with %s", embedder)
        build_library(samples, library, plugin=plugin, device=device, progress=progress,
                          existing="overwrite")
    return DemoAssets(samples, library, clip, json.loads(clip.with_suffix(".json").read_text()))


def _write(path: Path, x: np.ndarray, sr: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, sr, subtype="PCM_16")
    return path


@dataclass(frozen=True)
class StemsDemo:
    """The stems demo: a 4-channel clip and one library per stem and for the mix."""

    clip: Path
    libraries: dict[str, Path]


STEM_PIECES = 12
STEMS_VERSION = "2"  # 2: each piece its own drum kit tuning
STEM_SR = 22050


def ensure_stems_demo(*, device: str = "cpu", progress: bool = True,
                      root: Path | None = None) -> StemsDemo:
    """Render (once) the stems demo: pieces, their stem libraries, a multichannel clip.

    The clip has one channel per stem (drums, bass, piano, guitar), as a multichannel
    interface with one microphone per instrument would deliver; the mix library holds the
    mean of the stems, which is what the engine hears when an embedder takes the mix of
    all channels.
    """
    from rtsim.demo.songs import STEMS, render_piece
    from rtsim.embed import get
    from rtsim.errors import RtsimError
    from rtsim.index import Library
    from rtsim.index.build import build_library

    base = (root or cache_dir()) / f"demo-v{VERSION}" / f"stems-v{STEMS_VERSION}"
    samples = base / "samples"
    if not (samples / ".complete").exists():
        log.info("rendering the stems demo into %s", samples)
        for i in range(STEM_PIECES):
            piece = render_piece(i, sr=STEM_SR)
            for stem, x in piece.items():
                _write(samples / stem / f"piece_{i:02d}.wav", x, STEM_SR)
            _write(samples / "mix" / f"piece_{i:02d}.wav",
                   np.mean([piece[s] for s in STEMS], axis=0), STEM_SR)
        (samples / ".complete").write_text(VERSION)
    clip = base / "performance.wav"
    if not clip.exists():
        order = (2, 7, 4, 9, 0, 11)
        segs = [np.stack([render_piece(i, sr=STEM_SR)[s] for s in STEMS], axis=1)
                [STEM_SR : 6 * STEM_SR] for i in order]
        _write(clip, np.concatenate(segs), STEM_SR)
    libraries = {}
    for stem in (*STEMS, "mix"):
        lib = base / f"library-{stem}"
        plugin = get(f"stem/{stem}")
        try:
            Library.open(lib).load_embedder(plugin, device=device)
        except RtsimError:
            log.info("indexing the %s stems", stem)
            build_library(samples / stem, lib, plugin=plugin, device=device, progress=progress,
                          existing="overwrite")
        libraries[stem] = lib
    return StemsDemo(clip, libraries)
