"""The engine: source -> ring -> taps -> pipelines -> publishers, hop after hop.

The audio source (a PortAudio callback, or a file/synth thread) only writes into the
ring. The engine thread reads what is new, zeroes and counts NaN/Inf samples, feeds the
input taps (mono views, levels, onsets) and the front-end taps, lets every due pipeline
embed and search, and hands the events to the publishers. Control calls queued with
:meth:`Engine.call_soon` run between hops, never inside one. Every stage is timed into
preallocated histograms; a status heartbeat goes out every ``heartbeat_s``.
"""

from __future__ import annotations

import gc
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from rtsim.audio.ring import RingBuffer
from rtsim.audio.sources import AudioSource
from rtsim.engine.pipeline import Pipeline
from rtsim.engine.settings import EngineConfig
from rtsim.engine.taps import FrontEndTap, InputTap
from rtsim.engine.timing import StageTimer
from rtsim.errors import ConfigError
from rtsim.features import identity, make_frontend
from rtsim.features.onset import OnsetConfig, OnsetDetector
from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent

__all__ = ["EngineConfig", "Engine", "Publisher", "Route"]

log = logging.getLogger(__name__)

STAGES = ("read", "frontend", "embed", "search", "publish", "hop", "gc")


class Publisher(Protocol):
    """Anything that takes the engine's events (OSC, ZeroMQ, the terminal view)."""

    def publish_hop(self, ev: HopEvent) -> None:
        """Take one embedder's hop."""

    def publish_trigger(self, ev: TriggerEvent) -> None:
        """Take one onset's match."""

    def publish_status(self, ev: StatusEvent) -> None:
        """Take the heartbeat."""

    def close(self) -> None:
        """Release sockets and files."""


