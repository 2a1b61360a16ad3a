"""The hop loop's runtime: switch interval, collector, and real-time scheduling."""

import gc
import os
import sys
import threading

import pytest

from rtsim.engine.runtime import (
    RT_PRIORITY,
    hop_runtime,
    realtime_permitted,
    thread_priority,
)
from rtsim.errors import ConfigError

linux = pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="no sched_* here")


def _in_thread(fn):
    out = {}

    def body():
        out["value"] = fn()

    t = threading.Thread(target=body)
    t.start()
    t.join()
    return out["value"]


def test_hop_runtime_sets_and_restores_interpreter_state():
    before = sys.getswitchinterval(), gc.isenabled()
    with hop_runtime(0.5):
        assert sys.getswitchinterval() == pytest.approx(0.0005) and not gc.isenabled()
    assert (sys.getswitchinterval(), gc.isenabled()) == before


@linux
def test_realtime_priority_applies_to_the_loop_thread_only_and_is_undone():
    if not realtime_permitted():
        pytest.skip("real-time scheduling not permitted for this user")

    def loop():
        restore, got = thread_priority("auto")
        inside = os.sched_getscheduler(0), os.sched_getparam(0).sched_priority
        restore()
        return got, inside, os.sched_getscheduler(0)

    got, inside, after = _in_thread(loop)
    assert got == "realtime" and inside == (os.SCHED_FIFO, RT_PRIORITY)
    assert after == os.SCHED_OTHER
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the calling (test) thread untouched


@linux
def test_a_refused_request_runs_normal_and_says_why(monkeypatch, caplog):
    def refuse(*a):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    with caplog.at_level("INFO", logger="rtsim.engine.runtime"):
        restore, got = thread_priority("realtime")
    restore()
    assert got == "normal"
    rec = [r for r in caplog.records if "real-time scheduling refused" in r.getMessage()]
    assert rec and rec[0].levelname == "WARNING" and "priority=realtime" in rec[0].getMessage()
    caplog.clear()
    with caplog.at_level("INFO", logger="rtsim.engine.runtime"):
        _, got = thread_priority("auto")
    assert got == "normal" and caplog.records[0].levelname == "INFO"
    assert thread_priority("normal")[1] == "normal"
    with pytest.raises(ConfigError, match="priority='fast'"):
        thread_priority("fast")


def test_engine_config_checks_priority():
    from rtsim.engine.settings import EngineConfig

    assert EngineConfig().priority == "normal"
    assert EngineConfig(priority="realtime").priority == "realtime"
    with pytest.raises(ConfigError, match="priority='high'"):
        EngineConfig(priority="high")
