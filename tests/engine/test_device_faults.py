"""Device loss: a simulated interface that stops, errors or hangs; the engine recovers.

The simulation sits at the AudioSource interface (the same one PortAudio's LiveSource
implements): PortAudio itself cannot be made to lose a device in a test.
"""

import os
import threading
import time

import numpy as np
import pytest

from rtsim.audio.sources import AudioSource
from rtsim.embed import get
from rtsim.engine.engine import Engine, EngineConfig, Route
from rtsim.engine.pipeline import Pipeline
from rtsim.errors import AudioDeviceError
from rtsim.index import Library
from tests.engine.helpers import Collector, wait_until


class FlakyDevice(AudioSource):
    """Delivers a 440 Hz tone at real time; ``mode`` makes it stop, fail or hang."""

    restartable = True

    def __init__(self, sr=16000, block=160):
        self.name, self.sr, self.channels, self.block = "flaky", sr, 1, block
        self.mode = "ok"
        self.opens = 0
        self._halt = threading.Event()
        self._thread = None
        self._phase = 0

    def open(self):
        self.opens += 1
        if self.mode == "error":
            raise AudioDeviceError("device 'flaky' is gone")
        if self.mode == "hang":
            threading.Event().wait(5.0)  # an open that never returns in time
        return self

    def start(self, ring):
        self._halt.clear()
        self._thread = threading.Thread(target=self._pump, args=(ring,), daemon=True)
        self._thread.start()

    def _pump(self, ring):
        t0 = time.monotonic()
        n = 0
        while not self._halt.is_set():
            if self.mode == "ok":
                i = self._phase + np.arange(self.block)
                ring.write((0.3 * np.sin(2 * np.pi * 440 * i / self.sr)).astype(np.float32),
                           time.time())
                self._phase += self.block
            n += self.block
            self._halt.wait(max(0.0, t0 + n / self.sr - time.monotonic()))

    def stop(self):
        self._halt.set()
        if self._thread is not None:
            self._thread.join(1.0)
            self._thread = None

    @property
    def finished(self):
        return False

    def stats(self):
        return {"opens": self.opens, "xruns": 0}


@pytest.fixture
def engine_with(one_shot_library):
    made = []

    def make(device, watchdog_s):
        lib = Library.open(one_shot_library)
        pipe = Pipeline(embedder=lib.load_embedder(get("pca")), library=lib, k=2,
                        silence_db=-60, max_backlog=2)
        col = Collector()
        eng = Engine(source=device.open(), routes=[Route(pipe)], publishers=[col],
                     config=EngineConfig(device="cpu", watchdog_s=watchdog_s,
                                         gc_interval_s=0.2))
        eng.start()
        made.append(eng)
        return eng, col

    yield make
    for eng in made:
        eng.stop()
        eng.join(5)


def test_stop_error_and_hang_are_recovered_within_the_bound(engine_with):
    dev = FlakyDevice()
    eng, col = engine_with(dev, watchdog_s=0.3)
    assert wait_until(lambda: len(col.hops) > 5, 5)
    for fault, outage in (("stop", 0.5), ("error", 1.0), ("hang", 0.5)):
        recovered = eng.counters["recoveries"]
        dev.mode = "stop"  # the interface goes quiet (unplugged)...
        time.sleep(0.4)
        dev.mode = fault  # ...and, while it is away, opening it stops, fails or hangs
        time.sleep(outage)
        t_back = time.monotonic()
        dev.mode = "ok"  # plugged back in
        bound = 2.0 + 1.0 + 10.0 if fault == "hang" else 1.0 + 2.0
        assert wait_until(lambda r=recovered: eng.counters["recoveries"] > r, bound), fault
        hops = len(col.hops)
        assert wait_until(lambda h=hops: len(col.hops) > h + 3, 3), fault
        print(f"{fault}: recovered {time.monotonic() - t_back:.2f} s after the device came back")
    assert eng.counters["stalls"] >= 3
    ping = eng.call_soon(lambda: None)  # the control queue was served all along
    assert ping


def test_hundred_unplug_replug_cycles_leak_nothing(engine_with):
    dev = FlakyDevice()
    eng, col = engine_with(dev, watchdog_s=0.05)
    assert wait_until(lambda: len(col.hops) > 3, 5)
    fds0, threads0 = len(os.listdir("/proc/self/fd")), threading.active_count()
    for cycle in range(100):
        recovered = eng.counters["recoveries"]
        dev.mode = "stop"
        assert wait_until(lambda c=cycle: eng.counters["stalls"] > c, 2), cycle
        dev.mode = "ok"
        assert wait_until(lambda r=recovered: eng.counters["recoveries"] > r, 3), cycle
    time.sleep(0.3)
    assert len(os.listdir("/proc/self/fd")) <= fds0 + 2
    assert threading.active_count() <= threads0 + 2
    assert dev.opens >= 100
