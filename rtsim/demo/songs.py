"""Synthetic multitrack pieces for the stems demo: drums, bass, piano and guitar stems.

Each piece draws a tempo, a key, a chord progression and a pattern for every part from
its seed and plays them with the demo instruments (:mod:`rtsim.demo.sounds`): drum
patterns on the synthetic kick, snare and hat; a bass line on the low pluck; chords on the
organ ("piano"); arpeggios on the marimba ("guitar"). Deterministic and quick to render.
"""

from __future__ import annotations

import numpy as np

from rtsim.demo.sounds import render_note

__all__ = ["STEMS", "render_piece"]

STEMS = ("drums", "bass", "piano", "guitar")
_PROGRESSIONS = ([0, 7, 9, 5], [0, 5, 7, 5], [9, 5, 0, 7], [0, 3, 10, 5], [0, 9, 5, 7])
_MAJOR, _MINOR = (0, 4, 7), (0, 3, 7)


def _place(track: np.ndarray, note: np.ndarray, at: float, sr: int) -> None:
    i = int(at * sr)
    if i < len(track):
        track[i : i + len(note)] += note[: len(track) - i]


def render_piece(seed: int, *, seconds: float = 8.0, sr: int = 22050) -> dict[str, np.ndarray]:
    """The four stems of piece ``seed``, each shape (n,), float32."""
    rng = np.random.default_rng(seed)
    bpm = float(rng.integers(90, 141))
    beat = 60.0 / bpm
    root = int(rng.integers(36, 48))
    prog = _PROGRESSIONS[seed % len(_PROGRESSIONS)]
    minor = bool(rng.integers(2))
    n = int(seconds * sr)
    tracks = {s: np.zeros(n, np.float32) for s in STEMS}
    kick_beats = ([0, 2], [0, 1.5, 2], [0, 2.5], [0, 0.75, 2, 3.5])[rng.integers(4)]
    hat_step = (0.5, 0.25)[rng.integers(2)]
    bass_rhythm = ([0, 1, 2, 3], [0, 1.5, 2, 3.5], [0, 0.5, 2, 2.5, 3])[rng.integers(3)]
    arp = ([0, 1, 2, 1], [0, 2, 1, 2], [2, 1, 0, 1])[rng.integers(3)]
    tuning = rng.uniform(0.75, 1.35, 3)  # each piece its own kit: kick, snare, hat tuned
    hit = {name: _tune(render_note(name, seconds=0.4, sr=sr, seed=seed), f) for name, f in
           zip(("kick", "snare", "hat"), tuning, strict=True)}
    bar = 4 * beat
    for b in range(int(seconds / bar) + 1):
        t0 = b * bar
        chord_root = root + prog[b % 4]
        triad = [chord_root + i for i in (_MINOR if minor and prog[b % 4] == 0 else _MAJOR)]
        for k in kick_beats:
            _place(tracks["drums"], hit["kick"], t0 + k * beat, sr)
        for k in (1, 3):
            _place(tracks["drums"], 0.8 * hit["snare"], t0 + k * beat, sr)
        for k in np.arange(0, 4, hat_step):
            _place(tracks["drums"], 0.35 * hit["hat"], t0 + k * beat, sr)
        for k in bass_rhythm:
            note = render_note("pluck", midi=chord_root - 12, seconds=beat * 0.9, sr=sr,
                               velocity=0.7, seed=seed)
            _place(tracks["bass"], note, t0 + k * beat, sr)
        for p in triad:
            _place(tracks["piano"], render_note("organ", midi=p + 12, seconds=bar * 0.95,
                                                sr=sr, velocity=0.25), t0, sr)
        for i in range(8):
            p = triad[arp[i % 4]] + 24
            _place(tracks["guitar"], render_note("marimba", midi=p, seconds=beat, sr=sr,
                                                 velocity=0.5), t0 + i * beat / 2, sr)
    return {s: np.clip(x, -1, 1).astype(np.float32) for s, x in tracks.items()}


def _tune(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``x`` ``factor`` times faster (higher and shorter), as a sampler retunes a hit."""
    t = np.arange(0, len(x) - 1, factor)
    return np.interp(t, np.arange(len(x)), x).astype(np.float32)
