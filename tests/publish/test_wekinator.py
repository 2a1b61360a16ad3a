"""Wekinator's inputs from the real engine, read by an independent receiver (oscdump)."""

import socket

import numpy as np
import pytest

from rtsim.errors import ConfigError
from rtsim.publish.wekinator import WekinatorConfig, WekinatorPublisher
from tests.engine.helpers import run_file, write_clip
from tests.oscdump import OscDump, needs_oscdump, parse

from .conftest import make_hop


@needs_oscdump
def test_the_engine_sends_each_searched_hops_xyz(tmp_path, one_shot_library):
    clip = write_clip(tmp_path / "c.wav", [(0.2, "organ", 60), (1.2, "pluck", 72)], seconds=2.5)
    dump = OscDump()
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        from rtsim.publish.osc import encode_message

        dump.wait_ready(lambda: probe.sendto(encode_message("/probe", "i", [1]),
                                             ("127.0.0.1", dump.port)))
        probe.close()
        col, engine = run_file(clip, one_shot_library, realtime=True, patch={
            "wekinator": {"enabled": True, "port": dump.port}})
        searched = [ev for ev in col.hops if not ev.silent]
        lines = dump.collect(len(searched))
    finally:
        dump.close()
    assert 10 < len(searched) < len(col.hops)  # silence sends nothing
    for line, ev in zip(lines, searched, strict=True):
        _, address, tags, args = parse(line)
        assert (address, tags) == ("/wek/inputs", "fff")
        np.testing.assert_allclose(args, ev.xyz, atol=1e-5)


def test_vector_inputs_and_refusals(free_udp_port):
    pub = WekinatorPublisher(WekinatorConfig(enabled=True, port=free_udp_port, what="vector",
                                             embedder="pca"), embedders={"pca": 8})
    bad = make_hop(dim=8)
    bad.vector[2] = np.nan
    pub.publish_hop(bad)
    pub.publish_hop(make_hop(embedder="other", dim=8))  # not the chosen embedder
    pub.close()
    assert (pub.inputs, pub.sent, pub.nonfinite) == (8, 1, 1)
    with pytest.raises(ConfigError, match="'timbre' is not running"):
        WekinatorPublisher(WekinatorConfig(embedder="timbre"), embedders={"pca": 8})
    with pytest.raises(ConfigError, match="512 dimensions"):
        WekinatorPublisher(WekinatorConfig(what="vector"), embedders={"big": 512})
    with pytest.raises(ConfigError, match="what='rgb'"):
        WekinatorConfig(what="rgb")
