from __future__ import annotations

import threading
import time
import tracemalloc

import numpy as np
import pytest

from rtsim.audio.ring import ReadInfo, RingBuffer
from rtsim.errors import AudioError, ConfigError


def frames(start: int, n: int, channels: int = 2) -> np.ndarray:
    """Frame i holds (i, -i, ...) so every frame and channel is identifiable."""
    col = np.arange(start, start + n, dtype=np.float32)
    return np.stack([col * (1 if c == 0 else -c) for c in range(channels)], axis=1)


def read_all(ring: RingBuffer, m: int = 64) -> np.ndarray:
    out = np.zeros((m, ring.channels), np.float32)
    got = []
    while (info := ring.read(out)).n:
        got.append(out[: info.n].copy())
    return np.concatenate(got) if got else np.zeros((0, ring.channels), np.float32)


def test_wraparound_keeps_order():
    ring = RingBuffer(8, 2, sr=100.0)
    out = np.zeros((8, 2), np.float32)
    for start in range(0, 60, 5):  # 12 writes of 5 frames through 8 slots
        assert ring.write(frames(start, 5), 0.0) == 5
        info = ring.read(out)
        assert info.n == 5 and info.end_index == start + 5
        np.testing.assert_array_equal(out[:5], frames(start, 5))
    assert ring.written == ring.read_total == 60
    assert ring.dropped == ring.overruns == 0


def test_read_fills_callers_buffer_only_up_to_available():
    ring = RingBuffer(16, 2, sr=100.0)
    out = np.full((10, 2), 7.0, np.float32)
    ring.write(frames(0, 3), 0.0)
    info = ring.read(out)
    assert isinstance(info, ReadInfo) and info.n == 3 and ring.available() == 0
    np.testing.assert_array_equal(out[:3], frames(0, 3))
    assert np.all(out[3:] == 7.0)  # untouched beyond n
    empty = ring.read(out)
    assert empty.n == 0 and empty.end_index == 3 and np.isnan(empty.end_time)


def test_drop_oldest_overwrites_and_counts():
    ring = RingBuffer(8, 2, sr=100.0, policy="drop_oldest")
    ring.write(frames(0, 6), 0.0)
    assert ring.write(frames(6, 6), 0.0) == 6
    assert (ring.dropped, ring.overruns, ring.written, ring.available()) == (4, 1, 12, 8)
    np.testing.assert_array_equal(read_all(ring), frames(4, 8))
    # a single block larger than the ring keeps its last `capacity` frames
    assert ring.write(frames(12, 20), 0.0) == 20
    assert ring.dropped == 4 + 12 and ring.overruns == 2
    out = np.zeros((8, 2), np.float32)
    assert ring.read(out).end_index == 32
    np.testing.assert_array_equal(out, frames(24, 8))


def test_drop_newest_discards_what_does_not_fit():
    ring = RingBuffer(8, 2, sr=100.0, policy="drop_newest")
    ring.write(frames(0, 6), 0.0)
    assert ring.write(frames(6, 6), 0.0) == 2
    assert ring.write(frames(12, 3), 0.0) == 0
    assert (ring.dropped, ring.overruns, ring.written) == (7, 2, 8)
    np.testing.assert_array_equal(read_all(ring), frames(0, 8))


def test_block_waits_for_the_reader():
    ring = RingBuffer(8, 2, sr=100.0, policy="block")
    ring.write(frames(0, 8), 0.0)
    result = {}
    writer = threading.Thread(target=lambda: result.update(n=ring.write(frames(8, 12), 0.0)))
    writer.start()
    time.sleep(0.05)
    assert writer.is_alive(), "writer should wait while the ring is full"
    got = []
    out = np.zeros((3, 2), np.float32)
    deadline = time.monotonic() + 5
    while sum(len(g) for g in got) < 20 and time.monotonic() < deadline:
        info = ring.read(out)
        got.append(out[: info.n].copy())
        time.sleep(0.002)
    writer.join(5)
    assert result["n"] == 12 and ring.dropped == 0 and ring.overruns == 1
    np.testing.assert_array_equal(np.concatenate(got), frames(0, 20))


def test_block_times_out_and_counts_the_rest_as_dropped():
    ring = RingBuffer(4, 1, sr=100.0, policy="block", timeout=0.05)
    t0 = time.monotonic()
    assert ring.write(np.ones(6, np.float32), 0.0) == 4
    assert time.monotonic() - t0 >= 0.05
    assert ring.dropped == 2 and ring.overruns == 1


