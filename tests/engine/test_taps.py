"""The input tap's level: measured over the audio each window ends on, whatever the reads."""

import numpy as np
import pytest

from rtsim.engine.taps import InputTap
from rtsim.features.onset import OnsetConfig, level_db

SR = 1000


def _tap(**kw):
    return InputTap(channel=None, sr=SR, level_window=100,
                    onset=OnsetConfig(enabled=False), **kw)


def _signal():
    x = np.zeros(3000, np.float32)
    x[1000:1100] = 0.5  # 100 samples at -6 dBFS, silence around them
    return x


@pytest.mark.parametrize("block", [1, 37, 100, 3000])
def test_levels_do_not_depend_on_how_the_input_was_read(block):
    x = _signal()
    tap = _tap(history_s=5.0)
    for lo in range(0, x.size, block):
        tap.push(x[lo : lo + block, None])
    idx = np.array([-5, 999, 1049, 1099, 1149, 1199, 2999])
    want = [level_db(x[max(0, i - 99) : i + 1]) if i >= 0 else -120 for i in idx]
    np.testing.assert_allclose(tap.levels_db(idx), want, atol=1e-4)
    assert tap.levels_db(np.array([1099.7]))[0] == pytest.approx(level_db(x[1000:1100]))
    assert tap.levels_db(np.array([x.size - 1]))[0] == pytest.approx(level_db(x[-100:]))


def test_history_wraps_and_clamps_what_it_no_longer_holds():
    x = _signal()
    tap = _tap(history_s=0.5)  # 600 samples kept
    tap.push(x[:1150, None])
    assert tap.levels_db(np.array([1099]))[0] == pytest.approx(level_db(x[1000:1100]))
    tap.push(x[1150:, None])
    oldest_end = x.size - 600 + 100  # an older index is measured over the oldest window kept
    np.testing.assert_allclose(tap.levels_db(np.array([1099, 5000])),
                               [level_db(x[oldest_end - 100 : oldest_end]), level_db(x[-100:])])
