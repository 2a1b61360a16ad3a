"""The engine's heartbeat: one :class:`~rtsim.publish.events.StatusEvent` from its counters.

Read-only: it gathers what the pipelines, the ring, the source, the control plane and the
stage timer have counted, and changes none of them.
"""

from __future__ import annotations

import time

from rtsim.publish.events import StatusEvent

__all__ = ["status_event", "Heartbeat"]


def status_event(engine, seq: int) -> StatusEvent:
    """The heartbeat number ``seq`` of ``engine``."""
    pipelines = engine.pipelines
    hop = engine.timer.stages["hop"]
    counters = {
        "silent_hops": sum(p.counters.silent for p in pipelines),
        "triggers": sum(p.counters.triggers for p in pipelines),
        "bad_vectors": sum(p.counters.bad_vectors for p in pipelines),
        "publish_errors": engine.counters["publish_errors"],
        "controls_dropped": engine.counters["controls_dropped"],
        "step_errors": engine.counters["step_errors"],
        "ring_fill": engine.ring.available(),
        "swaps": sum(p.swaps for p in pipelines),
    }
    if engine.control is not None:
        counters.update({f"control_{k}": v for k, v in engine.control.counters.items()})
    stats = engine.source.stats()
    counters.update({k: int(stats[k]) for k in ("rate_mismatch", "measured_rate",
                                                 "block_size_changes") if k in stats})
    return StatusEvent(
        seq=seq, time=time.time(),
        hops=sum(p.counters.hops for p in pipelines),
        missed_hops=sum(p.counters.missed for p in pipelines),
        xruns=int(stats.get("xruns", 0)), dropped_samples=int(engine.ring.dropped),
        bad_samples=engine.counters["bad_samples"] + int(stats.get("nonfinite", 0)),
        latency_ms=({"p50": hop.percentile(50) * 1e3, "p99": hop.percentile(99) * 1e3,
                     "p999": hop.percentile(99.9) * 1e3} if hop.n
                    else {}),  # not measured yet: -1 on the wire, as the schema says
        counters=counters,
    )


class Heartbeat:
    """Numbered heartbeats of ``engine``, sent to its publishers every ``interval_s``."""

    def __init__(self, engine, interval_s: float) -> None:
        self.engine, self.interval_s = engine, interval_s
        self.seq, self._next = 0, 0.0

    def snapshot(self) -> StatusEvent:
        """The next heartbeat (numbered, not sent)."""
        self.seq += 1
        return status_event(self.engine, self.seq - 1)

    def maybe_send(self) -> None:
        """Send one if ``interval_s`` has passed since the last."""
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.interval_s
            self.send()

    def send(self) -> None:
        """Send one now."""
        self.engine.fanout.status(self.snapshot())
