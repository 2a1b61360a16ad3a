"""Our bundles equal python-osc's for the same content, and python-osc decodes them."""

from __future__ import annotations

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle

from rtsim.publish.osc import ntp_timetag
from rtsim.publish.osc_publisher import OscConfig, OscPublisher

from .conftest import CAPTURE_TIME, make_hop, make_status, make_trigger
from .expected import hop_messages, pythonosc_bundle, status_messages, trigger_messages

NAMES = ("kick", "café au lait", "日本語のサンプル名" * 3, "🎵🎶 loop", "x" * 47 + "é", "",
         "snare 02", "hat", "tom")


def publish_and_receive(receiver, embedders, send, **config):
    cfg = OscConfig(port=receiver.getsockname()[1], **config)
    with OscPublisher(cfg, embedders=embedders) as pub:
        send(pub)
    assert pub.counters.send_errors == 0
    return [receiver.recv(65536) for _ in range(pub.counters.sent)]


def assert_decodes_to(dgram, messages, timetag):
    bundle = OscBundle(dgram)
    got = [(m.address, m.params) for m in bundle]
    assert [a for a, _ in got] == [a for a, _, _ in messages]
    for (_, params), (address, tags, args) in zip(got, messages, strict=True):
        for tag, have, want in zip(tags, params, args, strict=True):
            if tag == "f":
                assert have == float(np.float32(want)), address
            else:
                assert have == want, address
    if timetag == "capture":
        assert bundle.timestamp == pytest.approx(CAPTURE_TIME, abs=1e-6)


@pytest.mark.parametrize("k", [1, 3, 8])
@pytest.mark.parametrize("vector", [False, True])
@pytest.mark.parametrize("timetag", ["capture", "immediate"])
def test_hop_bundle_equals_python_osc(receiver, schema, k, vector, timetag):
    ev = make_hop(embedder="stem/bass", k=k, dim=16, names=NAMES, seed=k)
    [dgram] = publish_and_receive(receiver, {"stem/bass": (16, 8)},
                                  lambda pub: pub.publish_hop(ev), vector=vector, timetag=timetag)
    messages = hop_messages(schema, ev, vector=vector)
    expected = pythonosc_bundle(messages, timetag=CAPTURE_TIME if timetag == "capture" else None)
    assert dgram == expected
    assert_decodes_to(dgram, messages, timetag)


@pytest.mark.parametrize("name_bytes", [0, 5, 12, 48])
def test_names_truncate_on_character_boundaries(receiver, schema, name_bytes):
    ev = make_hop(k=6, names=NAMES)
    [dgram] = publish_and_receive(receiver, {"pca": (8, 6)}, lambda pub: pub.publish_hop(ev),
                                  name_bytes=name_bytes)
    messages = hop_messages(schema, ev, name_bytes=name_bytes)
    assert dgram == pythonosc_bundle(messages, timetag=CAPTURE_TIME)
    names = [m.params[0] for m in OscBundle(dgram) if "/name/" in m.address]
    assert all(len(n.encode()) <= name_bytes for n in names)


def test_silent_hop_has_no_matches(receiver, schema):
    ev = make_hop(silent=True)
    [dgram] = publish_and_receive(receiver, {"pca": (8, 3)}, lambda pub: pub.publish_hop(ev))
    messages = hop_messages(schema, ev)
    assert dgram == pythonosc_bundle(messages, timetag=CAPTURE_TIME)
    silent = schema.message("hop", "silent").expand(embedder="pca")
    assert dict((m.address, m.params) for m in OscBundle(dgram))[silent] == [1]
    assert not any("rank" in s.placeholders for s, _ in
                   (schema.resolve(m.address)[0] for m in OscBundle(dgram)))


def test_fewer_matches_than_k_after_a_full_hop(receiver, schema):
    full, short = make_hop(k=5, seed=1), make_hop(k=2, seed=2)

    def send(pub):
        pub.publish_hop(full)
        pub.publish_hop(short)

    first, second = publish_and_receive(receiver, {"pca": (8, 5)}, send)
    assert first == pythonosc_bundle(hop_messages(schema, full), timetag=CAPTURE_TIME)
    assert second == pythonosc_bundle(hop_messages(schema, short), timetag=CAPTURE_TIME)


def test_trigger_bundle_equals_python_osc(receiver, schema):
    ev = make_trigger(embedder="timbre", name="crash — ride ✓")
    [dgram] = publish_and_receive(receiver, {"timbre": (3, 1)}, lambda pub: pub.publish_trigger(ev))
    messages = trigger_messages(schema, ev)
    assert dgram == pythonosc_bundle(messages, timetag=CAPTURE_TIME)
    assert_decodes_to(dgram, messages, "capture")


def test_status_bundle_equals_python_osc(receiver, schema):
    ev = make_status(silent_hops=5, malformed=1)
    [dgram] = publish_and_receive(receiver, {}, lambda pub: pub.publish_status(ev))
    messages = status_messages(schema, ev)
    assert dgram == pythonosc_bundle(messages, timetag=CAPTURE_TIME)
    assert OscBundle(dgram).timestamp == pytest.approx(CAPTURE_TIME, abs=1e-6)


def test_status_splits_when_counters_do_not_fit(receiver, schema):
    counters = {f"counter_number_{i:03d}": i for i in range(80)}
    ev = make_status(**counters)
    packets = publish_and_receive(receiver, {}, lambda pub: pub.publish_status(ev))
    assert len(packets) > 1
    assert all(len(p) <= schema.max_packet_bytes for p in packets)
    got = [(m.address, m.params) for p in packets for m in OscBundle(p)]
    want = [(a, v) for a, _, v in status_messages(schema, ev)]
    assert got == [(a, [pytest.approx(x) for x in v]) for a, v in want]
    assert ntp_timetag(CAPTURE_TIME).to_bytes(8, "big") == packets[-1][8:16]