def test_capture_times_from_anchors():
    ring = RingBuffer(32, 1, sr=10.0)
    ring.write(np.zeros(5, np.float32), 100.4)  # frames 0..4 at 100.0..100.4
    ring.write(np.zeros(5, np.float32), 200.4)  # frames 5..9 at 200.0..200.4 (a gap)
    out = np.zeros((3, 1), np.float32)
    assert ring.read(out).end_time == pytest.approx(100.2)
    info = ring.read(np.zeros((4, 1), np.float32))  # frames 3..6
    assert (info.end_index, info.end_time) == (7, pytest.approx(200.1))
    assert ring.frame_time(4) == pytest.approx(100.4)
    assert ring.frame_time(0) == pytest.approx(100.0)
    assert np.isnan(ring.frame_time(10))


def test_capture_time_of_a_partly_stored_block():
    ring = RingBuffer(4, 1, sr=10.0, policy="drop_newest")
    ring.write(np.zeros(6, np.float32), 1.5)  # last frame at 1.5; frames 0..3 are 1.0..1.3
    assert ring.read(np.zeros((4, 1), np.float32)).end_time == pytest.approx(1.3)


def test_anchor_array_wraps_with_many_small_writes():
    ring = RingBuffer(3, 1, sr=1000.0)  # anchors for 4 writes
    times = 5.0 + np.cumsum(np.random.default_rng(0).uniform(0.01, 0.02, 50))
    for i, t in enumerate(times):
        ring.write(np.full(1, i, np.float32), float(t))
    out = np.zeros((3, 1), np.float32)
    info = ring.read(out)
    assert info.end_time == pytest.approx(times[-1]) and out[-1, 0] == 49
    assert ring.frame_time(48) == pytest.approx(times[48])


def test_mono_block_and_column_selection():
    mono = RingBuffer(8, 1, sr=100.0)
    mono.write(np.arange(3, dtype=np.float32), 0.0)
    np.testing.assert_array_equal(read_all(mono)[:, 0], np.arange(3))
    ring = RingBuffer(8, 2, sr=100.0)
    block = np.arange(12, dtype=np.float32).reshape(4, 3)
    ring.write(block, 0.0, columns=np.array([2, 0], dtype=np.int64))
    np.testing.assert_array_equal(read_all(ring), block[:, [2, 0]])


def test_bad_block_shapes_raise():
    ring = RingBuffer(8, 2, sr=100.0)
    with pytest.raises(AudioError, match="channels=2"):
        ring.write(np.zeros((4, 3), np.float32), 0.0)
    with pytest.raises(AudioError, match=r"columns \[0, 5\] do not select 2 channels"):
        ring.write(np.zeros((4, 2), np.float32), 0.0, columns=np.array([0, 5], dtype=np.int64))
    with pytest.raises(AudioError, match="do not select 2 channels"):
        ring.write(np.zeros((4, 3), np.float32), 0.0, columns=np.arange(3, dtype=np.int64))
    assert ring.written == 0


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"capacity": 0}, "capacity=0"),
        ({"channels": 0}, "channels=0"),
        ({"policy": "wait"}, "policy='wait'"),
        ({"sr": 0.0}, "sr=0.0"),
    ],
)
def test_invalid_parameters(kwargs, word):
    args = {"capacity": 8, "channels": 1, "sr": 100.0} | kwargs
    with pytest.raises(ConfigError, match=word):
        RingBuffer(args.pop("capacity"), args.pop("channels"), **args)


def test_reset_forgets_everything():
    ring = RingBuffer(4, 1, sr=100.0, policy="drop_newest")
    ring.write(np.ones(6, np.float32), 1.0)
    ring.reset()
    assert (ring.written, ring.read_total, ring.dropped, ring.overruns) == (0, 0, 0, 0)
    assert ring.available() == 0 and np.isnan(ring.frame_time(0))


def test_write_does_not_copy_the_block():
    ring = RingBuffer(1 << 16, 2, sr=48000.0)
    block = np.ones((4096, 2), np.float32)  # 32 KiB: any copy would show
    out = np.zeros((4096, 2), np.float32)
    ring.write(block, 0.0)
    ring.read(out)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(200):
        ring.write(block, float(i))
        ring.read(out)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert peak < 8192, f"write/read allocated {peak} bytes at peak"


def test_threads_lose_nothing_under_block():
    rng = np.random.default_rng(1)
    total = 50_000
    sizes = rng.integers(1, 300, size=1000)
    ring = RingBuffer(512, 2, sr=48000.0, policy="block")
    data = frames(0, total)

    def produce():
        i = 0
        for n in sizes:
            if i >= total:
                break
            ring.write(data[i : i + n], i / 48000.0)
            i += n

    producer = threading.Thread(target=produce)
    producer.start()
    got, out = [], np.zeros((700, 2), np.float32)
    deadline = time.monotonic() + 20
    while sum(map(len, got)) < total and time.monotonic() < deadline:
        info = ring.read(out[: int(rng.integers(1, 700))])
        got.append(out[: info.n].copy())
        if rng.random() < 0.05:
            time.sleep(0.001)
    producer.join(5)
    np.testing.assert_array_equal(np.concatenate(got), data)
    assert ring.dropped == 0 and ring.read_total == ring.written == total
