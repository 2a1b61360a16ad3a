"""Outputs: a real PortAudio stream into a virtual ALSA device, the software clock, and the
exact WAV render."""

import os
import time

import numpy as np
import pytest

from rtsim.errors import AudioDeviceError, ConfigError
from rtsim.play.output import BlockTimes, ClockedOutput, DeviceOutput, FileOutput, Mixer
from rtsim.play.voices import VoicePool

RATE, BLOCK = 44100, 256


def _bank(n=50_000):
    return np.random.default_rng(0).uniform(-0.5, 0.5, n).astype(np.float32)


def _ncc(x, ref):
    """Peak normalised cross-correlation of ``ref`` in ``x``, and where."""
    c = np.correlate(x, ref, "valid")
    i = int(np.argmax(c))
    return c[i] / np.sqrt((ref ** 2).sum() * (x[i : i + len(ref)] ** 2).sum() + 1e-20), i


def _rss() -> int:
    """Resident memory of this process (bytes)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _wait(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.005)
    return cond()


def test_a_voice_is_played_through_portaudio_at_its_frame(virtual_playback):
    bank = _bank()
    pool = VoicePool(bank, channels=2, fade=16)
    out = DeviceOutput(Mixer([pool], channels=2, block=BLOCK), device="rtsim_out", rate=RATE,
                       channels=2, block=BLOCK)
    try:
        assert out.name == "rtsim_out" and 0 < out.latency_s < 1
        assert _wait(lambda: pool.frames > 4 * BLOCK)
        seq = pool.play(1000, 8000, gains=np.array([1.0, 0.25], np.float32))
        assert _wait(lambda: pool.started_frame(seq) >= 0 and
                     pool.frames > pool.started_frame(seq) + 9000)
        heard = out.times.sound_time(pool.started_frame(seq))  # PortAudio's stream clock
        assert heard is not None and heard < time.perf_counter() + 1
    finally:
        out.close()
    played = virtual_playback.read(2)
    ref = bank[1100:8900]
    score, at = _ncc(played[:, 0], ref)
    assert score > 0.99
    prefill = at - (pool.started_frame(seq) + 100)  # PortAudio's own silent blocks first
    assert prefill % BLOCK == 0 and 0 <= prefill <= 4 * BLOCK, prefill
    np.testing.assert_allclose(played[at : at + 1000, 1], 0.25 * ref[:1000], rtol=1e-5)
    assert out.xruns == 0


def test_32_voices_for_60_seconds_no_xrun_memory_flat(virtual_playback):
    bank = _bank(200_000)
    pool = VoicePool(bank, channels=2, polyphony=32, fade=64)
    out = DeviceOutput(Mixer([pool], channels=2, block=BLOCK), device="rtsim_out", rate=RATE,
                       channels=2, block=BLOCK)
    rng = np.random.default_rng(1)
    gains = np.array([0.1, 0.1], np.float32)
    try:
        sizes = []
        while pool.frames < 60 * RATE:
            while pool.active < 32 and pool.stats()["dropped"] == 0:
                pool.play(int(rng.integers(0, 100_000)), 100_000, gains=gains)
                time.sleep(0)
            sizes.append(_rss())
            time.sleep(0.002)
    finally:
        out.close()
    assert out.xruns == 0 and pool.stats()["dropped"] == 0
    assert pool.stats()["started"] >= 32
    half = len(sizes) // 2
    assert max(sizes[half:]) - min(sizes[half:]) < 2 * 2**20  # flat in the second half


def test_an_unknown_output_device_is_named(virtual_playback):
    pool = VoicePool(_bank(), channels=2)
    with pytest.raises(AudioDeviceError, match="no output device matches 'nope'.*rtsim_out"):
        DeviceOutput(Mixer([pool], channels=2, block=BLOCK), device="nope", rate=RATE,
                     channels=2, block=BLOCK)


def test_file_render_places_each_request_at_its_time(tmp_path):
    bank = _bank()
    pool = VoicePool(bank, channels=2, fade=16)
    out = FileOutput(Mixer([pool], channels=2, block=BLOCK), tmp_path / "o.wav", rate=RATE,
                     channels=2, origin=lambda: 100.0, tail_s=0.5)
    g = np.array([0.0, 1.0], np.float32)
    for when, start in ((100.5, 0), (101.25, 20_000)):
        out.at(when, lambda s=start: pool.play(s, 5000, gains=g))
    x = out.render()
    for when, start in ((100.5, 0), (101.25, 20_000)):
        score, at = _ncc(x[:, 1], bank[start + 100 : start + 4900])
        frame = round((when - 100.0) * RATE) + 100
        assert score > 0.99 and abs(at - frame) < FileOutput.BLOCK
    assert len(x) >= round(1.25 * RATE) + int(0.5 * RATE)
    assert np.all(x[:, 0] == 0)  # no input given: channel 0 silent


def test_file_input_needs_two_channels(tmp_path):
    pool = VoicePool(_bank(), channels=1)
    with pytest.raises(ConfigError, match="input_path needs channels >= 2"):
        FileOutput(Mixer([pool], channels=1, block=BLOCK), tmp_path / "o.wav", rate=RATE,
                   channels=1, origin=lambda: None, input_path=tmp_path / "in.wav")


def test_block_times_answer_for_any_frame_still_recorded():
    t = BlockTimes(1000.0, size=4)
    assert t.sound_time(0) is None  # nothing recorded yet
    t.record(100, 5.0)
    t.record(50, 5.2)
    assert t.sound_time(0) == 5.0 and t.sound_time(99) == pytest.approx(5.099)
    assert t.sound_time(120) == pytest.approx(5.22) and t.sound_time(150) is None
    for k in range(4):  # the ring holds 4 blocks: the first two are overwritten
        t.record(10, 6.0 + k)
    assert t.sound_time(0) is None and t.sound_time(149) is None
    assert t.sound_time(150) == 6.0 and t.sound_time(185) == pytest.approx(9.005)


def test_the_clock_output_paces_blocks_and_times_each_voice():
    bank = _bank()
    pool = VoicePool(bank, channels=2)
    out = ClockedOutput(Mixer([pool], channels=2, block=BLOCK), rate=RATE, channels=2,
                        block=BLOCK)
    try:
        assert _wait(lambda: out.blocks >= 4)
        asked = []
        for start in (0, 10_000, 20_000):
            t = time.perf_counter()
            asked.append((pool.play(start, 5000, gains=np.ones(2, np.float32)), t))
            time.sleep(0.013)
        assert _wait(lambda: all(pool.started_frame(s) >= 0 for s, _ in asked))
        frames = [pool.started_frame(s) for s, _ in asked]
        assert all(f % BLOCK == 0 for f in frames)  # a voice starts with a block
        heard = [out.times.sound_time(f) for f in frames]
        # sounded after it was asked for, and (unless the box stalled) within two blocks
        assert all(h is not None and h > t for h, (_, t) in zip(heard, asked, strict=True))
        t0, n0 = time.perf_counter(), out.blocks
        time.sleep(0.3)
        rate = (out.blocks - n0) * BLOCK / (time.perf_counter() - t0)
        assert 0.5 * RATE < rate < 1.5 * RATE  # paced, not free-running
    finally:
        out.close()
    assert not out._thread.is_alive()
