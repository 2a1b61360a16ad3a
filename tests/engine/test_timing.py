import numpy as np
import pytest

from rtsim.engine.timing import LatencyHistogram, StageTimer


def test_percentiles_follow_the_data_within_a_bin():
    rng = np.random.default_rng(0)
    x = rng.lognormal(mean=np.log(1e-3), sigma=0.8, size=20000)
    h = LatencyHistogram()
    for v in x:
        h.record(float(v))
    for q in (50, 99, 99.9):
        assert h.percentile(q) == pytest.approx(np.percentile(x, q), rel=0.05)
    assert h.n == len(x) and h.max == pytest.approx(x.max())
    s = h.summary_ms()
    assert s["p50_ms"] < s["p99_ms"] < s["p999_ms"] <= s["max_ms"]


def test_recording_does_not_grow_memory():
    h = LatencyHistogram()
    before = h.counts.nbytes
    for v in (1e-9, 1e-6, 0.5, 1e3, 1e9):
        h.record(v)
    assert h.counts.nbytes == before and h.n == 5
    h.reset()
    assert h.n == 0 and h.percentile(50) == 0.0


def test_stage_timer():
    t = StageTimer(("a", "b"))
    with t.time("a"):
        sum(range(1000))
    t.record("b", 0.002)
    s = t.summary_ms()
    assert s["a"]["n"] == 1 and s["b"]["p50_ms"] == pytest.approx(2.0, rel=0.05)
    with pytest.raises(KeyError):
        t.record("c", 1.0)
