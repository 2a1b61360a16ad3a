"""The control plane: commands over OSC (UDP) and ZeroMQ (REP) into the engine.

It owns the rate limit, the counters, the queue to the engine and the answers; the
sockets and their loops are :mod:`rtsim.engine.control_servers`, and what each command
means and how it is checked is :mod:`rtsim.engine.commands`.

Both transports speak the schema's ``[control]`` addresses (``osc_schemas/schema.toml``):
an OSC datagram, or a ZeroMQ JSON request ``{"address": "/rtsim/ctl/disentangled/weights",
"args": [1, 0, 0.5, 0]}``. A command is checked (our own OSC checker before python-osc,
then arity, type, finiteness and range from the schema, then meaning: known embedder,
weights not all zero, ...), queued for the engine (bounded; overflow is refused and
counted) and applied between hops; the answer (``/rtsim/reply request ok|error detail``,
or JSON ``{"ok": ..., "detail": ...}``) goes to the sender once it has been applied. A
rejected command changes nothing. Binding is loopback by default; another interface needs
an explicit allow-list of source addresses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from rtsim.engine.commands import Answer, Commands
from rtsim.engine.control_servers import OscServer, ZmqServer
from rtsim.engine.settings import ControlConfig
from rtsim.errors import RtsimError, WireError
from rtsim.publish.schema import load_schema

__all__ = ["ControlConfig", "ControlPlane"]


class ControlPlane:
    """Receive, check, queue, apply and answer commands for one engine.

    The sockets are bound when it is made (``config.enabled``), so a port in use is a
    start-up error; :meth:`start` starts their threads.
    """

    def __init__(self, engine, config: ControlConfig) -> None:
        self.engine, self.config = engine, config
        self.schema = load_schema()
        self.commands = Commands(engine, roots=config.roots, schema=self.schema)
        self.counters = {"received": 0, "applied": 0, "rejected": 0, "malformed": 0,
                         "refused_source": 0, "rate_limited": 0}
        self._tokens, self._refill = config.max_rate, time.monotonic()
        self._bucket = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.osc: OscServer | None = None
        self.zmq: ZmqServer | None = None
        if config.enabled:
            self.osc = OscServer(self, host=config.host, port=config.port, allow=config.allow)
            if config.zmq_endpoint:
                try:
                    self.zmq = ZmqServer(self, endpoint=config.zmq_endpoint,
                                         timeout_s=config.timeout_s,
                                         curve_secret=config.curve_secret,
                                         curve_clients=config.curve_clients)
                except BaseException:
                    self.osc.close()
                    raise

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the receiving threads."""
        self._stop.clear()
        for server, name in ((self.osc, "osc"), (self.zmq, "zmq")):
            if server is not None:
                t = threading.Thread(target=server.loop, args=(self._stop,),
                                     name=f"rtsim-control-{name}", daemon=True)
                t.start()
                self._threads.append(t)

    @property
    def port(self) -> int:
        """The bound OSC port (useful with port 0)."""
        return self.osc.port if self.osc else 0

    @property
    def slowest_datagram_s(self) -> float:
        """Longest check + decode + submit of one OSC datagram so far."""
        return self.osc.slowest_datagram_s if self.osc else 0.0

    def stop(self) -> None:
        """Stop the threads and close the sockets (idempotent)."""
        self._stop.set()
        for t in self._threads:
            t.join(1.0)
        self._threads.clear()
        for server in (self.osc, self.zmq):
            if server is not None:
                server.close()
        self.osc = self.zmq = None

    # -- what the servers call -----------------------------------------------------------
    def admit(self) -> bool:
        """Token bucket of ``max_rate`` per second (one second of burst).

        Shared by the OSC and ZeroMQ threads, hence the lock.
        """
        with self._bucket:
            now = time.monotonic()
            rate = self.config.max_rate
            self._tokens = min(rate, self._tokens + (now - self._refill) * rate)
            self._refill = now
            if self._tokens < 1.0:
                self.counters["rate_limited"] += 1
                return False
            self._tokens -= 1.0
            return True

    def submit(self, address: str, args: tuple, reply: Callable[..., None]) -> None:
        """Check a command; queue it for the engine; ``reply(ok, detail)`` when done.

        A command answered at once (a ping, an item page) calls ``reply(True, detail,
        answer)`` with its :class:`~rtsim.engine.commands.Answer`.
        """
        self.counters["received"] += 1
        try:
            apply = self.commands.prepare(address, args)
        except (WireError, RtsimError, ValueError) as exc:
            self.counters["rejected"] += 1
            reply(False, str(exc))
            return
        if isinstance(apply, Answer):  # answered at once, nothing to apply
            reply(True, apply.detail, apply)
            return

        def run() -> None:
            try:
                apply()
            except Exception as exc:  # a command that fails at apply time changes nothing
                self.counters["rejected"] += 1
                reply(False, str(exc))
                return
            self.counters["applied"] += 1
            reply(True, "")

        if not self.engine.call_soon(run):
            self.counters["rejected"] += 1
            reply(False, "the command queue is full")
