"""Cut a long file into the items a performer can use: one per sound, not one per window.

A one-shot file is one item. A longer file (a loop, a phrase, a field recording) is cut
where the sound changes: at the onsets the live trigger detector finds
(:class:`~rtsim.features.onset.OnsetDetector`, the same rule as a live trigger), so a
drum loop gives one item per hit and a held note one item, and where the spectrum jumps
without a rise in level (one instrument taking over from another at the same loudness):
a local maximum of the cosine distance between consecutive front-end frames above
:data:`NOVELTY` (a held note, vibrato and all, stays far below it). A stretch longer than
``max_s`` without an onset is split into equal pieces no longer than ``max_s``. Each
piece is then searched like a one-shot, through its windows from attack to decay.
``segment = "windows"`` keeps the old behaviour (every window its own item) for
mosaicing, where a match must point at one window. Either way a file gives at most
``max_items`` items (evenly spaced through the file when it would give more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rtsim.errors import ConfigError
from rtsim.features.onset import OnsetConfig, OnsetDetector

__all__ = ["Segment", "SEGMENT_MODES", "NOVELTY", "onset_bounds", "novelty_bounds", "segments"]

SEGMENT_MODES = ("onsets", "windows")
NOVELTY = 0.08
"""Cosine distance between consecutive frames that marks a change of sound (a held note:
< 0.01; one instrument taking over from another: 0.1-0.8)."""
MIN_PIECE_S = 0.1
"""Boundaries closer than this to an earlier one are dropped."""


@dataclass(frozen=True)
class Segment:
    """One item of a file: where it is and which of the file's windows describe it.

    Attributes
    ----------
    offset_s, length_s : float
        The item's place in the file.
    windows : np.ndarray of int
        Indices of the file's windows whose newest sample lies in the item.
    """

    offset_s: float
    length_s: float
    windows: np.ndarray


def onset_bounds(x: np.ndarray, sr: int, *, max_s: float) -> np.ndarray:
    """Sample boundaries ``[0, b1, ..., len(x)]`` of the sounds of ``x`` (mono).

    Boundaries are the onsets of the trigger detector (the start of each onset's block),
    plus equal splits of any stretch longer than ``max_s``.
    """
    det = OnsetDetector(OnsetConfig(), sr=sr)
    starts = {max(0, o.index - det.block) for o in det.offline(np.asarray(x, np.float32))}
    edges = sorted(starts | {0, len(x)})
    out = [0]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        pieces = max(1, math.ceil((b - a) / (max_s * sr)))
        out += [a + round((b - a) * (i + 1) / pieces) for i in range(pieces)]
    return np.unique(np.asarray(out, np.int64))


def novelty_bounds(frames: np.ndarray, ends: np.ndarray, *,
                   threshold: float = NOVELTY) -> np.ndarray:
    """Samples where the spectrum jumps (local maxima of frame-to-frame cosine distance).

    The newest hop of window ``i + 1`` starts a new piece when frames ``i`` and ``i + 1``
    differ by a local maximum of cosine distance above ``threshold`` (windows may be
    apart: silent ones are not kept). ``frames`` (m, bins) are the newest front-end
    frame of each window, ``ends`` (m,) the windows' end samples.
    """
    if len(frames) < 2:
        return np.zeros(0, np.int64)
    f = frames / np.maximum(np.linalg.norm(frames, axis=1, keepdims=True), 1e-12)
    d = 1.0 - np.sum(f[1:] * f[:-1], axis=1)
    padded = np.concatenate([[-np.inf], d, [-np.inf]])
    peak = (d > threshold) & (d >= padded[:-2]) & (d > padded[2:])
    step = int(np.min(np.diff(ends)))  # the windows' hop: frame i + 1's newest samples
    return np.asarray(ends[1:][peak] - step, np.int64)  # start where the new sound shows


def _merge(bounds, sr: int) -> np.ndarray:
    """Sorted boundaries, each at least :data:`MIN_PIECE_S` after the one before."""
    out: list[int] = []
    for b in sorted(set(int(v) for v in bounds)):
        if not out or b - out[-1] >= MIN_PIECE_S * sr:
            out.append(b)
    return np.asarray(out, np.int64)


def segments(x: np.ndarray, sr: int, ends: np.ndarray, *, mode: str, window_s: float,
             max_s: float, max_items: int, frames: np.ndarray | None = None) -> list[Segment]:
    """The items of a long file whose kept windows end at samples ``ends``.

    Parameters
    ----------
    x : np.ndarray
        The file (mono, at ``sr``).
    ends : np.ndarray of int
        End sample (exclusive) of each window kept for the file.
    mode : {"onsets", "windows"}
    window_s : float
        Duration of one model window (the length of a "windows" item).
    max_s : float
        Longest item of the "onsets" mode.
    max_items : int
        Most items per file.
    frames : np.ndarray, optional
        The newest front-end frame of each window (m, bins): also cut where it jumps.
    """
    if mode not in SEGMENT_MODES:
        raise ConfigError(f"segment={mode!r} must be one of {SEGMENT_MODES}")
    ends = np.asarray(ends, np.int64)
    if mode == "windows":
        out = [Segment(max(0.0, e / sr - window_s), window_s, np.array([i]))
               for i, e in enumerate(ends)]
    else:
        bounds = onset_bounds(x, sr, max_s=max_s)
        if frames is not None:
            bounds = _merge([*bounds, *novelty_bounds(frames, ends)], sr)
            bounds[-1] = max(bounds[-1], len(x))
        owner = np.searchsorted(bounds, ends - 1, side="right") - 1  # newest sample's piece
        owner = np.clip(owner, 0, len(bounds) - 2)
        out = [Segment(bounds[p] / sr, (bounds[p + 1] - bounds[p]) / sr,
                       np.flatnonzero(owner == p)) for p in np.unique(owner)]
    if len(out) > max_items:
        pick = np.unique(np.round(np.linspace(0, len(out) - 1, max_items)).astype(int))
        out = [out[i] for i in pick]
    return out
