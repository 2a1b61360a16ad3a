"""The control plane's two transports: an OSC (UDP) server and a ZeroMQ REP server.

Each owns its socket and its receiving loop (a thread body), and hands every request to
the plane it serves through two calls: ``admit()`` (the shared rate limit) and
``submit(address, args, reply)`` (check, queue, answer). Nothing here knows what a
command means.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from concurrent.futures import Future

from rtsim.errors import ConfigError, WireError
from rtsim.publish.osc import encode_message
from rtsim.publish.osc_bundles import pack_bundles
from rtsim.publish.oscin import decode_datagram

__all__ = ["OscServer", "ZmqServer", "page_bundles"]

log = logging.getLogger(__name__)


class OscServer:
    """Commands as OSC datagrams on ``host:port``; answers go back to the sender.

    ``allow``: source addresses admitted (empty: any). The socket is bound at once, so a
    port in use is a start-up error.
    """

    def __init__(self, plane, *, host: str, port: int, allow=()) -> None:
        self.plane, self.allow = plane, tuple(allow)
        self.slowest_datagram_s = 0.0  # longest check + decode + submit of one datagram
        self._next_log, self._skipped_logs = 0.0, 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            raise ConfigError(f"control port {host}:{port} cannot be bound: {exc}") from exc
        self.sock.settimeout(0.1)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return self.sock.getsockname()[1]

    def loop(self, stop: threading.Event) -> None:
        """Receive until ``stop`` is set (a thread body)."""
        counters = self.plane.counters
        while not stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except (TimeoutError, OSError):
                continue
            if self.allow and addr[0] not in self.allow:
                counters["refused_source"] += 1
                continue
            if not self.plane.admit():
                continue
            t0 = time.perf_counter()
            self._datagram(data, addr)
            self.slowest_datagram_s = max(self.slowest_datagram_s, time.perf_counter() - t0)

    def _datagram(self, data: bytes, addr) -> None:
        try:
            commands = decode_datagram(data)
        except WireError as exc:
            self.plane.counters["malformed"] += 1
            self._log_sparsely("malformed OSC from %s: %s", addr, exc)
            return
        for address, args in commands:
            self.plane.submit(address, args, lambda ok, detail, answer=None, a=address,
                              to=addr: self._reply(to, a, ok, detail, answer))

    def _reply(self, to, address: str, ok: bool, detail: str, answer=None) -> None:
        if address == "/rtsim/ping" and ok:
            packets = [encode_message("/rtsim/pong", "i", [int(detail)])]
        else:
            packets = [encode_message("/rtsim/reply", "sss",
                                      [address, "ok" if ok else "error", detail[:400]])]
        if answer is not None and answer.page is not None:
            packets = page_bundles(self.plane.schema, answer.page) + packets
        try:
            for packet in packets:
                self.sock.sendto(packet, to)
        except OSError:
            pass

    def _log_sparsely(self, fmt: str, *args) -> None:
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

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


def page_bundles(schema, page) -> list[bytes]:
    """An item page as OSC bundles that each fit a datagram.

    Its ``/item`` messages, then ``/items/page`` (addresses from the schema). A path too
    long for a datagram is sent empty.
    """
    limit = schema.max_packet_bytes
    item = schema.message("control", "item").expand(embedder=page.embedder)
    messages = []
    for i, path, offset, length in page.items:
        msg = encode_message(item, "isff", [i, path, offset, length])
        if len(msg) > limit - 20:  # bundle header and size prefix
            msg = encode_message(item, "isff", [i, "", offset, length])
        messages.append(msg)
    messages.append(encode_message(schema.message("control", "page").expand(
        embedder=page.embedder), "iii", [page.first, len(page.items), page.total]))
    return pack_bundles(messages, timetag=1, limit=limit)


class ZmqServer:
    """Commands as JSON requests on a ZeroMQ REP socket, each answered when applied.

    Request ``{"address": ..., "args": [...]}``; answer ``{"ok": ..., "detail": ...}``
    (``"pong"`` for a ping), or "did not apply in time" after ``timeout_s``. With
    ``curve_secret``, only CURVE clients whose public keys are in ``curve_clients`` get in.
    """

    def __init__(self, plane, *, endpoint: str, timeout_s: float, curve_secret=None,
                 curve_clients=None) -> None:
        import zmq

        from rtsim.publish.zmq import bind_with_retry

        self.plane, self.timeout_s = plane, timeout_s
        self._auth = self._zctx = None  # CURVE authenticator and its context
        if curve_secret:
            self.rep = self._curve_socket(curve_secret, curve_clients)
        else:
            self.rep = zmq.Context.instance().socket(zmq.REP)
        self.rep.setsockopt(zmq.LINGER, 0)
        try:
            bind_with_retry(self.rep, endpoint)
        except ConfigError:
            self.close()
            raise

    def _curve_socket(self, curve_secret, curve_clients):
        """A REP socket that only CURVE clients with an authorised certificate reach.

        It lives in its own context: the authenticator binds ZeroMQ's one ZAP endpoint
        per context.
        """
        import zmq
        import zmq.auth
        from zmq.auth.thread import ThreadAuthenticator

        try:
            public, secret = zmq.auth.load_certificate(curve_secret)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"control curve_secret={curve_secret!r}: {exc}") from exc
        if secret is None:
            raise ConfigError(f"control curve_secret={curve_secret!r} holds no secret key "
                              "(give the .key_secret file, not the .key)")
        self._zctx = zmq.Context()
        self._auth = ThreadAuthenticator(self._zctx, log=log)
        self._auth.start()
        self._auth.configure_curve(domain="*", location=str(curve_clients))
        rep = self._zctx.socket(zmq.REP)
        rep.curve_secretkey, rep.curve_publickey, rep.curve_server = secret, public, True
        return rep

    def loop(self, stop: threading.Event) -> None:
        """Answer requests until ``stop`` is set (a thread body)."""
        import zmq

        poller = zmq.Poller()
        poller.register(self.rep, zmq.POLLIN)
        while not stop.is_set():
            if poller.poll(100):
                self.rep.send_json(self._answer(self.rep.recv()))

    def _answer(self, raw: bytes) -> dict:
        if not self.plane.admit():
            return {"ok": False, "detail": "rate limited"}
        try:
            req = json.loads(raw)
            address, args = req["address"], tuple(req.get("args", ()))
            if not isinstance(address, str):
                raise TypeError("address must be a string")
        except (ValueError, KeyError, TypeError) as exc:
            self.plane.counters["malformed"] += 1
            return {"ok": False, "detail": f"malformed request: {exc}"}
        done: Future = Future()
        self.plane.submit(address, args, lambda ok, detail, answer=None:
                          done.set_result((ok, detail, answer)))
        try:
            ok, detail, answer = done.result(timeout=self.timeout_s)
        except TimeoutError:
            ok, detail, answer = False, "the engine did not apply the command in time", None
        out = {"ok": ok, "detail": "" if ok else detail,
               **({"pong": int(detail)} if ok and address == "/rtsim/ping" else {})}
        if answer is not None and answer.page is not None:
            page = answer.page
            out.update(first=page.first, total=page.total, items=[list(r) for r in page.items])
        return out

    def close(self) -> None:
        """Close the socket (and the CURVE authenticator)."""
        if not self.rep.closed:
            self.rep.close(linger=0)
        if self._auth is not None:
            self._auth.stop()
            self._zctx.term()
            self._auth = self._zctx = None
