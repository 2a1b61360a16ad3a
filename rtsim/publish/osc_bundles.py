"""The three OSC bundles rtsim sends: hop and trigger (precompiled), status (plain).

Addresses, type tags, message order and the NaN/Inf replacements all come from the
schema; this module only knows which event field fills which argument.
"""

from __future__ import annotations

import re
import struct

import numpy as np

from rtsim.errors import WireError
from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent
from rtsim.publish.osc import encode_bundle, encode_message
from rtsim.publish.osc_layout import (
    FileSlot,
    NameSlot,
    OscCounters,
    Prefix,
    expect_group,
    f32,
    header_bytes,
    i32,
)
from rtsim.publish.spec import Schema

__all__ = ["HopLayout", "TriggerLayout", "encode_status", "pack_bundles"]

_HOP_TAGS = {"seq": "i", "level": "f", "silent": "i", "xyz": "fff", "vector": "f",
             "match": "if", "name": "s", "path": "sff"}
_TRIGGER_TAGS = {"trigger": "iff", "name": "s", "path": "sff"}
_NO_FILE = ("", 0.0, 0.0)
_STATUS_TAGS = {"seq": "i", "hops": "i", "missed": "i", "xruns": "i", "dropped": "i",
                "bad": "i", "latency": "fff", "counter": "i"}
_I, _F, _FFF, _IFF = (struct.Struct(f">{c}") for c in ("i", "f", "fff", "iff"))
_SEQ_MASK = 2**31 - 1


class HopLayout:
    """One embedder's hop bundle, compiled once, filled per hop.

    Parameters
    ----------
    schema : Schema
        The wire schema.
    embedder : str
        Embedder name (part of every address).
    dim : int
        Embedding dimension (the length of ``/vector``).
    k : int
        Most matches a hop may carry.
    name_bytes : int
        UTF-8 byte limit of a name.
    vector : bool
        Whether ``/vector`` is sent.
    path_bytes : int or None
        With a number, ``/path/{rank}`` is sent (paths up to that many UTF-8 bytes).
    """

    def __init__(self, schema: Schema, *, embedder: str, dim: int, k: int, name_bytes: int,
                 vector: bool, path_bytes: int | None = None):
        specs = expect_group(schema, "hop", _HOP_TAGS)
        self.dim, self.k = dim, k
        on = {"vector": vector, "paths": path_bytes is not None}
        specs = {key: s for key, s in specs.items() if s.option is None or on[s.option]}
        fixed = [s for s in specs.values() if "rank" not in s.placeholders]
        self._prefix = Prefix([
            (s.key, header_bytes(s.expand(embedder=embedder), s.tags(dim=dim)),
             bytes(4 * len(s.tags(dim=dim)))) for s in fixed
        ])
        self._fallback = {key: [a.nonfinite for a in s.args] for key, s in specs.items()}
        self._ranked = [s.key for s in specs.values() if "rank" in s.placeholders]
        self._match = [_match_struct(specs["match"].expand(embedder=embedder, rank=r))
                       for r in range(k)]
        self._names = [NameSlot(header_bytes(specs["name"].expand(embedder=embedder, rank=r), "s"),
                                name_bytes=name_bytes) for r in range(k)]
        self._paths = [] if "path" not in specs else [
            FileSlot(header_bytes(specs["path"].expand(embedder=embedder, rank=r), "sff"),
                     path_bytes=path_bytes) for r in range(k)]
        self.worst_case = self.worst_case_for(k)
        self._buf = bytearray(self.worst_case)
        self._buf[: len(self._prefix.template)] = self._prefix.template
        at = self._prefix.offsets.get("vector")
        self._vector = None if at is None else np.frombuffer(self._buf, ">f4", dim, at)

    def worst_case_for(self, k: int) -> int:
        """Largest bundle, in bytes, when at most ``k`` (<= the compiled k) matches are sent."""
        ranks = zip(self._match[:k], self._names[:k], strict=True)
        return (len(self._prefix.template) + sum(m[0].size + n.max_size for m, n in ranks)
                + sum(p.max_size for p in self._paths[:k]))

    def encode(self, ev: HopEvent, timetag: int, counters: OscCounters) -> memoryview:
        """Fill the bundle for ``ev``; the view is valid until the next call."""
        buf, off, fb = self._buf, self._prefix.offsets, self._fallback
        self._prefix.write_timetag(buf, timetag)
        _I.pack_into(buf, off["seq"], ev.seq & _SEQ_MASK)
        _F.pack_into(buf, off["level"], f32(ev.level_db, fb["level"][0], counters))
        _I.pack_into(buf, off["silent"], 1 if ev.silent else 0)
        x, y, z = ev.xyz.tolist()
        _FFF.pack_into(buf, off["xyz"], f32(x, fb["xyz"][0], counters),
                       f32(y, fb["xyz"][1], counters), f32(z, fb["xyz"][2], counters))
        if self._vector is not None:
            self._write_vector(ev.vector, counters)
        pos = len(self._prefix.template)
        if ev.silent:
            return memoryview(buf)[:pos]
        n = self._check_matches(ev)
        for key in self._ranked:
            if key == "match":
                pos = self._write_matches(pos, ev, counters)
            elif key == "name":
                for r in range(n):
                    pos = self._names[r].write(buf, pos, ev.names[r], counters)
            else:
                for r in range(n):
                    pos = self._paths[r].write(buf, pos, *(ev.files[r] if r < len(ev.files)
                                                           else _NO_FILE), counters)
        return memoryview(buf)[:pos]

    def _write_vector(self, vector: np.ndarray, counters: OscCounters) -> None:
        if vector.shape != (self.dim,):
            raise WireError(f"vector of shape {vector.shape}, expected ({self.dim},)")
        view = self._vector
        view[:] = vector
        bad = ~np.isfinite(view)
        if bad.any():
            counters.nonfinite += int(bad.sum())
            view[bad] = self._fallback["vector"][0]

    def _check_matches(self, ev: HopEvent) -> int:
        n = ev.ids.shape[0]
        if n > self.k or len(ev.distances) != n or len(ev.names) != n:
            raise WireError(f"hop {ev.embedder!r} carries {n} ids, {len(ev.distances)} "
                            f"distances, {len(ev.names)} names; expected equal and <= k={self.k}")
        return n

    def _write_matches(self, pos: int, ev: HopEvent, counters: OscCounters) -> int:
        fallback = self._fallback["match"][1]
        for r, (i, d) in enumerate(zip(ev.ids.tolist(), ev.distances.tolist(), strict=True)):
            st, size, header = self._match[r]
            st.pack_into(self._buf, pos, size, header, i32(i, counters), f32(d, fallback, counters))
            pos += st.size
        return pos


