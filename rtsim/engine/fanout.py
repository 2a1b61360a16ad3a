"""Hand the engine's events to every publisher; a failing publisher never stops the loop.

OSC, ZeroMQ, the terminal view and the sampler all take the same
:class:`~rtsim.publish.events.HopEvent`, :class:`~rtsim.publish.events.TriggerEvent` and
:class:`~rtsim.publish.events.StatusEvent`. An exception from one is counted
(``publish_errors``) and logged sparsely (the 1st, 10th, 100th, 1000th, then every
10 000th), and the others still get the event.
"""

from __future__ import annotations

import logging
from typing import Protocol

from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent

__all__ = ["Publisher", "Fanout"]

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """Anything that takes the engine's events (OSC, ZeroMQ, the terminal view, the sampler)."""

    def publish_hop(self, ev: HopEvent) -> None:
        """Take one embedder's hop."""

    def publish_trigger(self, ev: TriggerEvent) -> None:
        """Take one onset's match."""

    def publish_status(self, ev: StatusEvent) -> None:
        """Take the heartbeat."""

    def close(self) -> None:
        """Release sockets, devices and files."""


class Fanout:
    """Every publisher, in order.

    Parameters
    ----------
    publishers : list of Publisher
        Kept as given (the engine and its control plane share this list).
    counters : dict
        Where ``publish_errors`` is counted.
    """

    def __init__(self, publishers: list, counters: dict) -> None:
        self.publishers, self.counters = publishers, counters

    def events(self, events: list) -> None:
        """Hops and triggers, each to every publisher."""
        for pub in self.publishers:
            for ev in events:
                try:
                    if isinstance(ev, HopEvent):
                        pub.publish_hop(ev)
                    else:
                        pub.publish_trigger(ev)
                except Exception as exc:  # a publisher must never stop the hop loop
                    self._failed(pub, exc)

    def status(self, ev: StatusEvent) -> None:
        """The heartbeat, to every publisher."""
        for pub in self.publishers:
            try:
                pub.publish_status(ev)
            except Exception as exc:
                self._failed(pub, exc)

    def _failed(self, pub, exc: Exception) -> None:
        n = self.counters["publish_errors"] = self.counters["publish_errors"] + 1
        if n in (1, 10, 100, 1000) or n % 10000 == 0:
            log.error("publisher %s failed (%d so far): %s", type(pub).__name__, n, exc)
