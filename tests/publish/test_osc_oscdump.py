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
