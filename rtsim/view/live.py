"""The engine's ZeroMQ stream, bridged to any number of browsers.

A :class:`ZmqFollower` thread subscribes to one embedder's hops and triggers on an
engine's ZeroMQ PUB socket and hands each one, as a small JSON text, to a :class:`Hub`.
The hub keeps, per browser, only the newest hop and a short queue of triggers, and wakes
that browser's sender: a browser that reads slowly (or not at all) skips hops it had no
time for (counted) and delays nobody: not the other browsers, not the follower thread,
and never the engine, whose PUB socket does not wait for anyone.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import threading

from rtsim.errors import WireError

__all__ = ["Hub", "Viewer", "ZmqFollower", "hop_message", "trigger_message"]

log = logging.getLogger(__name__)

TRIGGERS_KEPT = 32  # per browser: triggers waiting to be sent beyond this are dropped


def hop_message(header: dict) -> str:
    """A hop header (ZeroMQ, msgpack) as the page's JSON message."""
    return json.dumps({"type": "hop", "seq": header["seq"], "xyz": header["xyz"],
                       "ids": header["ids"], "distances": header["distances"],
                       "silent": header["silent"], "level_db": header["level_db"]})


def trigger_message(header: dict) -> str:
    """A trigger header as the page's JSON message."""
    return json.dumps({"type": "trigger", "seq": header["seq"], "id": header["id"],
                       "name": header["name"], "distance": header["distance"]})


class Viewer:
    """One browser's queue: the newest hop and the triggers not yet sent."""

    def __init__(self) -> None:
        self.hop: str | None = None
        self.triggers: collections.deque[str] = collections.deque(maxlen=TRIGGERS_KEPT)
        self.wake = asyncio.Event()
        self.sent = 0
        self.skipped = 0  # hops replaced before this browser could take them

    def offer(self, kind: str, text: str) -> None:
        """Queue a message (event loop thread); never waits."""
        if kind == "hop":
            self.skipped += self.hop is not None
            self.hop = text
        else:
            self.triggers.append(text)
        self.wake.set()

    def take(self) -> list[str]:
        """The waiting messages, triggers first, and clear them."""
        out = list(self.triggers)
        self.triggers.clear()
        if self.hop is not None:
            out.append(self.hop)
            self.hop = None
        self.wake.clear()
        return out

    async def pump(self, send) -> None:
        """Send what arrives with ``send`` (an async callable) until it fails or is cancelled."""
        while True:
            await self.wake.wait()
            for text in self.take():
                await send(text)
                self.sent += 1


class Hub:
    """The browsers following the stream (used from the event loop's thread only)."""

    def __init__(self) -> None:
        self.viewers: set[Viewer] = set()
        self.received = 0

    def publish(self, kind: str, text: str) -> None:
        """Offer one message to every browser."""
        self.received += 1
        for v in self.viewers:
            v.offer(kind, text)


class ZmqFollower:
    """Subscribe to ``embedder``'s hops and triggers at ``endpoint``; feed ``deliver``.

    Parameters
    ----------
    endpoint : str
        The engine's ``[zmq] endpoint`` (e.g. ``tcp://127.0.0.1:5556``).
    embedder : str
    deliver : callable
        ``deliver(kind, text)``, called from the follower's thread (wrap it with
        ``loop.call_soon_threadsafe``).
    """

    def __init__(self, endpoint: str, embedder: str, deliver) -> None:
        self.endpoint, self.embedder, self.deliver = endpoint, embedder, deliver
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtsim-view-zmq", daemon=True)

    def start(self) -> None:
        """Connect and start following."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (returns once it has closed its socket)."""
        self._stop.set()
        self._thread.join(2.0)

    def _run(self) -> None:
        import zmq

        from rtsim.publish.zmq import recv_event

        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        for kind in ("hop", "trigger"):
            sock.setsockopt(zmq.SUBSCRIBE, f"{kind}/{self.embedder}".encode())
        try:
            sock.connect(self.endpoint)
        except zmq.ZMQError as exc:
            self.errors += 1
            log.error("view: cannot connect to the engine at %r (%s); showing the library "
                      "alone", self.endpoint, exc)
            sock.close(0)
            return
        try:
            while not self._stop.is_set():
                if not sock.poll(100):
                    continue
                try:
                    topic, header, _ = recv_event(sock)
                    kind = topic.split("/", 1)[0]
                    if topic != f"{kind}/{self.embedder}":  # a prefix match: hop/stem vs stem/bass
                        continue
                    text = hop_message(header) if kind == "hop" else trigger_message(header)
                except (WireError, KeyError, TypeError, ValueError) as exc:
                    self.errors += 1
                    if self.errors == 1:
                        log.warning("view: undecodable message from %s (%s); counted, skipped",
                                    self.endpoint, exc)
                    continue
                self.deliver(kind, text)
        finally:
            sock.close(0)
