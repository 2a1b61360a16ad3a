"""The engine: source -> ring -> taps -> pipelines -> publishers, hop after hop.

The audio source (a PortAudio callback, or a file/synth thread) only writes into the
ring. The engine thread reads what is new, zeroes and counts NaN/Inf samples, feeds the
taps (:attr:`Engine.router`: input levels and onsets, front ends), lets every due pipeline
embed and search, and hands the events to the publishers. Control calls queued with
:meth:`Engine.call_soon` run between hops, never inside one. Every stage is timed.

This module owns the hop loop and its thread. Its parts live beside it: the taps and
their routing to pipelines (:mod:`~rtsim.engine.routing`), the source watchdog
(:mod:`~rtsim.engine.supervision`), the queue of control calls
(:mod:`~rtsim.engine.calls`), the fan-out to publishers (:mod:`~rtsim.engine.fanout`), the
heartbeat (:mod:`~rtsim.engine.status`), the thread's interpreter settings, scheduling
and idle-time garbage collection (:mod:`~rtsim.engine.runtime`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from rtsim.audio.ring import RingBuffer
from rtsim.audio.sources import AudioSource
from rtsim.engine.calls import CallQueue
from rtsim.engine.fanout import Fanout, Publisher
from rtsim.engine.routing import Route, Router
from rtsim.engine.runtime import IdleCollector, hop_runtime, thread_priority
from rtsim.engine.settings import EngineConfig
from rtsim.engine.status import Heartbeat
from rtsim.engine.supervision import SourceSupervisor
from rtsim.engine.timing import StageTimer
from rtsim.errors import ConfigError
from rtsim.features.onset import OnsetConfig
from rtsim.publish.events import StatusEvent

__all__ = ["EngineConfig", "Engine", "Publisher", "Route"]

log = logging.getLogger(__name__)

# "frame": front-end pushes that completed frames; "window": pipelines' window assembly
STAGES = ("read", "frontend", "frame", "window", "embed", "search", "publish", "hop", "gc")


class Engine:
    """Runs the hop loop over one source.

    A hop that raises is logged and counted (``step_errors``) and the loop goes on; only
    ``MAX_CONSECUTIVE_FAILURES`` failures in a row end the engine thread (the daemon then
    restarts it).

    Parameters
    ----------
    source : AudioSource
        Opened, not started.
    routes : sequence of Route
    publishers : sequence of Publisher
    config : EngineConfig
    onset : OnsetConfig
    realtime : bool
        The source delivers at real time (live, paced file/synth): the ring drops the
        oldest audio if the engine stalls, and late windows are skipped as missed hops.
        False (as-fast-as-possible files): nothing is ever dropped or skipped.
    """

    MAX_CONSECUTIVE_FAILURES = 100

    def __init__(self, *, source: AudioSource, routes: Sequence[Route],
                 publishers: Sequence[Publisher], config: EngineConfig = EngineConfig(),
                 onset: OnsetConfig = OnsetConfig(), realtime: bool = True) -> None:
        if not routes:
            raise ConfigError("the engine needs at least one embedder")
        self.source, self.config, self.realtime = source, config, realtime
        self.publishers = list(publishers)
        self.pipelines = [r.pipeline for r in routes]
        self.timer = StageTimer(STAGES)
        self.ring = RingBuffer(int(config.ring_seconds * source.sr), source.channels,
                               sr=source.sr, policy=config.overflow if realtime else "block")
        self._buf = np.zeros((config.read_block, source.channels), np.float32)
        self.router = Router(routes, sr=source.sr, channels=source.channels, onset=onset,
                             read_block=config.read_block)
        self.counters = {"bad_samples": 0, "publish_errors": 0, "controls_dropped": 0,
                         "step_errors": 0, "stalls": 0, "recoveries": 0}
        self.fanout = Fanout(self.publishers, self.counters)
        self.collect_garbage = IdleCollector(config.gc_interval_s, self.timer)
        self.heartbeat = Heartbeat(self, config.heartbeat_s)
        self.calls = CallQueue(self.counters)
        self._stop = threading.Event()
        self.supervisor = SourceSupervisor(source, self.ring, watchdog_s=config.watchdog_s,
                                           stop=self._stop, counters=self.counters)
        self._thread: threading.Thread | None = None
        self.started_at: float | None = None
        self.first_hop_at: float | None = None
        self.control = None  # a ControlPlane, attached by the wiring

    def set_onset_thresholds(self, threshold_db: float, rise_db: float) -> None:
        """Set every input's onset thresholds between hops (ConfigError: invalid, or off)."""
        self.router.set_onset_thresholds(threshold_db, rise_db)

    def call_soon(self, fn: Callable[[], None]) -> bool:
        """Queue ``fn`` to run between hops; False (and counted) if the queue is full."""
        return self.calls.put(fn)

    # -- the loop --------------------------------------------------------------------
    def start(self) -> None:
        """Start capture and the engine thread."""
        self._thread = threading.Thread(target=self.run, name="rtsim-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end (returns at once; see :meth:`join`)."""
        self._stop.set()

    @property
    def running(self) -> bool:
        """True while the engine thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the engine thread; True if it ended."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def run(self, *, duration: float | None = None) -> None:
        """Run the loop in this thread until stopped, the source ends, or ``duration``."""
        self.started_at = time.time()
        deadline = None if duration is None else time.monotonic() + duration
        with hop_runtime(self.config.switch_interval_ms):
            self.source.start(self.ring)
            self.supervisor.delivered()
            if self.control is not None:
                self.control.start()
            restore, self.priority = thread_priority(  # this thread only: those started
                self.config.priority if self.realtime else "normal")  # above inherit none
            try:
                self._loop(deadline)
            finally:
                restore()
                if self.control is not None:
                    self.control.stop()
                self.source.stop()
                self.heartbeat.send()

    def _loop(self, deadline: float | None) -> None:
        failures = 0
        while not self._stop.is_set():
            self.calls.run_some()
            try:
                n = self.step()
                failures = 0
            except Exception:
                failures += 1
                self.counters["step_errors"] += 1
                if failures >= self.MAX_CONSECUTIVE_FAILURES:
                    raise
                if failures == 1:
                    log.exception("hop failed (the engine goes on)")
                n = 1
            if n == 0:
                if not self.realtime and self.source.finished and self.ring.available() == 0:
                    break
                if self.realtime and self.supervisor.watch():
                    break
                self.collect_garbage()
                time.sleep(self.router.idle_seconds(self.ring.available()))
            else:
                self.supervisor.delivered()
            if deadline is not None and time.monotonic() >= deadline:
                break
            self.heartbeat.maybe_send()

    def step(self) -> int:
        """Process whatever the ring holds; return the number of frames read."""
        if self.ring.available() == 0:
            return 0
        t0 = time.perf_counter()
        info = self.ring.read(self._buf)
        block = self._buf[: info.n]
        if not np.isfinite(block).all():
            bad = ~np.isfinite(block)
            self.counters["bad_samples"] += int(bad.sum())
            block[bad] = 0.0
        self.router.feed(block, info.end_time)
        self.timer.record("read", time.perf_counter() - t0)
        events = self.router.run_frontends(info.end_time, self.timer)
        if events:
            t1 = time.perf_counter()
            self.fanout.events(events)
            t2 = time.perf_counter()
            self.timer.record("publish", t2 - t1)
            self.timer.record("hop", t2 - t0)
            if self.first_hop_at is None:
                self.first_hop_at = time.time()
        return info.n

    def status(self) -> StatusEvent:
        """A heartbeat snapshot."""
        return self.heartbeat.snapshot()
