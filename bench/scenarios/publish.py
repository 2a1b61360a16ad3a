"""``rtsim bench publish``: one hop on the wire, rtsim's encoders beside python-osc's.

Two cases: ``k5`` (a 128-d embedder, five matches, no ``/vector``: the default wire) and
``vector256`` (a 256-d embedder with ``OscConfig.vector = True`` and the largest k whose
bundle fits the datagram limit). Each case times, interleaved round-robin:

- ``osc_encode``: rtsim's precompiled hop bundle (:class:`HopLayout`), encode only;
- ``osc_send``: :meth:`OscPublisher.publish_hop`, encode + ``sendto`` to a loopback UDP
  socket;
- ``pythonosc``: python-osc's ``OscMessageBuilder``/``OscBundleBuilder`` building the same
  bundle (the message list is read from the schema; the bytes are checked equal first);
- ``zmq``: :meth:`ZmqPublisher.publish_hop` over ``tcp://127.0.0.1`` (topic, msgpack
  header, float32 vector), to a connected subscriber.

A thread drains the UDP socket and the subscriber while the timings run.
"""

from __future__ import annotations

import argparse
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import zmq
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from rtsim.bench.core import Report, interleaved
from rtsim.errors import ConfigError, WireError
from rtsim.publish.events import HopEvent
from rtsim.publish.osc import ntp_timetag, truncate_utf8
from rtsim.publish.osc_bundles import HopLayout
from rtsim.publish.osc_layout import OscCounters
from rtsim.publish.osc_publisher import OscConfig, OscPublisher
from rtsim.publish.schema import load_schema
from rtsim.publish.spec import Schema
from rtsim.publish.zmq import ZmqConfig, ZmqPublisher

__all__ = ["run", "Case", "CASES", "make_hop", "hop_plan", "pythonosc_hop", "largest_k"]

CAPTURE_TIME = 1_763_780_000.25
NAME_BYTES = 48


@dataclass(frozen=True)
class Case:
    """One embedder on the wire: its name, dimension, k asked for, and the vector option."""

    label: str
    embedder: str
    dim: int
    k: int
    vector: bool


#: ``vector256`` uses a short embedder name: a 256-float ``/vector`` message takes 1288
#: bytes, and with ``disentangled`` the bundle is over 1472 bytes even with no matches.
CASES = (Case("k5", "stem/bass", 128, 5, False),
         Case("vector256", "dis", 256, 5, True))


def make_hop(case: Case, *, k: int, seed: int = 0) -> HopEvent:
    """A realistic hop event for ``case`` carrying ``k`` matches."""
    rng = np.random.default_rng(seed)
    vector = rng.standard_normal(case.dim).astype(np.float32)
    return HopEvent(
        embedder=case.embedder, seq=1234, capture_time=CAPTURE_TIME,
        xyz=rng.uniform(-1, 1, 3).astype(np.float32), vector=vector / np.linalg.norm(vector),
        ids=rng.integers(0, 1_000_000, k).astype(np.int64),
        distances=np.sort(rng.uniform(0, 1, k)).astype(np.float32),
        names=tuple(f"bass_take_{i:03d}.wav @ 12.5 s" for i in range(k)), level_db=-18.5)


def largest_k(schema: Schema, case: Case) -> int:
    """The largest k <= ``case.k`` whose worst-case hop bundle fits one datagram."""
    layout = HopLayout(schema, embedder=case.embedder, dim=case.dim, k=case.k,
                       name_bytes=NAME_BYTES, vector=case.vector)
    fits = [k for k in range(case.k + 1) if layout.worst_case_for(k) <= schema.max_packet_bytes]
    if not fits:
        raise ConfigError(f"{case.embedder}: no k fits (dim={case.dim}, vector={case.vector})")
    return fits[-1]


# ---------------------------------------------------------------- python-osc, from the schema

_SOURCE = re.compile(r"(?P<field>\w+)(?:\[(?P<index>\w+)\])?")
_CAST: dict[str, Callable[[object], object]] = {"i": int, "f": float, "s": str}
Plan = list[tuple[str, str, Callable[[HopEvent], list]]]


