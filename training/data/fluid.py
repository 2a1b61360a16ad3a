"""Rendering MIDI files to audio with the ``fluidsynth`` command-line program.

One call renders one MIDI file offline (``fluidsynth -ni -F out.wav``), which is
deterministic for a given soundfont, gain, rate and effects setting. Every failure is an
:class:`~rtsim.errors.ConfigError` naming the program, soundfont or file involved.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from rtsim.audio.files import load_audio
from rtsim.errors import ConfigError

__all__ = ["SOUNDFONTS", "fluidsynth_path", "render_midi", "resolve_soundfont"]

SOUNDFONTS = {
    "fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "fluidr3_gm": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "timgm6mb": "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "musescore": "/usr/share/sounds/sf3/MuseScore_General.sf3",
    "csound": "/usr/share/sounds/sf2/sf_GMbank.sf2",
    "opl3": "/usr/share/sounds/sf2/OPL-3_FM_128M.sf2",
    "default": "/usr/share/sounds/sf2/default-GM.sf2",
}
"""Short soundfont names (case-insensitive) and the Debian paths they stand for."""


def resolve_soundfont(soundfont: str | os.PathLike | None) -> Path:
    """Path of an existing ``.sf2`` given a path or a short name of :data:`SOUNDFONTS`.

    ``None`` means ``"fluidr3"`` (FluidR3_GM).
    """
    name = "fluidr3" if soundfont is None else os.fspath(soundfont)
    path = Path(SOUNDFONTS.get(name.lower(), name)).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"soundfont={name!r}: no such file (short names: {', '.join(sorted(SOUNDFONTS))}; "
            "on Debian: apt-get install fluid-soundfont-gm timgm6mb-soundfont "
            "musescore-general-soundfont-small csound-soundfont opl3-soundfont)"
        )
    return path


def fluidsynth_path() -> str:
    """Path of the ``fluidsynth`` executable, or ConfigError if it is not installed."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise ConfigError("program 'fluidsynth' not found on PATH (apt-get install fluidsynth)")
    return exe


def render_midi(
    midi_path: str | os.PathLike,
    *,
    soundfont: str | os.PathLike,
    sr: int,
    gain: float = 0.5,
    effects: bool = False,
) -> np.ndarray:
    """Render a MIDI file to mono float32 audio at ``sr``.

    Parameters
    ----------
    midi_path : str or os.PathLike
        Standard MIDI file.
    soundfont : str or os.PathLike
        ``.sf2`` path (see :func:`resolve_soundfont`).
    sr : int
        Sample rate (Hz), 8000..96000 as fluidsynth accepts.
    gain : float
        fluidsynth's master gain (0 < gain < 10).
    effects : bool
        Keep fluidsynth's reverb and chorus (off gives dry one-shots).

    Returns
    -------
    np.ndarray
        Shape (n,), float32, the mean of fluidsynth's two channels. ``n`` runs to the
        end of the MIDI file plus fluidsynth's release padding; callers trim.
    """
    if not 8000 <= sr <= 96000:
        raise ConfigError(f"sr={sr!r} must be in 8000..96000 Hz for fluidsynth")
    on = "1" if effects else "0"
    with tempfile.TemporaryDirectory(prefix="rtsim-fluid-") as tmp:
        wav = Path(tmp) / "out.wav"
        cmd = [fluidsynth_path(), "-ni", "-q", "-R", on, "-C", on, "-g", f"{gain:g}",
               "-r", str(int(sr)), "-O", "float", "-T", "wav", "-F", str(wav),
               str(resolve_soundfont(soundfont)), os.fspath(midi_path)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not wav.is_file():
            raise ConfigError(
                f"fluidsynth failed on {os.fspath(midi_path)!r} (exit {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-500:]}"
            )
        y, _ = load_audio(wav)
    return y
