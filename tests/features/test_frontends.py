"""Front ends: streamed equals offline, aligned frames equal nnAudio's, latency as data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nnAudio.features import CQT1992v2, MelSpectrogram

from rtsim.errors import FrontEndError
from rtsim.features import CQTSpec, MelSpec, identity, make_frontend, spec_from_dict
from tests.streaming import assert_streamed_equals_offline, stream_in_chunks

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _signal(sr: int, seconds: float, seed: int = 0) -> np.ndarray:
    """Noise plus two tones plus a click: broadband, tonal and transient content."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    x = 0.1 * rng.standard_normal(t.size) + 0.5 * np.sin(2 * np.pi * 440 * t)
    x += 0.3 * np.sin(2 * np.pi * 55 * t)
    x[t.size // 2] += 1.0
    return x.astype(np.float32)


SPECS = [
    pytest.param(CQTSpec(), id="cqt-aligned"),
    pytest.param(CQTSpec(mode="low_latency"), id="cqt-low-latency"),
    pytest.param(MelSpec(), id="mel"),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", SPECS)
def test_streamed_equals_offline(spec, device):
    fe = make_frontend(spec, device=device)
    x = _signal(spec.sr, 2.6 if spec.kind == "cqt" else 0.6)
    ref = assert_streamed_equals_offline(
        stream=fe.stream, init_state=fe.init_state, offline=fe.offline, x=x, rtol=1e-5
    )
    assert ref.shape == (fe.properties.n_frames(len(x)), fe.n_bins)
    assert ref.shape[0] >= 5


def _nnaudio_cqt(spec: CQTSpec, x: np.ndarray) -> np.ndarray:
    ref = CQT1992v2(
        sr=spec.sr,
        hop_length=spec.hop_length,
        fmin=spec.fmin,
        n_bins=spec.n_bins,
        bins_per_octave=spec.bins_per_octave,
        center=False,
        verbose=False,
    )
    return ref(torch.from_numpy(x))[0].T.numpy()


@pytest.mark.parametrize("device", DEVICES)
def test_aligned_cqt_matches_nnaudio(device):
    spec = CQTSpec(log_gain=None)
    fe = make_frontend(spec, device=device)
    x = _signal(spec.sr, 4.0)
    ref = _nnaudio_cqt(spec, x)
    ours = fe.offline(x).cpu().numpy()
    assert ours.shape[0] >= ref.shape[0] > 0
    for t in range(ref.shape[0]):  # every frame on its own, not just the whole matrix
        err = np.linalg.norm(ours[t] - ref[t]) / np.linalg.norm(ref[t])
        assert err <= 1e-3, f"frame {t}: relative Frobenius error {err:.2e}"


def test_sparsity_tolerance_is_what_keeps_it_accurate():
    """A coarse tolerance must visibly break the nnAudio match (the check can fail)."""
    spec = CQTSpec(log_gain=None, sparsity_tol=0.05)
    x = _signal(spec.sr, 3.0)
    ref = _nnaudio_cqt(spec, x)
    ours = make_frontend(spec).offline(x).numpy()[: len(ref)]
    assert np.linalg.norm(ours - ref) / np.linalg.norm(ref) > 1e-3


@pytest.mark.parametrize("device", DEVICES)
def test_mel_matches_nnaudio(device):
    spec = MelSpec(log_gain=None)
    x = _signal(spec.sr, 1.0)
    ref = MelSpectrogram(
        sr=spec.sr, n_fft=spec.n_fft, hop_length=spec.hop_length, n_mels=spec.n_mels,
        center=False, verbose=False,
    )(torch.from_numpy(x))[0].T.numpy()
    ours = make_frontend(spec, device=device).offline(x).cpu().numpy()
    assert ours.shape == ref.shape
    for t in range(ref.shape[0]):
        assert np.linalg.norm(ours[t] - ref[t]) / np.linalg.norm(ref[t]) <= 1e-3


def test_log_compression_is_applied():
    lin = make_frontend(CQTSpec(log_gain=None))
    log = make_frontend(CQTSpec())
    x = _signal(16000, 2.0)
    np.testing.assert_allclose(
        log.offline(x).numpy(), np.log1p(50 * lin.offline(x).numpy()), rtol=1e-5, atol=1e-6
    )
    mlin, mlog = make_frontend(MelSpec(log_gain=None)), make_frontend(MelSpec())
    y = _signal(22050, 0.3)
    np.testing.assert_allclose(
        mlog.offline(y).numpy(), np.log10(1 + 10 * mlin.offline(y).numpy()), rtol=1e-5, atol=1e-6
    )


def test_latency_is_reported_as_data():
    aligned = make_frontend(CQTSpec()).properties
    low = make_frontend(CQTSpec(mode="low_latency")).properties
    # aligned: every bin lags by half the longest kernel (~0.62 s)
    assert np.ptp(aligned.bin_delay) <= 1.0
    assert 0.55 < aligned.bin_delay_s[0] < 0.7
    # low latency: ~17/f seconds per bin (half of a Q-cycle kernel)
    f = low.frequencies
    np.testing.assert_allclose(low.bin_delay_s, 17.06 / f, rtol=0.02)
    i440 = int(np.argmin(np.abs(f - 440)))
    assert low.bin_delay_s[i440] < 0.045
    assert aligned.receptive_field_s == pytest.approx(19855 / 16000, abs=1e-3)
    assert aligned.frame_rate == 20.0
    mel = make_frontend(MelSpec()).properties
    assert mel.window_length == 1024 and mel.bin_delay[0] == 512


def test_low_latency_high_bins_respond_sooner():
    """An onset shows in a 1760 Hz bin within a few frames in low-latency mode, not 0.6 s."""
    sr, hop = 16000, 200
    x = np.zeros(sr * 3, np.float32)
    start = 2 * sr
    x[start:] = np.sin(2 * np.pi * 1760 * np.arange(sr) / sr)
    for mode, max_lag_s in (("low_latency", 0.05), ("aligned", None)):
        fe = make_frontend(CQTSpec(mode=mode, hop_length=hop))
        frames = fe.offline(x).numpy()
        k = int(np.argmin(np.abs(fe.properties.frequencies - 1760)))
        ends = np.array([fe.properties.frame_end(t) for t in range(len(frames))])
        active = ends[frames[:, k] > 0.5 * frames[:, k].max()]
        lag = (active[0] - start) / sr
        if max_lag_s is not None:
            assert lag < max_lag_s
        else:
            assert lag > 0.5


def test_spec_validation_names_the_value():
    with pytest.raises(FrontEndError, match="n_bins=300"):
        CQTSpec(n_bins=300)
    with pytest.raises(FrontEndError, match="mode='centred'"):
        CQTSpec(mode="centred")
    with pytest.raises(FrontEndError, match="hop_length=0"):
        MelSpec(hop_length=0)
    with pytest.raises(FrontEndError, match="unknown front end kind"):
        spec_from_dict({"kind": "stft"})


def test_spec_round_trip_and_identity():
    spec = CQTSpec(mode="low_latency", sparsity_tol=1e-3)
    again = spec_from_dict(identity(spec))
    assert identity(again) == identity(spec)
    assert "sparsity_tol" not in identity(spec)
    assert identity(CQTSpec()) != identity(CQTSpec(mode="low_latency"))


def test_mono_only():
    fe = make_frontend(MelSpec())
    with pytest.raises(FrontEndError, match="shape"):
        fe.offline(np.zeros((2, 4096), np.float32))


@pytest.mark.parametrize("spec", SPECS)
def test_primed_offline_equals_a_stream_after_silence(spec):
    fe = make_frontend(spec)
    x = _signal(spec.sr, 1.5)
    primed = fe.offline(x, primed=True).numpy()
    state = fe.init_state()
    fe.stream(np.zeros(fe.primed_length, np.float32), state)
    streamed = stream_in_chunks(fe.stream, state, x, 777)
    np.testing.assert_allclose(primed, streamed, rtol=1e-5, atol=1e-6)
    assert len(primed) == len(x) // spec.hop_length
    assert np.abs(fe.silence_frame()).max() == 0.0  # log(1 + 0) of silence


@pytest.mark.parametrize("spec", SPECS)
def test_a_cpu_stream_gives_numpy_frames(spec):
    """On the CPU live frames stay numpy (no torch round trip before the model)."""
    fe = make_frontend(spec)
    state = fe.init_state()
    frames, state = fe.stream(_signal(spec.sr, 3.0), state)
    assert isinstance(frames, np.ndarray) and frames.dtype == np.float32
    assert frames.shape == (len(frames), fe.n_bins) and len(frames) > 1
    none, _ = fe.stream(np.zeros(0, np.float32), state)
    assert isinstance(none, np.ndarray) and none.shape == (0, fe.n_bins)
