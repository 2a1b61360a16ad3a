"""Small helpers shared by the audio tests."""

from __future__ import annotations

import time

import numpy as np

from rtsim.audio.ring import ReadInfo, RingBuffer


def drain(
    ring: RingBuffer, *, n: int, timeout: float = 5.0, chunk: int = 1000, done=lambda: False
) -> tuple[np.ndarray, list[ReadInfo]]:
    """Read until ``n`` frames arrived, ``done()`` is true with the ring empty, or timeout."""
    out = np.zeros((chunk, ring.channels), np.float32)
    got, infos = [], []
    deadline = time.monotonic() + timeout
    while sum(map(len, got)) < n and time.monotonic() < deadline:
        info = ring.read(out[: min(chunk, n - sum(map(len, got)))])
        if info.n:
            got.append(out[: info.n].copy())
            infos.append(info)
        elif done() and ring.available() == 0:
            break
        else:
            time.sleep(0.001)
    frames = np.concatenate(got) if got else np.zeros((0, ring.channels), np.float32)
    return frames, infos
