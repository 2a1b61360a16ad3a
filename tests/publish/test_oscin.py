"""Inbound OSC: malformed datagrams are refused by our checker, in bounded time."""

import struct
import time

import pytest

from rtsim.errors import WireError
from rtsim.publish.osc import encode_bundle, encode_message
from rtsim.publish.oscin import check_datagram, decode_datagram


def _msg(address="/rtsim/ping", tags="i", args=(7,)):
    return encode_message(address, tags, args)


def test_valid_messages_and_bundles_decode():
    assert decode_datagram(_msg()) == [("/rtsim/ping", (7,))]
    b = encode_bundle(1, [_msg(), _msg("/rtsim/ctl/pca/k", "i", (3,))])
    assert decode_datagram(b) == [("/rtsim/ping", (7,)), ("/rtsim/ctl/pca/k", (3,))]
    nested = encode_bundle(1, [encode_bundle(1, [_msg()])])
    assert decode_datagram(nested) == [("/rtsim/ping", (7,))]
    far_future = encode_bundle((2**32 - 1) << 32, [_msg()])  # no sleeping until then
    t0 = time.perf_counter()
    assert decode_datagram(far_future) == [("/rtsim/ping", (7,))]
    assert time.perf_counter() - t0 < 0.05


def _negative_size_bundle():
    return b"#bundle\0" + b"\0" * 7 + b"\1" + struct.pack(">i", -8) + _msg()


def _deep(depth):
    packet = _msg()
    for _ in range(depth):
        packet = encode_bundle(1, [packet])
    return packet


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"/abc", "null-terminated"),
    (_msg()[:-1], "aligned"),
    (b"x" * 9000, "exceeds"),
    (_negative_size_bundle(), "size -8"),
    (b"#bundle\0" + b"\0" * 8 + struct.pack(">i", 4096) + _msg(), "size 4096"),
    (_deep(5), "nested deeper"),
    (b"/\xff\xfe\0,i\0\0\0\0\0\1", "not UTF-8"),
    (b"abc\0,i\0\0\0\0\0\1", "must start with '/'"),
    (b"/a\0\0,q\0\0", "unknown type tag"),
    (b"/a\0\0,i\0\0", "run past"),
    (b"/a\0\0,i\0\0\0\0\0\1\0\0\0\0", "trailing"),
    (b"/a\0\0,b\0\0\xff\xff\xff\xff", "blob size -1"),
    (b"/a\0\0i\0\0\0", "must start with ','"),
])
def test_malformed_datagrams_are_refused_with_a_reason(data, reason):
    with pytest.raises(WireError, match=reason):
        check_datagram(data)
    with pytest.raises(WireError):
        decode_datagram(data)


def test_random_mutations_never_hang_or_escape():
    """Bit flips, truncations and splices: only WireError, each in well under 50 ms."""
    import random

    rng = random.Random(0)
    seeds = [_msg(), encode_bundle(1, [_msg(), _msg("/rtsim/ctl/x/weights", "ffff",
                                                   (0.1, 0.2, 0.3, 0.4))]), _deep(3)]
    worst = 0.0
    for _ in range(3000):
        b = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            if op < 0.5 and b:
                b[rng.randrange(len(b))] = rng.randrange(256)
            elif op < 0.75:
                b = b[: rng.randrange(len(b) + 1)]
            else:
                b += bytes(rng.randrange(256) for _ in range(rng.choice((1, 4, 8))))
        t0 = time.perf_counter()
        try:
            decode_datagram(bytes(b))
        except WireError:
            pass
        worst = max(worst, time.perf_counter() - t0)
    assert worst < 0.05
