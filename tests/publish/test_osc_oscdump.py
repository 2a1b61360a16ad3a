"""An independent receiver: liblo's ``oscdump`` must parse what we send, as the schema says."""

from __future__ import annotations

import math

import pytest

from rtsim.publish.osc import ntp_timetag
from rtsim.publish.osc_publisher import OscConfig, OscPublisher
from tests.oscdump import OscDump, needs_oscdump, parse

from .conftest import CAPTURE_TIME, make_hop, make_status, make_trigger
from .expected import hop_messages, status_messages, trigger_messages

pytestmark = needs_oscdump


@pytest.fixture
def oscdump(free_udp_port):
    dump = OscDump(free_udp_port)
    yield dump
    dump.close()


def test_oscdump_reads_match_paths_when_asked(oscdump, schema):
    """``paths = true``: each match's file, offset and length; a path too long is sent empty."""
    pub = OscPublisher(OscConfig(port=oscdump.port, paths=True, path_bytes=40),
                       embedders={"pca": (8, 3)})
    probe = make_status()
    oscdump.wait_ready(lambda: pub.publish_status(probe))
    files = [("/samples/kick ø.wav", 0.0, 0.5), ("/samples/" + "x" * 40 + ".wav", 1.5, 0.25),
             ("/s/long-file.flac", 12.75, 0.74)]
    hop, trig = make_hop(k=3, files=files), make_trigger(file="/samples/kick ø.wav")
    pub.publish_hop(hop)
    pub.publish_trigger(trig)
    pub.close()
    want = (hop_messages(schema, hop, paths=True, path_bytes=40)
            + trigger_messages(schema, trig, paths=True, path_bytes=40))
    got = [parse(line) for line in oscdump.collect(len(want))]
    assert [(a, t) for _, a, t, _ in got] == [(a, t) for a, t, _ in want]
    paths = {a: args for _, a, t, args in got if t == "sff"}
    assert paths["/rtsim/pca/path/0"] == ["/samples/kick ø.wav", 0.0, 0.5]
    assert paths["/rtsim/pca/path/1"] == ["", 1.5, 0.25]  # over 40 bytes: empty, not cut
    assert paths["/rtsim/pca/path/2"] == ["/s/long-file.flac", 12.75, 0.74]
    assert paths["/rtsim/pca/trigger/path"] == ["/samples/kick ø.wav", 0.0, 0.75]
    assert pub.counters.long_paths == 1


def test_oscdump_reads_what_the_schema_says(oscdump, schema):
    dim = 8
    pub = OscPublisher(OscConfig(port=oscdump.port, vector=True),
                       embedders={"pca": (dim, 4), "stem/bass": (dim, 4)})
    probe = make_status()
    oscdump.wait_ready(lambda: pub.publish_status(probe))
    events = [make_hop(embedder="pca", k=4, dim=dim, names=["kick", "snare wet", "hat ø", "x"]),
              make_hop(embedder="stem/bass", k=2, dim=dim, seed=3),
              make_hop(embedder="pca", silent=True, dim=dim, seq=8)]
    want = [m for ev in events for m in hop_messages(schema, ev, vector=True)]
    for ev in events:
        pub.publish_hop(ev)
    trig, status = make_trigger(embedder="stem/bass", name="bass hit"), make_status(skipped=4)
    pub.publish_trigger(trig)
    pub.publish_status(status)
    pub.close()
    want += trigger_messages(schema, trig) + status_messages(schema, status)

    got = [parse(line) for line in oscdump.collect(len(want))]
    for (stamp, address, tags, args), (w_address, w_tags, w_args) in zip(got, want, strict=True):
        [(spec, _)] = schema.resolve(address)  # every printed address is in the schema ...
        assert tags == spec.tags(dim=dim)  # ... with the schema's type tags
        assert (address, tags) == (w_address, w_tags)
        assert stamp == ntp_timetag(CAPTURE_TIME)
        for tag, have, expect in zip(tags, args, w_args, strict=True):
            if tag == "f":  # oscdump prints %f: six decimals
                assert math.isclose(have, expect, rel_tol=1e-6, abs_tol=1e-6), address
            else:
                assert have == expect, address
    assert pub.counters.send_errors == 0
