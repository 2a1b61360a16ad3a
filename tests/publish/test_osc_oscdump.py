"""An independent receiver: liblo's ``oscdump`` must parse what we send, as the schema says."""

from __future__ import annotations

import math
import queue
import shutil
import subprocess
import threading
import time

import pytest

from rtsim.publish.osc import ntp_timetag
from rtsim.publish.osc_publisher import OscConfig, OscPublisher

from .conftest import CAPTURE_TIME, make_hop, make_status, make_trigger
from .expected import hop_messages, status_messages, trigger_messages

OSCDUMP = shutil.which("oscdump")
pytestmark = pytest.mark.skipif(OSCDUMP is None, reason="liblo's oscdump is not installed "
                                "(Debian: apt-get install liblo-tools)")


@pytest.fixture
def oscdump(free_udp_port):
    proc = subprocess.Popen([OSCDUMP, "-L", str(free_udp_port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, encoding="utf-8")
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x.rstrip("\n")) for x in proc.stdout],
                     daemon=True).start()
    yield free_udp_port, lines
    proc.terminate()
    proc.wait(timeout=5)


def parse(line):
    """``timetag address typetags args...`` as oscdump prints it."""
    stamp, address, tags, *rest = line.split(" ", 3)
    seconds, fraction = stamp.split(".")
    text = rest[0] if rest else ""
    if tags == "s":
        assert text.startswith('"') and text.endswith('"'), line
        args = [text[1:-1]]
    else:
        args = [int(v) if t == "i" else float(v) for t, v in zip(tags, text.split(), strict=True)]
    return (int(seconds, 16) << 32) | int(fraction, 16), address, tags, args


def collect(lines, n, *, timeout=5.0):
    deadline, out = time.monotonic() + timeout, []
    while len(out) < n:
        out.append(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
    return out


def test_oscdump_reads_what_the_schema_says(oscdump, schema):
    port, lines = oscdump
    dim = 8
    pub = OscPublisher(OscConfig(port=port, vector=True),
                       embedders={"pca": (dim, 4), "stem/bass": (dim, 4)})
    probe = make_status()
    for _ in range(100):  # oscdump binds asynchronously: probe until it answers
        pub.publish_status(probe)
        try:
            collect(lines, 1, timeout=0.1)
            break
        except queue.Empty:
            continue
    time.sleep(0.2)
    while not lines.empty():
        lines.get()
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

    got = [parse(line) for line in collect(lines, len(want))]
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
