from __future__ import annotations

import numpy as np
import pytest

from rtsim.audio.resample import Resampler, resample
from rtsim.errors import ConfigError
from tests.streaming import assert_streamed_equals_offline, stream_in_chunks

PAIRS = [(44100, 16000), (48000, 16000), (96000, 16000), (44100, 22050), (48000, 22050),
         (96000, 22050), (16000, 48000)]  # fmt: skip


def tone(freq: float, sr: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(round(seconds * sr)) / sr)).astype(np.float32)


def steady(y: np.ndarray, r: Resampler) -> np.ndarray:
    """Drop the start-up and the last filter length: the steady-state part."""
    skip = 4 * int(r.delay_out) + 16
    return y[skip:-skip]


def fitted_amplitude(y: np.ndarray, freq: float, sr: int, offset: int) -> float:
    t = (offset + np.arange(len(y))) / sr
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y.astype(np.float64), rcond=None)
    return float(np.hypot(*coef))


@pytest.mark.parametrize(("sr_in", "sr_out"), [(44100, 16000), (48000, 22050), (16000, 48000)])
def test_streamed_equals_offline(sr_in, sr_out):
    r = Resampler(sr_in=sr_in, sr_out=sr_out)
    x = np.random.default_rng(0).uniform(-1, 1, 12_000).astype(np.float32)
    assert_streamed_equals_offline(
        stream=r.stream, init_state=r.init_state, offline=r.offline, x=x, rtol=1e-5
    )


@pytest.mark.parametrize(("sr_in", "sr_out"), PAIRS)
def test_output_length_and_1khz_amplitude(sr_in, sr_out):
    r = Resampler(sr_in=sr_in, sr_out=sr_out)
    x = tone(1000, sr_in, 0.5)
    y = r.offline(x)
    assert y.dtype == np.float32 and len(y) == -(-len(x) * sr_out // sr_in)
    skip = 4 * int(r.delay_out) + 16
    amp = fitted_amplitude(y[skip:-skip], 1000, sr_out, skip - int(r.delay_out))
    assert abs(20 * np.log10(amp / 0.5)) < 0.1


@pytest.mark.parametrize(("sr_in", "sr_out"), [p for p in PAIRS if p[1] < p[0]])
def test_rejects_content_above_the_output_nyquist(sr_in, sr_out):
    r = Resampler(sr_in=sr_in, sr_out=sr_out)
    nyq = sr_out / 2
    for freq in (nyq * 1.02, nyq * 1.5, min(0.45 * sr_in, nyq * 2.7)):
        y = steady(r.offline(tone(freq, sr_in, 0.3)), r)
        level = 20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)) / (0.5 / np.sqrt(2)))
        assert level <= -60, f"{freq:.0f} Hz leaks at {level:.1f} dB"


@pytest.mark.parametrize(("sr_in", "sr_out"), [(48000, 16000), (44100, 16000), (16000, 48000)])
def test_reported_delay_matches_an_impulse(sr_in, sr_out):
    r = Resampler(sr_in=sr_in, sr_out=sr_out)
    x = np.zeros(sr_in // 10, np.float32)
    x[sr_in // 50] = 1.0  # at 20 ms: a whole number of output samples
    y = r.offline(x)
    assert int(np.argmax(y)) == sr_out // 50 + r.delay_out
    assert r.delay_s == pytest.approx(r.delay_out / sr_out)


def test_aligned_offline_resample_matches_the_analytic_tone():
    y = resample(tone(440, 44100, 0.5), sr_in=44100, sr_out=16000)
    ref = tone(440, 16000, 0.5)
    assert len(y) == len(ref)
    np.testing.assert_allclose(y[200:-200], ref[200:-200], atol=2e-3)


def test_no_discontinuity_at_chunk_boundaries():
    r = Resampler(sr_in=48000, sr_out=16000)
    y = steady(stream_in_chunks(r.stream, r.init_state(), tone(1000, 48000, 0.3), 65), r)
    max_step = 0.5 * 2 * np.pi * 1000 / 16000  # largest sample-to-sample change of the sine
    assert np.max(np.abs(np.diff(y))) <= max_step * 1.01


def test_empty_and_single_sample_chunks():
    r = Resampler(sr_in=44100, sr_out=16000)
    state = r.init_state()
    y, state2 = r.stream(np.zeros(0, np.float32), state)
    assert len(y) == 0 and state2.phase == state.phase and state2.n_in == 0
    outs = 0
    for _ in range(441):
        y, state = r.stream(np.ones(1, np.float32), state)
        outs += len(y)
    assert outs == 160 and state.n_out == 160 and state.n_in == 441


def test_equal_rates_are_an_exact_passthrough():
    r = Resampler(sr_in=16000, sr_out=16000)
    x = np.random.default_rng(2).standard_normal(1001).astype(np.float32)
    assert r.passthrough and r.delay_out == 0 and r.delay_s == 0
    np.testing.assert_array_equal(r.offline(x), x)
    y, _ = r.stream(x[:7], r.init_state())
    np.testing.assert_array_equal(y, x[:7])
    np.testing.assert_array_equal(resample(x, sr_in=16000, sr_out=16000), x)


@pytest.mark.parametrize("bad", [{"sr_in": 0}, {"sr_out": -1}, {"zeros": 0}, {"sr_in": 44100.5}])
def test_invalid_rates(bad):
    args = {"sr_in": 44100, "sr_out": 16000} | bad
    name = next(iter(bad))
    with pytest.raises(ConfigError, match=f"{name}="):
        Resampler(**args)


def test_streaming_at_equal_rates_does_not_copy():
    r = Resampler(sr_in=48000, sr_out=48000)
    x = np.random.default_rng(0).standard_normal(256).astype(np.float32)
    y, state = r.stream(x, r.init_state())
    assert np.shares_memory(y, x) and (state.n_in, state.n_out) == (256, 256)
    y2, state = r.stream(x[:100], state)
    assert np.shares_memory(y2, x) and (state.n_in, state.n_out) == (356, 356)
