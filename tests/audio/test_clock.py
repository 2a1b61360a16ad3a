"""The rate monitor against synthetic callback clocks: nominal, mismatched, jittery."""

import logging

import numpy as np

from rtsim.audio.clock import RateMonitor, measured_rate


def _feed(mon, rate, block, seconds, *, jitter=0.0, seed=0, t0=100.0):
    rng = np.random.default_rng(seed)
    t, n = t0, int(seconds * rate / block)
    for _ in range(n):
        t += block / rate
        mon.feed(block, t + rng.uniform(-jitter, jitter))
    return t


def test_measured_rate():
    assert measured_rate(48000, 1.0) == 48000 and measured_rate(10, 0.0) != measured_rate(10, 0)


def test_nominal_rate_with_callback_jitter_is_not_a_mismatch():
    mon = RateMonitor(48000, 256)
    _feed(mon, 48000, 256, 30, jitter=0.004)  # 4 ms of scheduling jitter per callback
    assert mon.mismatches == 0 and abs(mon.rate_hz - 48000) < 48 and mon.block_size_changes == 0


def test_a_device_running_at_another_rate_is_counted_and_named(caplog):
    mon = RateMonitor(48000, 256, name="usb-interface")
    with caplog.at_level(logging.WARNING):
        _feed(mon, 44100, 256, 21)
    assert mon.mismatches == 4 and abs(mon.rate_hz - 44100) < 50  # one per 5-s window
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "usb-interface delivers 441" in warnings[0]
    assert "opened at 48000 Hz" in warnings[0]


def test_block_size_changes_and_restart():
    mon = RateMonitor(48000, 256)
    t = _feed(mon, 48000, 256, 2)
    t = _feed(mon, 48000, 512, 2, t0=t)
    mon.restart()  # a reopened stream: the clock starts again, the counts stay
    _feed(mon, 48000, 512, 6, t0=t + 30.0)  # (30 s of silence must not read as a slow rate)
    assert mon.block_size_changes == 1 and mon.mismatches == 0
