"""Precompiled OSC bundles: one embedder's hop and trigger bundles, filled in place.

When a publisher opens, each embedder's addresses and type tags are encoded once into a
preallocated ``bytearray``: a fixed prefix (bundle header and the fixed-size messages)
whose values are overwritten with ``struct.pack_into``, followed by per-rank and string
messages, each written with one precompiled :class:`struct.Struct` (its ``s`` fields
carry the encoded header and the NUL-padded string). The result is byte-for-byte what
:func:`rtsim.publish.osc.encode_bundle` would build, at a fraction of the cost.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol

from rtsim.errors import WireError
from rtsim.publish.osc import BUNDLE_TAG, F32_MAX, encode_string, pad4, truncate_utf8
from rtsim.publish.spec import MessageSpec, Schema

__all__ = ["OscCounters", "Prefix", "NameSlot", "FileSlot", "header_bytes", "expect_group",
           "f32", "i32"]

_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1
_TIMETAG = struct.Struct(">Q")


class Repairs(Protocol):
    """Anything that counts replaced values (the publishers' counters)."""

    nonfinite: int


@dataclass(slots=True)
class OscCounters:
    """What the OSC publisher did and what it had to repair (monotonic counts)."""

    sent: int = 0
    bytes: int = 0
    send_errors: int = 0
    nonfinite: int = 0
    out_of_range: int = 0
    truncated_names: int = 0
    long_paths: int = 0


def f32(value: float, fallback: float, counters: Repairs) -> float:
    """``value`` if it is a finite float32, else ``fallback`` (and count it)."""
    if -F32_MAX <= value <= F32_MAX:
        return value
    counters.nonfinite += 1
    return fallback


def i32(value: int, counters: OscCounters) -> int:
    """``value`` if it fits an int32, else -1 (and count it)."""
    if _I32_MIN <= value <= _I32_MAX:
        return value
    counters.out_of_range += 1
    return -1


def header_bytes(address: str, typetags: str) -> bytes:
    """Encoded address and type-tag string of a message (everything before the args)."""
    return encode_string(address) + encode_string("," + typetags)


def expect_group(schema: Schema, group: str, tags: dict[str, str]) -> dict[str, MessageSpec]:
    """The group's messages by key, checked against the type tags this code writes."""
    specs = {spec.key: spec for spec in schema.group(group)}
    for key, typetags in tags.items():
        if key not in specs or specs[key].typetags != typetags:
            raise WireError(f"schema [{group}.{key}] must have typetags {typetags!r}")
    extra = set(specs) - set(tags)
    if extra:
        raise WireError(f"schema [{group}] has messages this publisher cannot fill: {extra}")
    return specs


class Prefix:
    """Bundle header plus fixed-size messages, with the offset of each one's arguments."""

    def __init__(self, messages: list[tuple[str, str, bytes]]):
        """Lay out ``(key, header, zero_args)`` messages after a bundle header."""
        self.template = bytearray(BUNDLE_TAG + bytes(8))
        self.offsets: dict[str, int] = {}
        for key, header, args in messages:
            self.template += struct.pack(">i", len(header) + len(args)) + header
            self.offsets[key] = len(self.template)
            self.template += args

    def write_timetag(self, buf: bytearray, timetag: int) -> None:
        """Set the bundle's timetag."""
        _TIMETAG.pack_into(buf, len(BUNDLE_TAG), timetag)


class NameSlot:
    """One string message (``s``) with a precompiled struct per padded length."""

    def __init__(self, header: bytes, *, name_bytes: int):
        """Prepare structs for every padded length up to ``name_bytes`` + NUL."""
        self.header = header
        self.name_bytes = name_bytes
        self.structs = [
            struct.Struct(f">i{len(header)}s{n}s") for n in range(0, pad4(name_bytes + 1) + 1, 4)
        ]
        self.max_size = self.structs[-1].size

    def write(self, buf: bytearray, pos: int, text: str, counters: OscCounters) -> int:
        """Write the sized message at ``pos``; return the position after it."""
        data, cut = truncate_utf8(text, max_bytes=self.name_bytes)
        counters.truncated_names += cut
        st = self.structs[(len(data) >> 2) + 1]
        st.pack_into(buf, pos, st.size - 4, self.header, data)
        return pos + st.size


class FileSlot:
    """One ``sff`` message (path, offset, length) with a struct per padded path length.

    A path is never cut (half a path opens nothing): one longer than ``path_bytes`` is
    sent empty and counted (``long_paths``).
    """

    def __init__(self, header: bytes, *, path_bytes: int):
        """Prepare structs for every padded length up to ``path_bytes`` + NUL."""
        self.header, self.path_bytes = header, path_bytes
        self.structs = [struct.Struct(f">i{len(header)}s{n}sff")
                        for n in range(0, pad4(path_bytes + 1) + 1, 4)]
        self.max_size = self.structs[-1].size

    def write(self, buf: bytearray, pos: int, path: str, offset: float, length: float,
              counters: OscCounters) -> int:
        """Write the sized message at ``pos``; return the position after it."""
        data = path.encode("utf-8", "replace")
        if len(data) > self.path_bytes:
            counters.long_paths += 1
            data = b""
        st = self.structs[(len(data) >> 2) + 1]
        st.pack_into(buf, pos, st.size - 4, self.header, data, f32(offset, 0.0, counters),
                     f32(length, 0.0, counters))
        return pos + st.size
