"""The voice pool: exact samples, fades, polyphony and stealing, no allocation in mix."""

import tracemalloc

import numpy as np

from rtsim.play.voices import VoicePool, pan_gains


def _bank(n=4000, seed=0):
    return np.random.default_rng(seed).uniform(-0.5, 0.5, n).astype(np.float32)


def _run(pool, frames, block=64):
    out = np.zeros((frames, pool.channels), np.float32)
    buf = np.zeros((block, pool.channels), np.float32)
    for i in range(0, frames, block):
        pool.mix(buf)
        out[i : i + block] = buf[: min(block, frames - i)]
    return out


def test_a_voice_plays_its_span_exactly_between_its_fades():
    bank = _bank()
    pool = VoicePool(bank, channels=2, fade=32)
    seq = pool.play(1000, 500, gains=np.array([0.5, 1.0], np.float32))
    out = _run(pool, 1024)
    assert pool.started_frame(seq) == 0
    np.testing.assert_allclose(out[32:468, 0], 0.5 * bank[1032:1468], rtol=1e-6)
    np.testing.assert_allclose(out[32:468, 1], bank[1032:1468], rtol=1e-6)
    assert abs(out[0, 1]) <= abs(bank[1000]) / 32 + 1e-7  # fades in
    assert np.all(out[500:] == 0) and pool.active == 0    # ended, freed
    assert pool.stats() == {"started": 1, "stolen": 0, "dropped": 0}


def test_offset_and_start_frame_of_a_later_voice():
    bank = _bank()
    pool = VoicePool(bank, channels=1, fade=8)
    _run(pool, 256)
    seq = pool.play(0, 1000, gains=np.ones(1, np.float32), offset=200)
    out = _run(pool, 256)
    assert pool.started_frame(seq) == 256
    np.testing.assert_allclose(out[8:200, 0], bank[208:400], rtol=1e-6)


def test_polyphony_steals_the_oldest_with_a_fade():
    bank = np.ones(10_000, np.float32)
    pool = VoicePool(bank, channels=1, polyphony=3, fade=16)
    g = np.ones(1, np.float32)
    for _ in range(3):
        pool.play(0, 10_000, gains=g)
    _run(pool, 64)
    pool.play(0, 10_000, gains=g)
    out = _run(pool, 64)
    assert pool.stats()["stolen"] == 1
    assert out[0, 0] > 3.0 - 1e-3 and abs(out[40, 0] - 3.0) < 1e-5  # 3 held + fade-in/out
    assert pool.active == 3


def test_group_cross_fades_and_stop():
    bank = np.ones(10_000, np.float32)
    pool = VoicePool(bank, channels=1, fade=16)
    g = np.ones(1, np.float32)
    pool.play(0, 10_000, gains=g, group=1)
    pool.play(0, 10_000, gains=g)  # a trigger voice, group 0
    _run(pool, 64)
    pool.play(0, 10_000, gains=2 * g, group=1)  # replaces the group-1 voice
    out = _run(pool, 64)
    np.testing.assert_allclose(out[20:, 0], 3.0, rtol=1e-6)
    pool.stop()
    out = _run(pool, 64)
    assert np.all(out[16:] == 0) and pool.active == 0


def test_a_full_queue_drops_and_counts():
    pool = VoicePool(_bank(), channels=1, queue=4)
    seqs = [pool.play(0, 10, gains=np.ones(1, np.float32)) for _ in range(6)]
    assert seqs[-2:] == [-1, -1] and pool.stats()["dropped"] == 2


def test_mix_allocates_nothing():
    pool = VoicePool(_bank(), channels=2, polyphony=32)
    buf = np.zeros((256, 2), np.float32)
    for _ in range(32):
        pool.play(0, 4000, gains=pan_gains(2, 0.5, 0.3))
    pool.mix(buf)  # compiled and warm
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(100):
        pool.mix(buf)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    # only what the mix itself (its module, numba's dispatch) allocates: threads left by
    # other tests (ZeroMQ, sockets) allocate meanwhile and are traced too
    mine = [tracemalloc.Filter(True, "*/rtsim/play/*"), tracemalloc.Filter(True, "*/numba/*")]
    grown = sum(s.size_diff for s in after.filter_traces(mine).compare_to(
        before.filter_traces(mine), "filename") if s.size_diff > 0)
    assert grown < 1024, grown


def test_pan_gains_are_equal_power():
    left, right = pan_gains(2, 1.0, -1.0), pan_gains(2, 1.0, 1.0)
    np.testing.assert_allclose(left, [1, 0], atol=1e-7)
    np.testing.assert_allclose(right, [0, 1], atol=1e-7)
    centre = pan_gains(4, 1.0, 0.0)
    np.testing.assert_allclose((centre ** 2).sum(), 1.0, rtol=1e-6)
    assert pan_gains(1, 0.7, 0.5)[0] == np.float32(0.7)
