"""Inbound OSC: every datagram is checked by our own bounded code before python-osc.

python-osc 1.10.2 can be hung by one UDP datagram (a bundle element with a negative size
loops forever), raises ``RecursionError`` on deep nesting and ``UnicodeDecodeError`` on
non-UTF-8 addresses past its own error handling. :func:`check_datagram` walks the packet
once, in bounded time, and refuses anything malformed with a :class:`WireError` that
says why: size cap, 4-byte alignment, bundle depth cap, element sizes inside the packet,
a UTF-8 address starting with ``/``, known type tags, arguments inside the packet. Only
then does python-osc decode it (:func:`decode_datagram`); bundle timetags are ignored
(control commands apply between hops, never at a scheduled time).
"""

from __future__ import annotations

import struct

from rtsim.errors import WireError

__all__ = ["MAX_DATAGRAM", "MAX_DEPTH", "check_datagram", "decode_datagram"]

MAX_DATAGRAM = 8192
MAX_DEPTH = 4
#: Type tags accepted in commands, and their fixed sizes (None: padded string or blob).
_TAGS = {"i": 4, "f": 4, "h": 8, "d": 8, "s": None, "S": None, "b": None, "T": 0, "F": 0,
         "N": 0}


def check_datagram(data: bytes, *, max_size: int = MAX_DATAGRAM,
                   max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`WireError` unless ``data`` is a well-formed OSC packet."""
    if not data:
        raise WireError("empty datagram")
    if len(data) > max_size:
        raise WireError(f"datagram of {len(data)} bytes exceeds {max_size}")
    if len(data) % 4:
        raise WireError(f"datagram of {len(data)} bytes is not 4-byte aligned")
    _check_packet(data, 0, len(data), depth=0, max_depth=max_depth)


def _check_packet(data: bytes, start: int, end: int, *, depth: int, max_depth: int) -> None:
    if data.startswith(b"#bundle\0", start):
        if depth >= max_depth:
            raise WireError(f"bundles nested deeper than {max_depth}")
        pos = start + 16
        if pos > end:
            raise WireError("bundle shorter than its header")
        while pos < end:
            if pos + 4 > end:
                raise WireError("bundle element size runs past the packet")
            (size,) = struct.unpack_from(">i", data, pos)
            if size <= 0 or size % 4 or pos + 4 + size > end:
                raise WireError(f"bundle element size {size} at byte {pos} is invalid")
            _check_packet(data, pos + 4, pos + 4 + size, depth=depth + 1, max_depth=max_depth)
            pos += 4 + size
    else:
        _check_message(data, start, end)


def _string(data: bytes, pos: int, end: int, what: str) -> tuple[str, int]:
    """A null-terminated, 4-byte padded UTF-8 string at ``pos``; returns it and the next pos."""
    nul = data.find(b"\0", pos, end)
    if nul < 0:
        raise WireError(f"{what} is not null-terminated inside the packet")
    try:
        text = data[pos:nul].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError(f"{what} is not UTF-8") from exc
    nxt = (nul + 4) & ~3
    if nxt > end:
        raise WireError(f"{what} padding runs past the packet")
    return text, nxt


def _check_message(data: bytes, start: int, end: int) -> None:
    address, pos = _string(data, start, end, "address")
    if not address.startswith("/") or any(ord(c) < 32 for c in address):
        raise WireError(f"address {address[:64]!r} must start with '/' and be printable")
    if pos == end:
        return  # no type tag string: no arguments
    tags, pos = _string(data, pos, end, "type tag string")
    if not tags.startswith(","):
        raise WireError(f"type tag string {tags[:32]!r} must start with ','")
    for tag in tags[1:]:
        if tag not in _TAGS:
            raise WireError(f"unknown type tag {tag!r} in {address[:64]!r}")
        size = _TAGS[tag]
        if size is None and tag in "sS":
            _, pos = _string(data, pos, end, f"string argument of {address[:64]!r}")
        elif size is None:  # blob
            if pos + 4 > end:
                raise WireError("blob size runs past the packet")
            (n,) = struct.unpack_from(">i", data, pos)
            if n < 0 or pos + 4 + ((n + 3) & ~3) > end:
                raise WireError(f"blob size {n} is invalid")
            pos += 4 + ((n + 3) & ~3)
        else:
            pos += size
            if pos > end:
                raise WireError(f"arguments of {address[:64]!r} run past the packet")
    if pos != end:
        raise WireError(f"{end - pos} trailing bytes after {address[:64]!r}")


def decode_datagram(data: bytes) -> list[tuple[str, tuple]]:
    """``[(address, args), ...]`` of a checked datagram, in order (timetags ignored)."""
    check_datagram(data)
    from pythonosc.osc_packet import OscPacket

    try:
        return [(m.message.address, tuple(m.message.params)) for m in OscPacket(data).messages]
    except Exception as exc:  # python-osc's own ParseError family, or anything it missed
        raise WireError(f"undecodable OSC packet: {exc}") from exc
