"""The ZeroMQ publisher: the same events as OSC, with the whole embedding vector.

Each event is one multipart message on a PUB socket (topics and header keys are in the
schema, ``[zmq.*]``)::

    [b"hop/<embedder>", msgpack header, raw float32 vector]
    [b"trigger/<embedder>", msgpack header]
    [b"status", msgpack header]

Sends never block, and a stalled subscriber costs only itself: once its queue is at the
high-water mark, ZeroMQ drops that subscriber's messages while the others keep receiving
every one. ``XPUB_NODROP`` is deliberately not set: with it, one full queue makes the
whole send fail with ``EAGAIN`` and starves every healthy subscriber (libzmq checks the
high-water mark of all matching pipes before sending to any). A subscriber detects its
own losses from gaps in the header's ``seq``. (``CONFLATE`` cannot bound the queue
instead: it does not support multipart messages.) Non-finite floats are replaced as on
OSC. Subscribers decode with :func:`recv_event`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import msgpack
import numpy as np
import zmq

from rtsim.errors import ConfigError, WireError
from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent
from rtsim.publish.osc_layout import f32
from rtsim.publish.schema import load_schema
from rtsim.publish.spec import Schema

__all__ = ["ZmqConfig", "ZmqCounters", "ZmqPublisher", "recv_event", "VECTOR_DTYPE"]

log = logging.getLogger(__name__)
#: dtype of the vector frame (little-endian float32).
VECTOR_DTYPE = "<f4"
BIND_RETRY_S = 2.0


@dataclass(frozen=True, slots=True)
class ZmqConfig:
    """Where and how ZeroMQ is published.

    Attributes
    ----------
    endpoint : str
        Endpoint the PUB socket binds (``tcp://host:port``, ``ipc://path``, ``inproc://name``).
    enabled : bool
        False makes the publisher a no-op without a socket.
    sndhwm : int
        Messages queued per subscriber before further ones to that subscriber are dropped
        (the subscriber sees the gap in ``seq``).
    """

    endpoint: str = "tcp://127.0.0.1:5556"
    enabled: bool = True
    sndhwm: int = 1000

    def __post_init__(self) -> None:
        if not isinstance(self.endpoint, str) or "://" not in self.endpoint:
            raise ConfigError(f"zmq endpoint={self.endpoint!r} must look like tcp://host:port")
        if not isinstance(self.sndhwm, int) or self.sndhwm < 1:
            raise ConfigError(f"zmq sndhwm={self.sndhwm!r} must be a positive integer")


@dataclass(slots=True)
class ZmqCounters:
    """What the ZeroMQ publisher did (monotonic counts)."""

    sent: int = 0
    send_errors: int = 0
    nonfinite: int = 0


class ZmqPublisher:
    """Publish events on a bound PUB (XPUB) socket.

    The last message of every topic is kept; a subscriber that connects late receives
    the current state of each topic it subscribes to at once (the newest hop of every
    embedder, the last trigger and heartbeat) instead of waiting for the next one.
    Subscribers already connected may see that message twice: its ``seq`` says so.

    Parameters
    ----------
    config : ZmqConfig
        Endpoint and queue size.
    context : zmq.Context, optional
        Defaults to the process-wide instance (``inproc://`` subscribers must share it).
    schema : Schema, optional
        Defaults to the shipped schema.

    Raises
    ------
    ConfigError
        If the endpoint cannot be bound (malformed, or address in use).
    """

    def __init__(self, config: ZmqConfig, *, context: zmq.Context | None = None,
                 schema: Schema | None = None):
        self.config = config
        self.schema = schema or load_schema()
        self.counters = ZmqCounters()
        self._topics = {key: self.schema.zmq_message(key) for key in ("hop", "trigger", "status")}
        self._cache: dict[tuple[str, str], bytes] = {}
        self._fallback = {key: [a.nonfinite for a in self.schema.message(group, key).args]
                          for group, key in (("hop", "level"), ("hop", "xyz"), ("hop", "match"),
                                             ("status", "latency"))}
        self._sock: zmq.Socket | None = None
        self._logged: set[str] = set()
        self._last: dict[bytes, list] = {}
        if config.enabled:
            self._sock = _bind(context or zmq.Context.instance(), config)

    @property
    def endpoint(self) -> str | None:
        """The bound endpoint, with a wildcard port resolved (``tcp://127.0.0.1:*``)."""
        if self._sock is None:
            return None
        return self._sock.getsockopt_string(zmq.LAST_ENDPOINT)

    def publish_hop(self, ev: HopEvent) -> None:
        """Send ``[topic, header, vector]`` for one embedder's hop."""
        if self._sock is None:
            return
        fb, c = self._fallback, self.counters
        vector = self._vector(ev.vector)
        header = {
            "seq": ev.seq, "capture_time": ev.capture_time, "embedder": ev.embedder,
            "k": 0 if ev.silent else ev.k,
            "ids": [] if ev.silent else ev.ids.tolist(),
            "distances": [] if ev.silent else [f32(d, fb["match"][1], c)
                                               for d in ev.distances.tolist()],
            "names": [] if ev.silent else list(ev.names),
            "paths": [f[0] for f in ev.files] if not ev.silent else [],
            "offsets": [f[1] for f in ev.files] if not ev.silent else [],
            "lengths": [f[2] for f in ev.files] if not ev.silent else [],
            "raw_ids": [] if ev.silent else (ev.ids if ev.raw_ids is None
                                             else ev.raw_ids).tolist(),
            "xyz": [f32(v, f, c) for v, f in zip(ev.xyz.tolist(), fb["xyz"], strict=True)],
            "level_db": f32(ev.level_db, fb["level"][0], c), "silent": bool(ev.silent),
            "dtype": VECTOR_DTYPE, "shape": [vector.size],
        }
        self._send(("hop", ev.embedder), header, vector)

    def publish_trigger(self, ev: TriggerEvent) -> None:
        """Send ``[topic, header]`` for one onset."""
        if self._sock is None:
            return
        fb, c = self._fallback, self.counters
        header = {"seq": ev.seq, "capture_time": ev.capture_time, "embedder": ev.embedder,
                  "id": int(ev.id), "name": ev.name,
                  "distance": f32(ev.distance, fb["match"][1], c),
                  "level_db": f32(ev.level_db, fb["level"][0], c),
                  "path": ev.file, "offset": float(ev.offset_s), "length": float(ev.length_s)}
        self._send(("trigger", ev.embedder), header)

    def publish_status(self, ev: StatusEvent) -> None:
        """Send ``[b"status", header]``."""
        if self._sock is None:
            return
        c, fallback = self.counters, self._fallback["latency"][0]
        header = {key: getattr(ev, key) for key in ("seq", "time", "hops", "missed_hops",
                                                    "xruns", "dropped_samples", "bad_samples")}
        header["latency_ms"] = {p: f32(float(v), fallback, c) for p, v in ev.latency_ms.items()}
        header["counters"] = {name: int(v) for name, v in ev.counters.items()}
        self._send(("status", ""), header)

    def close(self) -> None:
        """Close the socket without lingering (idempotent)."""
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None

    def __enter__(self) -> ZmqPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _topic(self, kind: str, embedder: str) -> bytes:
        key = (kind, embedder)
        if key not in self._cache:
            self._cache[key] = self._topics[kind].expand(embedder=embedder)
        return self._cache[key]

    def _vector(self, vector: np.ndarray) -> np.ndarray:
        vec = np.ascontiguousarray(vector, dtype=VECTOR_DTYPE).reshape(-1)
        finite = np.isfinite(vec)
        if not finite.all():
            self.counters.nonfinite += int(vec.size - finite.sum())
            vec = np.where(finite, vec, np.float32(0.0)).astype(VECTOR_DTYPE)
        return vec

    def _send(self, topic: tuple[str, str], header: dict, vector: np.ndarray | None = None) -> None:
        self._answer_subscriptions()
        frames = [self._topic(*topic), msgpack.packb(header, use_bin_type=True)]
        if vector is not None:
            frames.append(vector)
        self._last[frames[0]] = [frames[0], frames[1], *(
            [vector.tobytes()] if vector is not None else [])]
        self._send_frames(frames)

    def _answer_subscriptions(self) -> None:
        """Send the last message of each topic a new subscription covers."""
        while True:
            try:
                msg = self._sock.recv(zmq.NOBLOCK)
            except zmq.ZMQError:
                return
            if msg[:1] == b"\x01":
                for topic, frames in list(self._last.items()):
                    if topic.startswith(msg[1:]):
                        self._send_frames(frames)

    def _send_frames(self, frames: list) -> None:
        try:
            self._sock.send_multipart(frames, flags=zmq.NOBLOCK, copy=False)
        except zmq.ZMQError as exc:
            self.counters.send_errors += 1
            if exc.errno not in self._logged:
                self._logged.add(exc.errno)
                log.warning("ZeroMQ send failed (%s); counting further failures", exc)
            return
        self.counters.sent += 1


def _bind(context: zmq.Context, config: ZmqConfig) -> zmq.Socket:
    sock = context.socket(zmq.XPUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, config.sndhwm)
    sock.setsockopt(zmq.XPUB_VERBOSE, 1)  # every subscription, also repeated ones
    bind_with_retry(sock, config.endpoint)
    log.info("ZeroMQ PUB on %s", config.endpoint)
    return sock


def bind_with_retry(sock: zmq.Socket, endpoint: str, *, retry_s: float = BIND_RETRY_S) -> None:
    """Bind ``sock``, retrying "address in use" for ``retry_s``.

    A socket closed a moment ago (a config reload) releases its port asynchronously, in
    ZeroMQ's I/O thread.

    Raises
    ------
    ConfigError
        Naming the endpoint, if it cannot be bound (the socket is then closed).
    """
    deadline = time.monotonic() + retry_s
    while True:
        try:
            sock.bind(endpoint)
            return
        except zmq.ZMQError as exc:
            if exc.errno == zmq.EADDRINUSE and time.monotonic() < deadline:
                time.sleep(0.02)
                continue
            sock.close(linger=0)
            raise ConfigError(f"zmq endpoint={endpoint!r} cannot be bound: {exc}") from exc


def recv_event(socket: zmq.Socket, *, flags: int = 0) -> tuple[str, dict, np.ndarray | None]:
    """Receive one event published by :class:`ZmqPublisher`.

    Returns
    -------
    topic : str
        E.g. ``"hop/stem/bass"``.
    header : dict
        The msgpack header (keys as in the schema's ``[zmq.*]`` tables).
    vector : np.ndarray, shape (dim,), float32, or None
        The embedding (read-only, no copy) for hops; None for triggers and status.
    """
    frames = socket.recv_multipart(flags=flags, copy=False)
    if len(frames) not in (2, 3):
        raise WireError(f"expected 2 or 3 frames, got {len(frames)}")
    try:
        header = msgpack.unpackb(frames[1].bytes, raw=False)
    except (ValueError, msgpack.UnpackException) as exc:
        raise WireError(f"undecodable msgpack header: {exc}") from exc
    vector = None
    if len(frames) == 3:
        if header.get("dtype") != VECTOR_DTYPE or len(frames[2].buffer) % 4:
            raise WireError(f"vector frame dtype={header.get('dtype')!r}, expected '<f4'")
        vector = np.frombuffer(frames[2].buffer, dtype=VECTOR_DTYPE)
    return frames[0].bytes.decode("utf-8"), header, vector

