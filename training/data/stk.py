"""The Synthesis ToolKit's recorded drum hits (Debian ``stk``), as a one-shot corpus.

STK's ``Drummer`` instrument plays ten short recordings of an acoustic kit and hand
percussion, shipped as "rawwaves": headerless 16-bit big-endian mono PCM at 22.05 kHz
(``/usr/share/stk/rawwaves``; STK's licence is MIT-style). The other rawwaves are
oscillator tables, impulses and excitation snippets (``sinewave``, ``impuls10``,
``mand1``…), not one-shots, and are not read.

:func:`render_stk` converts the ten hits into the layout of
:func:`~rtsim.training.data.oneshots.render_oneshots` (``audio/``, ``labels.csv``,
``render.json``): one kit, one group, source ``stk`` unless told otherwise.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from rtsim.errors import ConfigError

__all__ = ["STK_DIR", "STK_HITS", "RAWWAVE_SR", "read_rawwave", "plan_stk", "render_stk"]

log = logging.getLogger(__name__)

STK_DIR = Path("/usr/share/stk/rawwaves")
"""Where Debian's ``stk`` package installs the rawwaves."""

RAWWAVE_SR = 22050
"""Sample rate of STK's drum rawwaves (``Drummer`` plays them at 22.05 kHz)."""

STK_HITS: dict[str, tuple[str, str]] = {
    "bassdrum": ("kick", "kick"), "snardrum": ("snare", "snare"),
    "hihatcym": ("hihat", "hihat"), "crashcym": ("cymbal", "cymbal"),
    "ridecymb": ("cymbal", "cymbal"), "tomhidrm": ("tom", "tom"),
    "tommiddr": ("tom", "tom"), "tomlowdr": ("tom", "tom"),
    "cowbell1": ("perc", "cowbell"), "tambourn": ("perc", "tambourine"),
}
"""(label, detail) of each drum rawwave, by file stem (STK's ``Drummer.cpp`` names them)."""


def read_rawwave(path: str | os.PathLike) -> np.ndarray:
    """An STK rawwave as float32 in [-1, 1) (16-bit signed big-endian, mono, headerless).

    Raises
    ------
    ConfigError
        The file is missing, empty or of an odd number of bytes (not 16-bit samples).
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"STK rawwave {os.fspath(p)!r}: no such file (apt-get install stk)")
    raw = p.read_bytes()
    if not raw or len(raw) % 2:
        raise ConfigError(f"STK rawwave {os.fspath(p)!r}: {len(raw)} bytes is not a "
                          "whole number of 16-bit samples")
    return np.frombuffer(raw, ">i2").astype(np.float32) / 32768.0


def plan_stk(root: str | os.PathLike = STK_DIR, *, source: str = "stk") -> list[dict]:
    """Rows of the one-shot table for the drum rawwaves found under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"STK rawwaves: folder {os.fspath(root)!r} is missing "
                          "(apt-get install stk)")
    rows = []
    for stem, (label, detail) in sorted(STK_HITS.items()):
        if (root / f"{stem}.raw").is_file():
            rows.append({"name": f"{source}-{stem}", "label": label, "kind": "drum",
                         "detail": detail, "group": f"{source}:drummer", "source": source,
                         "rawwave": str(root / f"{stem}.raw")})
    if not rows:
        raise ConfigError(f"STK rawwaves: none of {sorted(STK_HITS)} under {os.fspath(root)!r}")
    return rows


def render_stk(out: str | os.PathLike, *, root: str | os.PathLike = STK_DIR,
               source: str = "stk", sr: int = 22050) -> Path:
    """Write STK's drum hits under ``out`` as 16-bit WAV at ``sr`` with their labels.

    Silent files (peak below -60 dBFS, as for DrumSynth's presets) are left out with a
    warning.
    """
    from rtsim.training.data.oneshots import finish_render, start_render, write_hit

    rows = plan_stk(root, source=source)
    out = start_render(out, rows)
    kept = []
    for r in rows:
        if write_hit(out / r["path"], read_rawwave(r["rawwave"]), sr_in=RAWWAVE_SR, sr=sr):
            kept.append(r)
        else:
            log.warning("STK rawwave %s is silent; left out", r["rawwave"])
    finish_render(out, kept, {"soundfont": "stk", "root": os.fspath(root), "source": source,
                              "sr": sr, "rendered": len(rows)})
    log.info("wrote %d STK drum hits to %s", len(kept), out)
    return out
