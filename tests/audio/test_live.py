"""Live capture through real PortAudio and ALSA, from the virtual capture device.

The device captures far faster than real time, so each test fills a ``drop_newest`` ring
of exactly the signal's length and checks those frames; overflow is expected.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from rtsim.audio.devices import format_devices, list_input_devices
from rtsim.audio.live import LiveSource
from rtsim.audio.open import open_source
from rtsim.audio.ring import RingBuffer
from rtsim.audio.sources import SourceConfig
from rtsim.audio.synth import synth_signal
from rtsim.errors import AudioDeviceError, ConfigError
from tests.audio.helpers import drain

SR = 16000
N = 4000

live = pytest.mark.live


def capture(cfg: SourceConfig, n: int = N):
    src = open_source(cfg)
    ring = RingBuffer(n, src.channels, sr=src.sr, policy="drop_newest")
    src.start(ring)
    got, infos = drain(ring, n=n, timeout=10)
    t0 = time.monotonic()
    src.stop()
    src.stop()
    assert time.monotonic() - t0 < 0.5
    return src, ring, got, infos


@live
def test_captures_the_exact_samples(virtual_capture):
    signal = synth_signal("noise", sr=SR, n=N)
    name = virtual_capture(signal, 1)
    before = time.time()
    src, ring, got, infos = capture(SourceConfig(kind="live", device=name, rate=SR, block=256))
    assert isinstance(src, LiveSource) and (src.name, src.sr, src.channels) == (name, SR, 1)
    np.testing.assert_array_equal(got[:, 0], signal)
    stats = src.stats()
    assert stats["blocks"] >= N // 256 and stats["frames"] >= N
    assert stats["xruns"] == stats["input_overflow"] + stats["input_underflow"]
    # far faster than real time: what did not fit was dropped by the ring, and counted
    assert ring.written + ring.dropped == stats["frames"]
    assert before - 1 < infos[-1].end_time < time.time() + 10


@live
@pytest.mark.parametrize("channels", [(1,), (1, 0), (0, 1)])
def test_channel_selection_from_a_stereo_device(virtual_capture, channels):
    signal = np.stack([np.arange(N) / N, -np.arange(N) / N], axis=1).astype(np.float32)
    name = virtual_capture(signal, 2)
    cfg = SourceConfig(kind="live", device=name, channels=channels, rate=SR, block=128)
    src, _, got, _ = capture(cfg)
    assert src.channels == len(channels)
    np.testing.assert_array_equal(got, signal[:, list(channels)])


@live
def test_device_by_case_insensitive_substring_and_default_rate(virtual_capture):
    name = virtual_capture(np.zeros(N, np.float32), 1)
    devices = list_input_devices()
    match = [d for d in devices if d.name == name]
    assert len(match) == 1 and name in format_devices(devices)
    src = open_source(SourceConfig(kind="live", device="RTSIM_T"))
    try:
        assert src.name == name and src.sr == round(match[0].default_sr)
    finally:
        src.stop()
    src = open_source(SourceConfig(kind="live", device=match[0].index))
    assert src.name == name
    src.stop()


@live
def test_missing_device_names_the_query_and_lists_inputs(virtual_capture):
    virtual_capture(np.zeros(N, np.float32), 1)
    with pytest.raises(AudioDeviceError, match="'no-such-mic'") as err:
        open_source(SourceConfig(kind="live", device="no-such-mic"))
    assert "rtsim_test" in str(err.value)
    with pytest.raises(AudioDeviceError, match="no input device 999"):
        open_source(SourceConfig(kind="live", device=999))


@live
def test_unsupported_rate_and_channel_name_the_value(virtual_capture):
    name = virtual_capture(np.zeros(N, np.float32), 1)
    # the file/null plugins accept any sane rate; PortAudio rejects 1 Hz
    with pytest.raises(AudioDeviceError, match="rate=1 Hz"):
        open_source(SourceConfig(kind="live", device=name, rate=1))
    with pytest.raises(AudioDeviceError, match="channel 128 requested"):
        open_source(SourceConfig(kind="live", device=name, channels=(128,)))


@live
def test_a_blocking_ring_is_refused(virtual_capture):
    name = virtual_capture(np.zeros(N, np.float32), 1)
    with open_source(SourceConfig(kind="live", device=name, rate=SR)) as src:
        with pytest.raises(ConfigError, match="policy='block'"):
            src.start(RingBuffer(N, 1, sr=SR, policy="block"))


def test_missing_pyaudio_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyaudio", None)
    with pytest.raises(AudioDeviceError, match=r"pip install 'rtsim\[live\]'.*portaudio19-dev"):
        open_source(SourceConfig(kind="live"))
    with pytest.raises(AudioDeviceError, match="portaudio19-dev"):
        list_input_devices()