def _match_struct(address: str) -> tuple[struct.Struct, int, bytes]:
    header = header_bytes(address, "if")
    st = struct.Struct(f">i{len(header)}sif")
    return st, st.size - 4, header


class TriggerLayout:
    """One embedder's trigger bundle, compiled once, filled per onset.

    ``path_bytes``: with a number, ``/trigger/path`` is sent too (see :class:`HopLayout`).
    """

    def __init__(self, schema: Schema, *, embedder: str, name_bytes: int,
                 path_bytes: int | None = None):
        specs = expect_group(schema, "trigger", _TRIGGER_TAGS)
        trig = specs["trigger"]
        self._prefix = Prefix([("trigger", header_bytes(trig.expand(embedder=embedder), "iff"),
                                bytes(12))])
        self._fallback = [a.nonfinite for a in trig.args]
        self._name = NameSlot(header_bytes(specs["name"].expand(embedder=embedder), "s"),
                              name_bytes=name_bytes)
        self._path = None if path_bytes is None else FileSlot(
            header_bytes(specs["path"].expand(embedder=embedder), "sff"), path_bytes=path_bytes)
        self.worst_case = len(self._prefix.template) + self._name.max_size + (
            self._path.max_size if self._path else 0)
        self._buf = bytearray(self.worst_case)
        self._buf[: len(self._prefix.template)] = self._prefix.template

    def encode(self, ev: TriggerEvent, timetag: int, counters: OscCounters) -> memoryview:
        """Fill the bundle for ``ev``; the view is valid until the next call."""
        buf, fb = self._buf, self._fallback
        self._prefix.write_timetag(buf, timetag)
        _IFF.pack_into(buf, self._prefix.offsets["trigger"], i32(int(ev.id), counters),
                       f32(ev.distance, fb[1], counters), f32(ev.level_db, fb[2], counters))
        pos = self._name.write(buf, len(self._prefix.template), ev.name, counters)
        if self._path is not None:
            pos = self._path.write(buf, pos, ev.file, ev.offset_s, ev.length_s, counters)
        return memoryview(buf)[:pos]


def encode_status(schema: Schema, ev: StatusEvent, *, timetag: int, counters: OscCounters,
                  limit: int) -> list[bytes]:
    """Encode a heartbeat as one or more bundles, each at most ``limit`` bytes."""
    specs = expect_group(schema, "status", _STATUS_TAGS)
    sat = [min(max(int(v), 0), _SEQ_MASK) for v in
           (ev.hops, ev.missed_hops, ev.xruns, ev.dropped_samples, ev.bad_samples)]
    fb = [a.nonfinite for a in specs["latency"].args]
    lat = [f if ev.latency_ms.get(p) is None else f32(float(ev.latency_ms[p]), f, counters)
           for p, f in zip(("p50", "p99", "p999"), fb, strict=True)]  # absent: not measured
    values = {"seq": [ev.seq & _SEQ_MASK], "hops": sat[:1], "missed": sat[1:2],
              "xruns": sat[2:3], "dropped": sat[3:4], "bad": sat[4:5], "latency": lat}
    messages = []
    for key, spec in specs.items():
        if key != "counter":
            messages.append(encode_message(spec.expand(), spec.typetags, values[key]))
            continue
        for name, value in ev.counters.items():
            label = re.sub(r"[^A-Za-z0-9_]", "_", name)[:64] or "_"
            count = min(max(int(value), 0), _SEQ_MASK)
            messages.append(encode_message(spec.expand(counter=label), "i", [count]))
    return pack_bundles(messages, timetag=timetag, limit=limit)


def pack_bundles(messages: list[bytes], *, timetag: int, limit: int) -> list[bytes]:
    """Pack messages into as few bundles of at most ``limit`` bytes as order allows."""
    bundles, batch, size = [], [], 16
    for msg in messages:
        if batch and size + 4 + len(msg) > limit:
            bundles.append(encode_bundle(timetag, batch))
            batch, size = [], 16
        batch.append(msg)
        size += 4 + len(msg)
    return bundles + ([encode_bundle(timetag, batch)] if batch else [])
