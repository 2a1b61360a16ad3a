from __future__ import annotations

import dataclasses
import re
import time

import numpy as np
import pytest

from rtsim.audio.open import open_source
from rtsim.audio.ring import RingBuffer
from rtsim.audio.sources import AudioSource, SourceConfig
from rtsim.audio.synth import SynthSource, synth_signal
from rtsim.errors import ConfigError
from tests.audio.helpers import drain

SR = 16000


def test_config_is_frozen_with_the_documented_defaults():
    cfg = SourceConfig()
    assert (cfg.kind, cfg.channels, cfg.block, cfg.signal, cfg.realtime) == (
        "synth", (0,), 256, "sine:440", True
    )  # fmt: skip
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.kind = "file"


@pytest.mark.parametrize(
    ("fields", "word"),
    [
        ({"kind": "jack"}, "kind='jack'"),
        ({"channels": ()}, "channels=()"),
        ({"channels": (0, -1)}, "channels=(0, -1)"),
        ({"rate": 0}, "rate=0"),
        ({"block": 0}, "block=0"),
        ({"kind": "file"}, "path="),
        ({"seconds": -1.0}, "seconds=-1.0"),
        ({"amplitude": float("nan")}, "amplitude=nan"),
        ({"signal": "square:3"}, "'square:3'"),
    ],
)
def test_open_source_rejects_bad_config(fields, word):
    with pytest.raises(ConfigError, match=re.escape(word)):
        open_source(SourceConfig(**fields))


def test_synth_source_streams_exactly_synth_signal_and_finishes():
    cfg = SourceConfig(signal="bursts:440,880:0.1", rate=SR, seconds=0.5, realtime=False,
                       channels=(0, 1), block=100)  # fmt: skip
    with open_source(cfg) as src:
        assert isinstance(src, SynthSource) and isinstance(src, AudioSource)
        assert (src.sr, src.channels) == (SR, 2)
        ring = RingBuffer(1000, 2, sr=SR, policy="drop_oldest")  # smaller than the signal
        src.start(ring)
        got, _ = drain(ring, n=SR, done=lambda: src.finished)
        assert src.finished
    ref = synth_signal("bursts:440,880:0.1", sr=SR, n=SR // 2)
    np.testing.assert_array_equal(got, np.stack([ref, ref], axis=1))
    assert ring.dropped == 0
    assert src.stats()["frames"] == SR // 2 and src.stats()["blocks"] == 80


def test_synth_source_loops():
    cfg = SourceConfig(signal="sweep:100-2000:0.05", rate=SR, seconds=0.05, loop=True,
                       realtime=False)  # fmt: skip
    with open_source(cfg) as src:
        ring = RingBuffer(4096, 1, sr=SR)
        src.start(ring)
        got, _ = drain(ring, n=4 * 800)
        assert not src.finished
    np.testing.assert_array_equal(
        got[:, 0], np.tile(synth_signal("sweep:100-2000:0.05", sr=SR, n=800), 4)
    )


def test_realtime_pacing_and_capture_times():
    cfg = SourceConfig(signal="sine:440", rate=SR, seconds=0.3, block=160)
    with open_source(cfg) as src:
        ring = RingBuffer(SR, 1, sr=SR)
        t0 = time.monotonic()
        wall0 = time.time()
        src.start(ring)
        got, infos = drain(ring, n=10 * SR, done=lambda: src.finished)
        elapsed = time.monotonic() - t0
    assert len(got) == int(0.3 * SR)
    assert 0.25 <= elapsed <= 0.6
    last = infos[-1]
    assert last.end_time == pytest.approx(wall0 + (last.end_index - 1) / SR, abs=0.05)
    assert src.stats()["late"] < 3


def test_stop_is_quick_and_idempotent():
    src = open_source(SourceConfig(signal="noise", rate=SR, block=16000))  # endless, 1-s blocks
    src.start(RingBuffer(SR, 1, sr=SR))
    time.sleep(0.05)
    t0 = time.monotonic()
    src.stop()
    src.stop()
    assert time.monotonic() - t0 < 0.5


def test_ring_must_match_the_source():
    src = open_source(SourceConfig(rate=SR, channels=(0, 1)))
    with pytest.raises(ConfigError, match="sr=44100"):
        src.start(RingBuffer(100, 2, sr=44100))
    with pytest.raises(ConfigError, match="channels=1"):
        src.start(RingBuffer(100, 1, sr=SR))
    src.stop()