def _getter(source: str, tag: str, rank: int) -> Callable[[HopEvent], object]:
    """``"xyz[1]"`` -> ``ev -> float(ev.xyz[1])``; ``rank`` fills ``[rank]``."""
    hit = _SOURCE.fullmatch(source)
    if hit is None:
        raise WireError(f"schema source {source!r} is not field or field[index]")
    field, index = hit["field"], hit["index"]
    cast = _CAST[tag]
    if field == "names":
        return lambda ev: truncate_utf8(ev.names[rank], max_bytes=NAME_BYTES)[0].decode()
    if index is None:
        return lambda ev: cast(getattr(ev, field))
    at = rank if index == "rank" else int(index)
    return lambda ev: cast(getattr(ev, field)[at])


def _message(spec, *, embedder: str, dim: int, rank: int | None = None):
    values = {"embedder": embedder} if rank is None else {"embedder": embedder, "rank": rank}
    address, tags = spec.expand(**values), spec.tags(dim=dim)
    if spec.repeat:  # one argument per dimension: "vector[i]"
        field = _SOURCE.fullmatch(spec.args[0].source)["field"]
        return address, tags, lambda ev: getattr(ev, field).tolist()
    getters = [_getter(a.source, a.type, rank or 0) for a in spec.args]
    return address, tags, lambda ev: [g(ev) for g in getters]


def hop_plan(schema: Schema, case: Case, *, k: int) -> Plan:
    """The hop bundle's messages as ``(address, typetags, args_of(event))``, from the schema.

    Fixed messages in schema order (``/vector`` only with the option), then each per-rank
    message for ranks 0 .. k-1, as the schema's ``[groups] hop`` documents.
    """
    hop = schema.group("hop")
    on = {None: True, "vector": case.vector, "paths": False}  # the bench sends no paths
    plan = [_message(s, embedder=case.embedder, dim=case.dim) for s in hop
            if "rank" not in s.placeholders and on[s.option]]
    plan += [_message(s, embedder=case.embedder, dim=case.dim, rank=r) for s in hop
             if "rank" in s.placeholders and on[s.option] for r in range(k)]
    return plan


def pythonosc_hop(plan: Plan, ev: HopEvent) -> bytes:
    """Build ``ev``'s hop bundle with python-osc's builders."""
    bundle = OscBundleBuilder(ev.capture_time)
    for address, tags, args_of in plan:
        msg = OscMessageBuilder(address)
        for tag, value in zip(tags, args_of(ev), strict=True):
            msg.add_arg(value, tag)
        bundle.add_content(msg.build())
    return bundle.build().dgram


# ---------------------------------------------------------------- the wire


class Drain:
    """A thread that empties a UDP socket and a ZeroMQ subscriber until stopped."""

    def __init__(self, udp: socket.socket, sub: zmq.Socket):
        self.udp, self.sub = udp, sub
        self.datagrams = self.messages = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-drain", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        poller = zmq.Poller()
        poller.register(self.sub, zmq.POLLIN)
        poller.register(self.udp, zmq.POLLIN)
        buf = bytearray(65536)
        while not self._stop.is_set():
            for sock, _ in poller.poll(50):
                if sock is self.sub:
                    self.messages += _drain_zmq(self.sub)
                else:
                    self.datagrams += _drain_udp(self.udp, buf)

    def stop(self, *, linger: float = 0.2) -> None:
        """Give in-flight messages ``linger`` seconds, then stop and join the thread."""
        time.sleep(linger)
        self._stop.set()
        self._thread.join()


def _drain_zmq(sub: zmq.Socket) -> int:
    n = 0
    while True:
        try:
            sub.recv_multipart(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return n
        n += 1


def _drain_udp(udp: socket.socket, buf: bytearray) -> int:
    n = 0
    while True:
        try:
            udp.recv_into(buf)
        except BlockingIOError:
            return n
        n += 1


def _subscribe(ctx: zmq.Context, pub: ZmqPublisher, ev: HopEvent) -> zmq.Socket:
    """A SUB socket on ``pub`` that has received one hop (past the slow-joiner window)."""
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"hop/")
    sub.connect(pub.endpoint)
    deadline = time.monotonic() + 5.0
    while not sub.poll(10):
        if time.monotonic() > deadline:
            raise WireError(f"no ZeroMQ subscriber joined {pub.endpoint} within 5 s")
        pub.publish_hop(ev)
    _drain_zmq(sub)
    return sub