@dataclass(frozen=True)
class Route:
    """A pipeline and the input channel it listens to (None = mix of all channels)."""

    pipeline: Pipeline
    channel: int | None = None

    @property
    def frontend(self):
        """The front end the pipeline reads: its embedder's, ``stride`` times finer."""
        spec = self.pipeline.embedder.spec.frontend
        return replace(spec, hop_length=spec.hop_length // self.pipeline.stride)


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
        self._build_taps(routes, onset)
        self.counters = {"bad_samples": 0, "publish_errors": 0, "controls_dropped": 0,
                         "step_errors": 0, "stalls": 0, "recoveries": 0}
        self._last_audio = time.monotonic()
        self._recovery: threading.Thread | None = None
        self._next_gc = 0.0
        self._controls: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=1024)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status_seq = 0
        self._next_heartbeat = 0.0
        self.started_at: float | None = None
        self.first_hop_at: float | None = None
        self.control = None  # a ControlPlane, attached by the wiring

    def set_onset_thresholds(self, threshold_db: float, rise_db: float) -> None:
        """Change every input's onset thresholds (call between hops); state is kept.

        Raises
        ------
        ConfigError
            If the values are invalid, or onset detection is disabled in the config.
        """
        taps = [t for t in self.inputs.values() if t.detector is not None]
        if not taps:
            raise ConfigError("onset detection is disabled (onset.enabled = false)")
        config = replace(taps[0].detector.config, threshold_db=threshold_db,
                                     rise_db=rise_db)
        for tap in taps:
            tap.detector = OnsetDetector(config, sr=tap.sr)

    # -- wiring ----------------------------------------------------------------------
    def _build_taps(self, routes: Sequence[Route], onset: OnsetConfig) -> None:
        for r in routes:
            if r.channel is not None and not 0 <= r.channel < self.source.channels:
                raise ConfigError(
                    f"{r.pipeline.name}: channel={r.channel} but the source has "
                    f"{self.source.channels} channel(s) (0..{self.source.channels - 1})"
                )
        shortest_hop = min(r.pipeline.embedder.spec.hop * r.frontend.hop_length / r.frontend.sr
                           for r in routes)
        level_window = max(1, int(shortest_hop * self.source.sr))
        self.inputs: dict[int | None, InputTap] = {}
        self.frontends: dict[tuple, tuple[FrontEndTap, list[Pipeline]]] = {}
        self._tap_pipelines: dict[int | None, list[Pipeline]] = {}
        for r in routes:
            tap = self.inputs.setdefault(r.channel, InputTap(
                channel=r.channel, sr=self.source.sr, level_window=level_window, onset=onset))
            self._tap_pipelines.setdefault(r.channel, []).append(r.pipeline)
            emb = r.pipeline.embedder
            key = (r.channel, tuple(sorted(identity(r.frontend).items())))
            if key not in self.frontends:
                fe = make_frontend(r.frontend, device=str(emb.device))
                self.frontends[key] = (FrontEndTap(source=tap, frontend=fe), [])
            fe_tap, members = self.frontends[key]
            if emb.backend == "cudagraph" and not fe_tap.frontend.graphed:
                fe_tap.frontend.use_graphs()
            members.append(r.pipeline)
            r.pipeline.prime(fe_tap.frontend.silence_frame())
            r.pipeline.warm_up()
        self._seen = dict.fromkeys(self.inputs, 0)

    # -- control ---------------------------------------------------------------------
    def call_soon(self, fn: Callable[[], None]) -> bool:
        """Queue ``fn`` to run between hops; False (and counted) if the queue is full."""
        try:
            self._controls.put_nowait(fn)
            return True
        except queue.Full:
            self.counters["controls_dropped"] += 1
            return False

    #: Control calls applied per loop turn: a burst of commands never delays a hop for long.
    CONTROLS_PER_TURN = 32

    def _apply_controls(self) -> None:
        for _ in range(self.CONTROLS_PER_TURN):
            try:
                fn = self._controls.get_nowait()
            except queue.Empty:
                return
            try:
                fn()
            except Exception:
                log.exception("control call failed")

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
        previous_interval = sys.getswitchinterval()
        sys.setswitchinterval(self.config.switch_interval_ms / 1000)
        gc_was_enabled = gc.isenabled()
        gc.disable()
        gc.collect()
        gc.freeze()  # start-up objects leave the collector's view: later collections are short
        self.source.start(self.ring)
        self._last_audio = time.monotonic()
        if self.control is not None:
            self.control.start()
        failures = 0
        try:
            while not self._stop.is_set():
                self._apply_controls()
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
                    if not self.realtime and self.source.finished \
                            and self.ring.available() == 0:
                        break
                    if self.realtime and self._watch():
                        break
                    self._collect_garbage()
                    time.sleep(self._idle_seconds())
                else:
                    self._last_audio = time.monotonic()
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self._maybe_heartbeat()
        finally:
            if self.control is not None:
                self.control.stop()
            self.source.stop()
            self._heartbeat()
            sys.setswitchinterval(previous_interval)
            if gc_was_enabled:
                gc.enable()

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
        for ch, tap in self.inputs.items():
            tap.push(block)
            self._seen[ch] += info.n
            self._dispatch_onsets(ch, tap, info.end_time)
        self.timer.record("read", time.perf_counter() - t0)
        events = self._run_frontends(info.end_time)
        if events:
            t1 = time.perf_counter()
            self._publish(events)
            t2 = time.perf_counter()
            self.timer.record("publish", t2 - t1)
            self.timer.record("hop", t2 - t0)
            if self.first_hop_at is None:
                self.first_hop_at = time.time()
        return info.n

    def _collect_garbage(self) -> None:
        """A collection between hops, when idle, at most every ``gc_interval_s``."""
        now = time.monotonic()
        if now < self._next_gc:
            return
        self._next_gc = now + self.config.gc_interval_s
        t0 = time.perf_counter()
        gc.collect()
        self.timer.record("gc", time.perf_counter() - t0)

    def _watch(self) -> bool:
        """Notice a stalled real-time source and start its recovery.

        Returns True when a paced file or test signal has simply ended (the loop stops).
        """
        if self.source.finished and not self.source.restartable:
            return self.ring.available() == 0
        silent_for = time.monotonic() - self._last_audio
        if silent_for < self.config.watchdog_s or (self._recovery and self._recovery.is_alive()):
            return False
        self.counters["stalls"] += 1
        log.warning("audio source %r delivered nothing for %.1f s: reopening it",
                    self.source.name, silent_for)
        self._recovery = threading.Thread(target=self._recover, name="rtsim-recovery",
                                          daemon=True)
        self._recovery.start()
        return False

    def _recover(self) -> None:
        """Reopen the source with backoff until it delivers again or the engine stops."""
        delay = 0.25
        while not self._stop.is_set():
            attempt = threading.Thread(target=self._restart_source, daemon=True)
            attempt.start()
            attempt.join(timeout=max(2.0, self.config.watchdog_s))  # a hung open is abandoned
            if not attempt.is_alive() and self._delivers_again():
                self.counters["recoveries"] += 1
                self._last_audio = time.monotonic()
                log.info("audio source %r is back", self.source.name)
                return
            if self._stop.wait(delay):
                return
            delay = min(10.0, delay * 2)

    def _delivers_again(self) -> bool:
        written = self.ring.written
        self._stop.wait(min(1.0, self.config.watchdog_s))
        return self.ring.written > written

    def _restart_source(self) -> None:
        try:
            self.source.restart(self.ring)
        except Exception as exc:  # the device may not be back yet: retried with backoff
            log.warning("reopening %r failed: %s", self.source.name, exc)

    def _time_of(self, ch: int | None, index: float, end_time: float) -> float:
        """Capture time of sample ``index`` of input tap ``ch``'s stream."""
        return end_time - (self._seen[ch] - 1 - index) / self.source.sr

    def _dispatch_onsets(self, ch: int | None, tap: InputTap, end_time: float) -> None:
        """Hand new onsets to the tap's pipelines; keep pending ones' peak level current."""
        for onset in tap.onsets:
            when = self._time_of(ch, onset.index - 1, end_time)
            for p in self._tap_pipelines[ch]:
                p.note_onset(when, onset.level_db)
        tap.onsets.clear()
        if tap.onset_state is not None:
            for p in self._tap_pipelines[ch]:
                p.raise_onset_level(tap.onset_state.peak_db)

    def _run_frontends(self, end_time: float) -> list:
        events: list = []
        for (ch, _), (tap, pipelines) in self.frontends.items():
            t0 = time.perf_counter()
            frames = tap.push(tap.source.mono)
            self.timer.record("frontend", time.perf_counter() - t0)
            if len(frames.data) == 0:
                continue
            times = self._time_of(ch, frames.device_index, end_time)
            host = None  # frames computed on a GPU stay there for pipelines that run there
            for p in pipelines:
                if p.frames_on_device and frames.data.is_cuda:
                    data = frames.data
                else:
                    data = host = frames.data.cpu().numpy() if host is None else host
                events += p.push(data, times, level_db=tap.source.level_db, timer=self.timer)
        return events

    def _publish(self, events: list) -> None:
        for pub in self.publishers:
            for ev in events:
                try:
                    if isinstance(ev, HopEvent):
                        pub.publish_hop(ev)
                    else:
                        pub.publish_trigger(ev)
                except Exception as exc:  # a publisher must never stop the hop loop
                    self._publish_failed(pub, exc)

    def _publish_failed(self, pub: Publisher, exc: Exception) -> None:
        self.counters["publish_errors"] += 1
        if self.counters["publish_errors"] in (1, 10, 100, 1000) or \
                self.counters["publish_errors"] % 10000 == 0:
            log.error("publisher %s failed (%d so far): %s", type(pub).__name__,
                      self.counters["publish_errors"], exc)

    def _idle_seconds(self) -> float:
        """Sleep until the next frame can complete (at most 5 ms, at least 0.2 ms)."""
        need = min(
            (tap.frontend.properties.frame_end(tap.fe_state.next_frame) - tap.fe_state.n_seen)
            * self.source.sr / tap.frontend.properties.sr
            - self.ring.available()
            for tap, _ in self.frontends.values()
        )
        return min(0.005, max(0.0002, need / self.source.sr))

    # -- status ----------------------------------------------------------------------
    def status(self) -> StatusEvent:
        """A heartbeat snapshot."""
        hop = self.timer.stages["hop"]
        counters = {
            "silent_hops": sum(p.counters.silent for p in self.pipelines),
            "triggers": sum(p.counters.triggers for p in self.pipelines),
            "bad_vectors": sum(p.counters.bad_vectors for p in self.pipelines),
            "publish_errors": self.counters["publish_errors"],
            "controls_dropped": self.counters["controls_dropped"],
            "step_errors": self.counters["step_errors"],
            "ring_fill": self.ring.available(),
            "swaps": sum(p.swaps for p in self.pipelines),
        }
        if self.control is not None:
            counters.update({f"control_{k}": v for k, v in self.control.counters.items()})
        stats = self.source.stats()
        counters.update({k: int(stats[k]) for k in ("rate_mismatch", "measured_rate",
                                                     "block_size_changes") if k in stats})
        self._status_seq += 1
        return StatusEvent(
            seq=self._status_seq - 1, time=time.time(),
            hops=sum(p.counters.hops for p in self.pipelines),
            missed_hops=sum(p.counters.missed for p in self.pipelines),
            xruns=int(stats.get("xruns", 0)), dropped_samples=int(self.ring.dropped),
            bad_samples=self.counters["bad_samples"] + int(stats.get("nonfinite", 0)),
            latency_ms=({"p50": hop.percentile(50) * 1e3, "p99": hop.percentile(99) * 1e3,
                         "p999": hop.percentile(99.9) * 1e3} if hop.n
                        else {}),  # not measured yet: -1 on the wire, as the schema says
            counters=counters,
        )

    def _maybe_heartbeat(self) -> None:
        now = time.monotonic()
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + self.config.heartbeat_s
            self._heartbeat()

    def _heartbeat(self) -> None:
        ev = self.status()
        for pub in self.publishers:
            try:
                pub.publish_status(ev)
            except Exception as exc:
                self._publish_failed(pub, exc)
