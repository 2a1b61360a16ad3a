"""Run the real engine on a file or synth source and keep what it publishes."""

from __future__ import annotations

import time

import numpy as np
import soundfile as sf

from rtsim.demo.sounds import render_note
from rtsim.engine.config import load_config
from rtsim.engine.wiring import build_engine

SR = 22050


class Collector:
    """A publisher that keeps every event (the engine treats it like OSC or ZeroMQ)."""

    def __init__(self) -> None:
        self.hops, self.triggers, self.status, self.closed = [], [], [], False

    def publish_hop(self, ev):
        self.hops.append(ev)

    def publish_trigger(self, ev):
        self.triggers.append(ev)

    def publish_status(self, ev):
        self.status.append(ev)

    def close(self):
        self.closed = True


def write_clip(path, notes, *, seconds, sr=SR):
    """Render ``[(onset_s, family, midi), ...]`` into a wav; return the path."""
    x = np.zeros(int(seconds * sr), np.float32)
    for onset, family, midi in notes:
        note = render_note(family, midi=midi, seconds=0.8, sr=sr)
        i = int(onset * sr)
        x[i : i + note.size] += note[: x.size - i]
    sf.write(path, x, sr)
    return path


def run_file(path, library, *, patch=None, overrides=(), realtime=False):
    """Run the engine over an audio file with OSC and ZeroMQ off; return (collector, engine)."""
    base = {
        "source": {"kind": "file", "path": str(path), "realtime": realtime},
        "embedder": [{"name": "pca", "library": str(library), "k": 3}],
        "osc": {"enabled": False},
        "zmq": {"enabled": False},
        "control": {"enabled": False},
        "engine": {"device": "cpu"},
    }
    from rtsim.engine.config import merge

    cfg = load_config(None, patch=merge(base, patch or {}), overrides=list(overrides))
    col = Collector()
    engine = build_engine(cfg, extra_publishers=[col])
    engine.run()
    return col, engine


def wait_until(cond, timeout: float = 5.0) -> bool:
    """Poll ``cond()`` every 10 ms until it is true (True) or ``timeout`` s pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False
