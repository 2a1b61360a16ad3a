"""Rendering a corpus of Slakh-layout pieces (see :mod:`.track` for the layout)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from rtsim.errors import ConfigError
from rtsim.training.data.pool import run_jobs
from rtsim.training.data.songs.track import TrackJob, make_track

__all__ = ["render_songs"]

log = logging.getLogger(__name__)


def render_songs(out: str | os.PathLike, *, soundfont: str | os.PathLike | None = None,
                 seed: int = 0, size: int = 100, sr: int = 22050, seconds: float = 64.0,
                 workers: int = 2, midi_only: bool = False, progress: bool = True,
                 singers: tuple[int, int] | None = None, bands: bool = False) -> Path:
    """Compose and render ``size`` multitrack pieces into Slakh2100's layout.

    Parameters
    ----------
    out : str or os.PathLike
        Folder to fill with ``Track00001`` ... (and ``render.json``, these parameters).
    soundfont : str, os.PathLike or None
        ``.sf2`` path or short name (``fluidr3``, ``timgm6mb``); None is FluidR3_GM.
    seed : int
        Corpus seed; piece ``i`` depends only on ``(seed, i)``.
    size : int
        Number of pieces.
    sr : int
        Sample rate (Hz) of the stems and mix.
    seconds : float
        Length of each piece's audio (its MIDI runs to the end of the bar after it).
        The default 64 s gives 41 three-second segments at 50 % overlap.
    workers : int
        Processes rendering pieces at once.
    midi_only : bool
        Write MIDI and metadata only (``audio_rendered: false``), no fluidsynth.
    progress : bool
        Show a progress bar.
    singers : (int, int) or None
        Add a sung ``vocal`` stem to every piece, its singer drawn from the catalogue's
        ``[lo, hi)`` (``training/data/songs/singers.py``); None: no vocals.
    bands : bool
        With ``singers``: a singer's pieces are played by its own band (its programs, its
        place in the tempo range, its home keys), as an artist's records share its band.

    Returns
    -------
    Path
        ``out``.
    """
    from rtsim.training.data.fluid import fluidsynth_path, resolve_soundfont

    if size < 1:
        raise ConfigError(f"size={size!r} pieces must be >= 1")
    if not 4.0 <= seconds <= 3600.0:
        raise ConfigError(f"seconds={seconds!r} must be in 4..3600")
    if not isinstance(bands, bool):
        raise ConfigError(f"bands={bands!r} must be true or false")
    if singers is not None:
        singers = _singer_range(singers)
    elif bands:
        raise ConfigError("bands belong to singers: bands needs singers = [lo, hi)")
    sf2 = str(resolve_soundfont(soundfont))
    if not midi_only:
        fluidsynth_path()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [TrackJob(out=str(out), seed=seed, index=i, seconds=seconds, sr=sr, soundfont=sf2,
                     midi_only=midi_only, singers=singers, bands=bands)
            for i in range(size)]
    run_jobs(make_track, jobs, workers=workers, description="songs", progress=progress)
    meta = {"kind": "songs", "seed": seed, "size": size, "sr": sr, "seconds": seconds,
            "soundfont": sf2, "midi_only": midi_only,
            "singers": list(singers) if singers else None, "bands": bands}
    (out / "render.json").write_text(json.dumps(meta, indent=1) + "\n")
    log.info("wrote %d pieces to %s", size, out)
    return out


def _singer_range(singers) -> tuple[int, int]:
    from rtsim.training.data.songs.singers import CATALOGUE
    from rtsim.training.data.songs.voice import voice_available

    try:
        lo, hi = (int(v) for v in singers)
    except (TypeError, ValueError):
        raise ConfigError(f"singers={singers!r} must be two integers [lo, hi)") from None
    if not 0 <= lo < hi <= CATALOGUE:
        raise ConfigError(f"singers=[{lo}, {hi}) must lie within the catalogue 0..{CATALOGUE}")
    for engine in ("festival:kal_diphone", "espeak:en"):
        if not voice_available(engine):
            raise ConfigError(f"singing needs {engine.split(':')[0]} (apt-get install festival "
                              "festvox-kallpc16k festvox-kdlpc16k espeak-ng)")
    return lo, hi
