"""Golden datagrams for the pure OSC encoders, computed by hand from the OSC 1.0 spec."""

from __future__ import annotations

import pytest
from pythonosc.parsing import osc_types

from rtsim.errors import WireError
from rtsim.publish.osc import (
    IMMEDIATELY,
    encode_bundle,
    encode_message,
    encode_string,
    ntp_timetag,
    pad4,
    truncate_utf8,
)


@pytest.mark.parametrize(("text", "wire"), [
    ("", b"\0\0\0\0"),
    ("abc", b"abc\0"),
    ("abcd", b"abcd\0\0\0\0"),
    ("é", b"\xc3\xa9\0\0"),
])
def test_string_padding(text, wire):
    assert encode_string(text) == wire


def test_pad4():
    assert [pad4(n) for n in range(9)] == [0, 4, 4, 4, 4, 8, 8, 8, 8]


def test_golden_message():
    wire = encode_message("/a", "if", [1, 0.5])
    assert wire == b"/a\0\0" b",if\0" b"\x00\x00\x00\x01" b"\x3f\x00\x00\x00"


def test_golden_string_message_and_no_args():
    assert encode_message("/ab", "s", ["hi"]) == b"/ab\0,s\0\0hi\0\0"
    assert encode_message("/x", "", []) == b"/x\0\0,\0\0\0"
    assert encode_message("/n", "i", [-2]) == b"/n\0\0,i\0\0\xff\xff\xff\xfe"


def test_golden_bundle():
    msg = encode_message("/a", "if", [1, 0.5])
    wire = encode_bundle(IMMEDIATELY, [msg])
    assert wire == (b"#bundle\0" b"\0\0\0\0\0\0\0\x01" b"\0\0\0\x10"
                    b"/a\0\0,if\0\0\0\0\x01\x3f\0\0\0")


def test_ntp_timetag_golden():
    assert ntp_timetag(0.0) == 0x83AA7E80_00000000
    assert ntp_timetag(0.5) == 0x83AA7E80_80000000
    assert ntp_timetag(1.25) == 0x83AA7E81_40000000


@pytest.mark.parametrize("t", [1.0, 1_700_000_000.0, 1_763_780_000.123456, 2_000_000_000.9])
def test_ntp_timetag_matches_python_osc(t):  # (python-osc reads 0 as "immediately")
    assert ntp_timetag(t).to_bytes(8, "big") == osc_types.write_date(t)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_ntp_timetag_rejects_nonfinite(bad):
    with pytest.raises(WireError, match="not finite"):
        ntp_timetag(bad)


@pytest.mark.parametrize(("address", "tags", "args", "match"), [
    ("a", "i", [1], "must start with '/'"),
    ("/a", "ii", [1], "2 arguments|but 1 arguments"),
    ("/a", "i", [2**31], "2147483648"),
    ("/a", "f", [float("nan")], "nan"),
    ("/a", "f", [float("inf")], "inf"),
    ("/a", "f", [1e39], "1e\\+39"),
    ("/a", "s", ["x\0y"], "NUL"),
    ("/a", "d", [1.0], "'d'"),
    ("/a", "i", ["1"], "'1'"),
])
def test_encode_message_rejects(address, tags, args, match):
    with pytest.raises(WireError, match=match):
        encode_message(address, tags, args)


def test_bundle_rejects_bad_timetag_and_unaligned_element():
    with pytest.raises(WireError, match="-1"):
        encode_bundle(-1, [])
    with pytest.raises(WireError, match="aligned"):
        encode_bundle(IMMEDIATELY, [b"abc"])


@pytest.mark.parametrize(("text", "limit", "wire", "cut"), [
    ("abc", 3, b"abc", False),
    ("abcd", 3, b"abc", True),
    ("aé", 2, b"a", True),  # é is 2 bytes: never split
    ("aé", 3, "aé".encode(), False),
    ("日本語", 7, "日本".encode(), True),  # 3-byte characters
    ("🎵x", 3, b"", True),  # a 4-byte character does not fit
    ("a\0b", 8, b"ab", False),
    ("bad\udcff", 8, b"bad?", False),  # lone surrogate from an undecodable file name
])
def test_truncate_utf8(text, limit, wire, cut):
    assert truncate_utf8(text, max_bytes=limit) == (wire, cut)
    wire.decode("utf-8")  # always valid UTF-8
