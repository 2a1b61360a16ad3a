"""Augmentations: each transform does what it says, measured on known signals."""

import numpy as np
import pytest
import torch

from rtsim.training.augment import (
    AugmentConfig,
    add_noise,
    augment,
    decay,
    eq,
    gain,
    quantize,
    reverb,
    saturate,
    varispeed,
    vorbis_roundtrip,
)

SR = 22050


def _sine(f=440.0, n=SR // 2, b=3):
    t = torch.arange(n) / SR
    return (0.5 * torch.sin(2 * np.pi * f * t)).repeat(b, 1)


def _freq(x: torch.Tensor) -> float:
    spec = torch.fft.rfft(x * torch.hann_window(len(x))).abs()
    return float(torch.argmax(spec)) * SR / len(x)


def test_gain_and_quantize():
    x = _sine()
    assert torch.allclose(gain(x, torch.tensor([0.0, -6.0206, 20.0])).abs().amax(1),
                          torch.tensor([0.5, 0.25, 5.0]), rtol=1e-3)
    q = quantize(x, torch.tensor([4.0, 8.0, 16.0]))
    assert len(torch.unique(q[0])) <= 2 ** 4 and (q[2] - x[2]).abs().max() < 2 ** -15
    assert (q[0] - x[0]).abs().max() <= 2 ** -3 / 2 + 1e-6


def test_eq_tilt_and_cuts():
    x = _sine(100.0) + _sine(4000.0)
    flat = eq(x, SR, tilt_db_oct=torch.zeros(3), low_hz=torch.full((3,), 1.0),
              high_hz=torch.full((3,), 1e6))
    assert torch.allclose(flat, x, atol=1e-3)
    dull = eq(x, SR, tilt_db_oct=torch.zeros(3), low_hz=torch.full((3,), 1.0),
              high_hz=torch.full((3,), 500.0))
    spec = torch.fft.rfft(dull[0]).abs()
    lo, hi = int(100 * len(x[0]) / SR), int(4000 * len(x[0]) / SR)
    assert spec[hi] < 0.05 * spec[lo]  # 4 kHz is 2nd-order cut (~-30 dB), 100 Hz kept


def test_reverb_dry_is_identity_and_wet_extends_the_tail():
    x = torch.zeros(2, SR)
    x[:, 100] = 1.0
    g = torch.Generator().manual_seed(0)
    dry = reverb(x, SR, rt60_s=torch.tensor([0.5, 0.5]), wet=torch.zeros(2), gen=g)
    assert torch.equal(dry, x)
    wet = reverb(x, SR, rt60_s=torch.tensor([0.2, 0.6]), wet=torch.ones(2), gen=g)
    tail = wet[:, SR // 4 :].pow(2).sum(1)
    assert tail[1] > 10 * tail[0] > 0  # the longer room rings longer


def test_noise_at_the_requested_snr():
    x = _sine()
    g = torch.Generator().manual_seed(1)
    y = add_noise(x, snr_db=torch.tensor([10.0, 30.0, 30.0]),
                  pink=torch.tensor([False, False, True]), gen=g)
    snr = 10 * torch.log10(x.pow(2).mean(1) / (y - x).pow(2).mean(1))
    assert torch.allclose(snr, torch.tensor([10.0, 30.0, 30.0]), atol=0.1)
    n = (y - x)[2]
    spec = torch.fft.rfft(n).abs().pow(2)
    assert spec[10:100].mean() > 10 * spec[-1000:].mean()  # pink: low-heavy


def test_varispeed_moves_pitch():
    x = _sine(440.0)
    y = varispeed(x, torch.tensor([0.0, 12.0, -1.0]))
    assert torch.allclose(y[0], x[0])
    assert _freq(y[1][: SR // 4]) == pytest.approx(880.0, rel=0.01)
    assert _freq(y[2]) == pytest.approx(440.0 * 2 ** (-1 / 12), rel=0.01)


def test_vorbis_roundtrip_is_lossy_but_close():
    x = _sine(440.0, b=1)[0].numpy()
    y = vorbis_roundtrip(x, SR)
    assert y.shape == x.shape and not np.array_equal(x, y)
    err = np.mean((y - x) ** 2) / np.mean(x ** 2)
    assert err < 0.05


def test_augment_is_finite_bounded_varied_and_seeded():
    x = _sine(b=16)
    a = augment(x, SR, torch.Generator().manual_seed(3))
    b = augment(x, SR, torch.Generator().manual_seed(3))
    c = augment(x, SR, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and torch.isfinite(a).all() and a.abs().max() <= 1.0
    assert len({round(float(r), 4) for r in a.pow(2).mean(1)}) > 8  # rows differ
    none = AugmentConfig(gain_db=(0.0, 0.0), p_eq=0, p_reverb=0, p_noise=0, p_varispeed=0,
                         p_quantize=0, p_invert=0)
    assert torch.equal(augment(x, SR, torch.Generator().manual_seed(0), none), x)


def test_decay_damps_only_after_each_rows_onset():
    x = torch.ones(2, SR)
    y = decay(x, SR, onset=torch.tensor([0, SR // 2]), tau_s=torch.tensor([0.1, 0.1]))
    assert torch.equal(y[1, : SR // 2 + 1], x[1, : SR // 2 + 1])  # untouched before its onset
    assert float(y[0, int(0.1 * SR)]) == pytest.approx(np.exp(-1), rel=1e-3)
    assert float(y[1, SR // 2 + int(0.1 * SR)]) == pytest.approx(np.exp(-1), rel=1e-3)
    early = decay(x, SR, onset=torch.tensor([-SR, -SR]), tau_s=torch.tensor([0.1, 0.1]))
    assert float(early.max()) < 1e-4  # a sound that began a second before the window


def test_saturation_keeps_the_peak_and_adds_odd_harmonics():
    x = _sine(440.0, b=2) * torch.tensor([[1.0], [0.1]])
    y = saturate(x, torch.tensor([12.0, 12.0]))
    assert torch.allclose(y.abs().amax(1), x.abs().amax(1), rtol=1e-3)  # level kept
    assert torch.allclose(y[0] / 0.5, y[1] / 0.05, atol=1e-5)  # the same shape at any level
    spec = torch.fft.rfft(y[0] * torch.hann_window(y.shape[1])).abs()
    bin_hz = SR / y.shape[1]
    third = float(spec[round(1320 / bin_hz)] / spec[round(440 / bin_hz)])
    assert third > 0.1  # a driven sine grows its 3rd harmonic
    mild = saturate(x, torch.tensor([-40.0, -40.0]))
    assert torch.allclose(mild, x, atol=1e-3)  # no drive, no change


def test_decay_and_drive_are_off_by_default_and_draw_nothing():
    x = _sine(b=8)
    base = augment(x, SR, torch.Generator().manual_seed(5))
    assert torch.equal(augment(x, SR, torch.Generator().manual_seed(5), AugmentConfig(),
                               onsets=torch.zeros(8)), base)  # same random stream
    on = AugmentConfig(p_decay=1.0, decay_s=(0.05, 0.05), gain_db=(0.0, 0.0), p_eq=0,
                       p_reverb=0, p_noise=0, p_varispeed=0, p_quantize=0, p_invert=0)
    y = augment(x, SR, torch.Generator().manual_seed(5), on, onsets=torch.full((8,), 1000))
    assert torch.equal(y[:, :1001], x[:, :1001]) and float(y[:, 10000:].abs().max()) < 1e-3
