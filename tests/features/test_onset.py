import numpy as np
import pytest

from rtsim.errors import ConfigError
from rtsim.features.onset import OnsetConfig, OnsetDetector, level_db

SR = 16000


def _notes(starts_s, *, amp=0.5, length_s=0.4, total_s=3.0, freq=440.0):
    x = np.zeros(int(SR * total_s), np.float32)
    t = np.arange(int(SR * length_s)) / SR
    tone = (amp * np.sin(2 * np.pi * freq * t) * np.exp(-3 * t)).astype(np.float32)
    for s in starts_s:
        i = int(s * SR)
        x[i : i + tone.size] += tone[: x.size - i]
    return x


def test_each_note_triggers_once_near_its_start():
    starts = [0.25, 1.0, 1.8, 2.4]
    det = OnsetDetector(OnsetConfig(), sr=SR)
    onsets = det.offline(_notes(starts))
    assert len(onsets) == len(starts)
    for o, s in zip(onsets, starts, strict=True):
        assert 0 <= o.index / SR - s <= 0.011  # within two 5-ms blocks
        assert -12 < o.level_db < 0


def test_min_gap_suppresses_fast_retriggers():
    x = _notes([0.5, 0.53], length_s=0.02)
    assert len(OnsetDetector(OnsetConfig(min_gap_ms=80), sr=SR).offline(x)) == 1
    assert len(OnsetDetector(OnsetConfig(min_gap_ms=10), sr=SR).offline(x)) == 2


def test_threshold_ignores_quiet_notes():
    x = _notes([0.5], amp=0.001)  # about -63 dBFS
    assert OnsetDetector(OnsetConfig(threshold_db=-40), sr=SR).offline(x) == []
    assert len(OnsetDetector(OnsetConfig(threshold_db=-70), sr=SR).offline(x)) == 1


def test_reattack_at_same_loudness_retriggers():
    """Legato: a second attack on top of a sustained note."""
    t = np.arange(int(SR * 2)) / SR
    env = np.where(t < 1.0, 0.05, 0.5).astype(np.float32)
    env[: int(0.3 * SR)] = 0
    x = (env * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    onsets = OnsetDetector(OnsetConfig(), sr=SR).offline(x)
    assert [round(o.index / SR, 1) for o in onsets] == [0.3, 1.0]


@pytest.mark.parametrize("chunk", [1, 64, 65, 800, 8193])
def test_streamed_equals_offline(chunk):
    x = _notes([0.25, 1.0, 1.8, 2.4])
    det = OnsetDetector(OnsetConfig(), sr=SR)
    ref = det.offline(x)
    state, got = det.init_state(), []
    for i in range(0, len(x), chunk):
        found, state = det.stream(x[i : i + chunk], state)
        got += found
    assert [o.index for o in got] == [o.index for o in ref] and len(ref) == 4
    np.testing.assert_allclose([o.level_db for o in got], [o.level_db for o in ref], atol=1e-4)


def test_level_db():
    assert level_db(np.ones(100, np.float32)) == pytest.approx(0.0)
    assert level_db(np.full(100, 0.1, np.float32)) == pytest.approx(-20.0)
    assert level_db(np.zeros(10, np.float32)) == -120.0


def test_config_is_validated():
    with pytest.raises(ConfigError, match="min_gap_ms=-1"):
        OnsetConfig(min_gap_ms=-1)
