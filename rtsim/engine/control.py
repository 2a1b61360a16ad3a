"""The control plane's network side: commands over OSC (UDP) and ZeroMQ (REP).

It owns the sockets, the source checks, the rate limit, the queue to the engine and the
replies; what each command means and how it is checked is :mod:`rtsim.engine.commands`.

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

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from rtsim.engine.commands import Commands
from rtsim.engine.settings import ControlConfig
from rtsim.errors import ConfigError, RtsimError, WireError
from rtsim.publish.osc import encode_message
from rtsim.publish.oscin import decode_datagram
from rtsim.publish.schema import load_schema

__all__ = ["ControlConfig", "ControlPlane"]

log = logging.getLogger(__name__)


class ControlPlane:
    """Receive, check, queue, apply and answer commands for one engine."""

    def __init__(self, engine, config: ControlConfig) -> None:
        self.engine, self.config = engine, config
        self.schema = load_schema()
        self.commands = Commands(engine, roots=config.roots, schema=self.schema)
        self.counters = {"received": 0, "applied": 0, "rejected": 0, "malformed": 0,
                         "refused_source": 0, "rate_limited": 0}
        self._tokens, self._refill = config.max_rate, time.monotonic()
        self._bucket = threading.Lock()
        self.slowest_datagram_s = 0.0  # longest check + decode + submit of one datagram
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sock: socket.socket | None = None
        self._rep = None
        self._auth = self._zctx = None  # CURVE authenticator and its context
        self._next_log = 0.0
        self._skipped_logs = 0
        if config.enabled:
            self._bind()

    def _bind(self) -> None:
        """Open the sockets now, so that a port in use is a start-up error."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind((self.config.host, self.config.port))
        except OSError as exc:
            self._sock.close()
            raise ConfigError(f"control port {self.config.host}:{self.config.port} cannot be "
                              f"bound: {exc}") from exc
        self._sock.settimeout(0.1)
        if self.config.zmq_endpoint:
            import zmq

            from rtsim.publish.zmq import bind_with_retry

            if self.config.curve_secret:
                self._rep = self._curve_socket()
            else:
                self._rep = zmq.Context.instance().socket(zmq.REP)
            self._rep.setsockopt(zmq.LINGER, 0)
            try:
                bind_with_retry(self._rep, self.config.zmq_endpoint)
            except ConfigError:
                self._sock.close()
                raise

    def _curve_socket(self):
        """A REP socket that only CURVE clients with an authorised certificate reach.

        It lives in its own context: the authenticator binds ZeroMQ's one ZAP endpoint
        per context.
        """
        import zmq
        import zmq.auth
        from zmq.auth.thread import ThreadAuthenticator

        try:
            public, secret = zmq.auth.load_certificate(self.config.curve_secret)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"control curve_secret={self.config.curve_secret!r}: {exc}") \
                from exc
        if secret is None:
            raise ConfigError(f"control curve_secret={self.config.curve_secret!r} holds no "
                              "secret key (give the .key_secret file, not the .key)")
        self._zctx = zmq.Context()
        self._auth = ThreadAuthenticator(self._zctx, log=log)
        self._auth.start()
        self._auth.configure_curve(domain="*", location=str(self.config.curve_clients))
        rep = self._zctx.socket(zmq.REP)
        rep.curve_secretkey, rep.curve_publickey, rep.curve_server = secret, public, True
        return rep

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the receiving threads."""
        if self._sock is None:
            return
        self._stop.clear()
        self._spawn(self._osc_loop, "rtsim-control-osc")
        if self._rep is not None:
            self._spawn(self._zmq_loop, "rtsim-control-zmq")

    @property
    def port(self) -> int:
        """The bound OSC port (useful with port 0)."""
        return self._sock.getsockname()[1] if self._sock else 0

    def stop(self) -> None:
        """Stop the threads and close the sockets (idempotent)."""
        self._stop.set()
        for t in self._threads:
            t.join(1.0)
        self._threads.clear()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._rep is not None and not self._rep.closed:
            self._rep.close(linger=0)
        self._rep = None
        if self._auth is not None:
            self._auth.stop()
            self._zctx.term()
            self._auth = self._zctx = None

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    # -- transports --------------------------------------------------------------------
    def _osc_loop(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self._sock.recvfrom(65536)
            except (TimeoutError, OSError):
                continue
            if self.config.allow and addr[0] not in self.config.allow:
                self.counters["refused_source"] += 1
                continue
            if not self._admit():
                continue
            t0 = time.perf_counter()
            self._datagram(data, addr)
            self.slowest_datagram_s = max(self.slowest_datagram_s, time.perf_counter() - t0)

    def _datagram(self, data: bytes, addr) -> None:
        try:
            commands = decode_datagram(data)
        except WireError as exc:
            self.counters["malformed"] += 1
            self._rate_limited("malformed OSC from %s: %s", addr, exc)
            return
        for address, args in commands:
            self.submit(address, args, lambda ok, detail, a=address, to=addr:
                        self._osc_reply(to, a, ok, detail))

    def _admit(self) -> bool:
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

    def _osc_reply(self, to, address: str, ok: bool, detail: str) -> None:
        if address == "/rtsim/ping" and ok:
            packet = encode_message("/rtsim/pong", "i", [int(detail)])
        else:
            packet = encode_message("/rtsim/reply", "sss",
                                    [address, "ok" if ok else "error", detail[:400]])
        try:
            self._sock.sendto(packet, to)
        except (OSError, AttributeError):
            pass

    def _zmq_loop(self) -> None:
        import zmq

        poller = zmq.Poller()
        poller.register(self._rep, zmq.POLLIN)
        while not self._stop.is_set():
            if not poller.poll(100):
                continue
            raw = self._rep.recv()
            if not self._admit():
                self._rep.send_json({"ok": False, "detail": "rate limited"})
                continue
            try:
                req = json.loads(raw)
                address, args = req["address"], tuple(req.get("args", ()))
                if not isinstance(address, str):
                    raise TypeError("address must be a string")
            except (ValueError, KeyError, TypeError) as exc:
                self.counters["malformed"] += 1
                self._rep.send_json({"ok": False, "detail": f"malformed request: {exc}"})
                continue
            done: Future = Future()
            self.submit(address, args, lambda ok, detail, f=done: f.set_result((ok, detail)))
            try:
                ok, detail = done.result(timeout=self.config.timeout_s)
            except TimeoutError:
                ok, detail = False, "the engine did not apply the command in time"
            self._rep.send_json({"ok": ok, "detail": "" if ok else detail,
                                 **({"pong": int(detail)} if ok and address == "/rtsim/ping"
                                    else {})})

    # -- commands ----------------------------------------------------------------------
    def submit(self, address: str, args: tuple, reply: Callable[[bool, str], None]) -> None:
        """Check a command; queue it for the engine; ``reply(ok, detail)`` when done."""
        self.counters["received"] += 1
        try:
            apply = self.commands.prepare(address, args)
        except (WireError, RtsimError, ValueError) as exc:
            self.counters["rejected"] += 1
            reply(False, str(exc))
            return
        if apply is None:  # answered at once (ping)
            reply(True, str(args[0]))
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

    def _rate_limited(self, fmt: str, *args) -> None:
        """At most one log line per second; the lines skipped are counted in the next."""
        now = time.monotonic()
        if now < self._next_log:
            self._skipped_logs += 1
            return
        self._next_log = now + 1.0
        suffix = f" ({self._skipped_logs} similar since the last line)" if self._skipped_logs \
            else ""
        self._skipped_logs = 0
        log.warning(fmt + suffix, *args)
