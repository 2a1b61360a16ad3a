"""Pure OSC 1.0 encoders: strings, messages, bundles and NTP timetags.

These functions return ``bytes`` and touch no socket; the precompiled hop layouts
(:mod:`rtsim.publish.osc_layout`) and the publisher (:mod:`rtsim.publish.osc_publisher`)
are built on them. Only the type tags rtsim uses are supported: ``i`` (int32),
``f`` (float32) and ``s`` (UTF-8 string).
"""

from __future__ import annotations

import math
import socket
import struct
from collections.abc import Iterable, Sequence

from rtsim.errors import ConfigError, WireError

__all__ = [
    "IMMEDIATELY",
    "NTP_UNIX_OFFSET",
    "BUNDLE_TAG",
    "F32_MAX",
    "pad4",
    "encode_string",
    "encode_message",
    "encode_bundle",
    "ntp_timetag",
    "truncate_utf8",
    "udp_destination",
]

#: The OSC timetag that means "dispatch immediately".
IMMEDIATELY = 1
#: Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
NTP_UNIX_OFFSET = 2_208_988_800
BUNDLE_TAG = b"#bundle\x00"
#: Largest finite float32.
F32_MAX = 3.4028234663852886e38
_I32 = (-(2**31), 2**31 - 1)


def pad4(size: int) -> int:
    """Round ``size`` up to a multiple of 4 (OSC alignment)."""
    return (size + 3) & ~3


def encode_string(text: str | bytes) -> bytes:
    """OSC string: the UTF-8 bytes, a NUL, then NULs up to a multiple of 4 bytes.

    Raises
    ------
    WireError
        If ``text`` contains a NUL (a receiver would cut the string there).
    """
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if b"\x00" in data:
        raise WireError(f"OSC string {text!r} contains a NUL byte")
    return data + b"\x00" * (4 - len(data) % 4)


def encode_message(address: str, typetags: str, args: Sequence[object]) -> bytes:
    """Encode one OSC message.

    Parameters
    ----------
    address : str
        OSC address, starting with ``/``.
    typetags : str
        One tag per argument, without the leading comma (``"if"``).
    args : sequence
        The arguments: ``int`` for ``i`` (int32 range), finite ``float`` for ``f``,
        ``str`` for ``s``.

    Returns
    -------
    bytes
        The message; its length is a multiple of 4.

    Raises
    ------
    WireError
        Naming the address and the bad argument.
    """
    if not address.startswith("/"):
        raise WireError(f"OSC address {address!r} must start with '/'")
    if len(typetags) != len(args):
        raise WireError(f"{address}: typetags {typetags!r} but {len(args)} arguments")
    body = [encode_string(address), encode_string("," + typetags)]
    body += [_encode_arg(address, tag, value) for tag, value in zip(typetags, args, strict=True)]
    return b"".join(body)


def _encode_arg(address: str, tag: str, value: object) -> bytes:
    if tag == "s" and isinstance(value, str):
        return encode_string(value)
    if tag == "i" and isinstance(value, int) and _I32[0] <= value <= _I32[1]:
        return struct.pack(">i", value)
    if tag == "f" and isinstance(value, (int, float)) and abs(value) <= F32_MAX:
        return struct.pack(">f", value)
    raise WireError(f"{address}: cannot encode {value!r} as type tag {tag!r}")


def encode_bundle(timetag: int, elements: Iterable[bytes]) -> bytes:
    """Encode an OSC bundle of already-encoded messages (or bundles).

    Parameters
    ----------
    timetag : int
        64-bit NTP timetag (:func:`ntp_timetag`), or :data:`IMMEDIATELY`.
    elements : iterable of bytes
        Encoded messages; each is prefixed with its int32 size.
    """
    if not 0 <= timetag < 2**64:
        raise WireError(f"OSC timetag {timetag!r} is not an unsigned 64-bit integer")
    parts = [BUNDLE_TAG, struct.pack(">Q", timetag)]
    for element in elements:
        if len(element) % 4:
            raise WireError(f"bundle element of {len(element)} bytes is not 4-byte aligned")
        parts += [struct.pack(">i", len(element)), element]
    return b"".join(parts)


def ntp_timetag(unix_time: float) -> int:
    """64-bit NTP timetag (32.32 fixed point, seconds since 1900) of a Unix time.

    Computed as ``int((unix_time + 2208988800) * 2**32)``, as python-osc does, so that
    both give the same bytes. Wraps modulo 2**64 at the NTP era boundary (2036-02-07).

    Raises
    ------
    WireError
        If ``unix_time`` is NaN or infinite.
    """
    if not math.isfinite(unix_time):
        raise WireError(f"timetag time {unix_time!r} is not finite")
    return int((unix_time + NTP_UNIX_OFFSET) * 2.0**32) % 2**64


def truncate_utf8(text: str, *, max_bytes: int) -> tuple[bytes, bool]:
    """UTF-8 bytes of ``text``, cut at a character boundary to at most ``max_bytes``.

    Unencodable characters (lone surrogates from undecodable file names) become ``?``;
    NUL characters are removed.

    Returns
    -------
    data : bytes
        The (possibly shortened) UTF-8 bytes.
    truncated : bool
        Whether characters were cut off.
    """
    data = text.encode("utf-8", "replace")
    if b"\x00" in data:
        data = data.replace(b"\x00", b"")
    if len(data) <= max_bytes:
        return data, False
    cut = max_bytes
    while cut > 0 and data[cut] & 0xC0 == 0x80:  # continuation byte: back off
        cut -= 1
    return data[:cut], True


def udp_destination(host: str, port: int, *, section: str,
                    broadcast: bool = False) -> tuple[socket.socket, tuple]:
    """A non-blocking UDP socket and the resolved address of ``host:port``.

    Raises
    ------
    ConfigError
        ``host`` does not resolve (the message names ``section``'s key).
    """
    try:
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    except socket.gaierror as exc:
        raise ConfigError(f"{section} host={host!r} does not resolve: {exc}") from exc
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    if broadcast:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    return sock, addr