def _case(report: Report, schema: Schema, case: Case, *, port: int, zpub: ZmqPublisher,
          repeats: int) -> None:
    k = largest_k(schema, case)
    layout_k = HopLayout(schema, embedder=case.embedder, dim=case.dim, k=case.k,
                         name_bytes=NAME_BYTES, vector=case.vector)
    ev = make_hop(case, k=k)
    layout = HopLayout(schema, embedder=case.embedder, dim=case.dim, k=k,
                       name_bytes=NAME_BYTES, vector=case.vector)
    counters, plan = OscCounters(), hop_plan(schema, case, k=k)
    ours = bytes(layout.encode(ev, ntp_timetag(ev.capture_time), counters))
    theirs = pythonosc_hop(plan, ev)
    if ours != theirs:
        raise WireError(f"{case.label}: rtsim's bundle ({len(ours)} B) differs from "
                        f"python-osc's ({len(theirs)} B)")
    cfg = OscConfig(port=port, vector=case.vector, name_bytes=NAME_BYTES)
    with OscPublisher(cfg, embedders={case.embedder: (case.dim, k)}, schema=schema) as osc:
        fns = {
            f"osc_encode_{case.label}":
                lambda: layout.encode(ev, ntp_timetag(ev.capture_time), counters),
            f"osc_send_{case.label}": lambda: osc.publish_hop(ev),
            f"pythonosc_{case.label}": lambda: pythonosc_hop(plan, ev),
            f"zmq_{case.label}": lambda: zpub.publish_hop(ev),
        }
        for timing in interleaved(fns, repeats=repeats, warmup=min(100, repeats)).values():
            report.add(timing)
    if osc.counters.send_errors:
        report.notes.append(f"{case.label}: {osc.counters.send_errors} OSC sends failed")
    report.ratios[f"osc_encode_vs_pythonosc_{case.label}"] = (
        report.stages[f"pythonosc_{case.label}"]["p50_ms"]
        / report.stages[f"osc_encode_{case.label}"]["p50_ms"])
    report.extra[f"wire/{case.label}"] = {
        "embedder": case.embedder, "dim": case.dim, "k": k, "vector": case.vector,
        "osc_bytes": len(ours), "osc_worst_case_bytes": layout.worst_case,
        "bytes_equal_pythonosc": True}
    if k < case.k:
        report.notes.append(
            f"{case.label}: with dim={case.dim}, vector=True and embedder {case.embedder!r} "
            f"only k <= {k} fits {schema.max_packet_bytes} bytes (k={case.k}: "
            f"{layout_k.worst_case} B); measured at k={k}")


def run(args: argparse.Namespace) -> Report:
    """Time both cases; see the module docstring."""
    repeats = getattr(args, "repeats", None) or (300 if getattr(args, "quick", False) else 5000)
    schema, report = load_schema(), Report("publish")
    ctx = zmq.Context()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.bind(("127.0.0.1", 0))
        udp.setblocking(False)
        zpub = ZmqPublisher(ZmqConfig(endpoint="tcp://127.0.0.1:*", sndhwm=100_000),
                            context=ctx, schema=schema)
        with zpub:
            sub = _subscribe(ctx, zpub, make_hop(CASES[0], k=1))
            drain = Drain(udp, sub)
            try:
                for case in CASES:
                    _case(report, schema, case, port=udp.getsockname()[1], zpub=zpub,
                          repeats=repeats)
            finally:
                drain.stop()
                sub.close()
        report.notes.append(
            f"received {drain.datagrams} datagrams, {drain.messages} ZeroMQ messages; "
            f"ZeroMQ sent {zpub.counters.sent}")
    finally:
        udp.close()
        ctx.term()
    return report
