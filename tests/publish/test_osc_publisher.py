"""Packet budgets, NaN/Inf repair, config checks and send errors of the OSC publisher."""

from __future__ import annotations

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle

from rtsim.errors import ConfigError, WireError
from rtsim.publish.osc import F32_MAX
from rtsim.publish.osc_publisher import OscConfig, OscPublisher

from .conftest import make_hop, make_status, make_trigger

OFF = OscConfig(enabled=False)


def decoded(receiver):
    return {m.address: m.params for m in OscBundle(receiver.recv(65536))}


@pytest.mark.parametrize(("name", "dim", "k", "vector"), [
    ("pca", 3, 11, False), ("stem/bass", 128, 9, False), ("disentangled", 256, 9, False),
    ("stem/guitar", 128, 3, True), ("pca", 64, 4, True), ("pca", 256, 0, True),
])
def test_worst_case_fits_and_is_reached(receiver, schema, name, dim, k, vector):
    cfg = OscConfig(port=receiver.getsockname()[1], vector=vector)
    long_names = ["é" * 40] * k  # 80 bytes each, cut to 48
    with OscPublisher(cfg, embedders={name: (dim, k)}) as pub:
        worst = pub.worst_case_bytes[name]
        assert worst < schema.max_packet_bytes
        pub.publish_hop(make_hop(embedder=name, k=k, dim=dim, names=long_names))
        pub.publish_trigger(make_trigger(embedder=name, name="é" * 40))
    assert len(receiver.recv(65536)) == worst  # the hop bundle is the larger one
    assert len(receiver.recv(65536)) <= worst


@pytest.mark.parametrize(("embedders", "config", "match"), [
    ({"pca": (8, 500)}, {}, "k=500.*k <= 11 fits"),
    ({"disentangled": (256, 10)}, {}, "k=10 .*k <= 9 fits"),
    ({"disentangled": (256, 5)}, {"vector": True}, "k=5, dim=256.*no k fits"),
    ({"pca": (256, 2)}, {"vector": True}, "k=2, dim=256.*k <= 0 fits"),
    ({"stem/bass": (8, 12)}, {"name_bytes": 120}, "name_bytes=120"),
])
def test_impossible_configs_are_refused_at_open(embedders, config, match):
    with pytest.raises(ConfigError, match=match):
        OscPublisher(OscConfig(enabled=False, **config), embedders=embedders)


@pytest.mark.parametrize(("name", "match"), [
    ("status", "reserved"), ("ctl/x", "reserved"), ("a b", "'a b'"), ("a//b", "'a//b'"),
    ("/pca", "'/pca'"), ("pca/", "'pca/'"), ("p*", "'p\\*'"), ("", "''"),
])
def test_bad_embedder_names_are_refused(name, match):
    with pytest.raises(ConfigError, match=match):
        OscPublisher(OFF, embedders={name: (8, 3)})


@pytest.mark.parametrize(("dim", "k"), [(0, 3), (8, -1), (8.0, 3)])
def test_bad_dims_are_refused(dim, k):
    with pytest.raises(ConfigError, match="dim="):
        OscPublisher(OFF, embedders={"pca": (dim, k)})


@pytest.mark.parametrize(("field", "value"), [
    ("port", 0), ("port", 70000), ("timetag", "now"), ("name_bytes", -1), ("host", ""),
])
def test_bad_config_values_are_named(field, value):
    with pytest.raises(ConfigError, match=f"{field}={value!r}"):
        OscConfig(**{field: value})


def test_unresolvable_host_is_a_config_error():
    with pytest.raises(ConfigError, match="no-such-host.invalid"):
        OscPublisher(OscConfig(host="no-such-host.invalid"), embedders={})


def test_nonfinite_values_never_reach_the_wire(receiver, schema):
    ev = make_hop(k=3, dim=8)
    ev.xyz[:] = [np.nan, np.inf, 0.5]
    ev.vector[[1, 4]] = [np.nan, -np.inf]
    ev.distances[:] = [0.1, np.nan, np.inf]
    ev = type(ev)(**{**{f: getattr(ev, f) for f in ev.__slots__}, "level_db": float("-inf")})
    cfg = OscConfig(port=receiver.getsockname()[1], vector=True)
    with OscPublisher(cfg, embedders={"pca": (8, 3)}) as pub:
        pub.publish_hop(ev)
        pub.publish_trigger(make_trigger(distance=float("nan"), level_db=1e300))
        pub.publish_status(make_status())
        pub.publish_hop(type(ev)(**{**{f: getattr(ev, f) for f in ev.__slots__},
                                   "capture_time": float("nan")}))
    # hop: xyz 2 + vector 2 + distances 2 + level 1; trigger: 2; late hop: 7 + its timetag
    assert pub.counters.nonfinite == 7 + 2 + (7 + 1)
    hop, trig, _, late = (decoded(receiver) for _ in range(4))
    address = {k: schema.message("hop", k).expand(embedder="pca", rank=2) for k in
               ("xyz", "vector", "level", "match")}
    assert hop[address["xyz"]] == [0.0, 0.0, 0.5]
    assert hop[address["vector"]][1] == 0.0 and hop[address["vector"]][4] == 0.0
    assert hop[address["level"]] == [-200.0]
    assert hop[address["match"]][1] == pytest.approx(F32_MAX)
    assert trig[schema.message("trigger", "trigger").expand(embedder="pca")][1:] == [
        pytest.approx(F32_MAX), -200.0]
    assert late == hop
    values = [v for msgs in (hop, trig) for params in msgs.values() for v in params]
    assert all(np.isfinite(v) for v in values if isinstance(v, float))


def test_ids_beyond_int32_are_sent_as_minus_one(receiver, schema):
    ev = make_hop(k=2)
    ev.ids[:] = [2**31, 5]
    with OscPublisher(OscConfig(port=receiver.getsockname()[1]), embedders={"pca": (8, 2)}) as pub:
        pub.publish_hop(ev)
    got = decoded(receiver)
    assert got[schema.message("hop", "match").expand(embedder="pca", rank=0)][0] == -1
    assert got[schema.message("hop", "match").expand(embedder="pca", rank=1)][0] == 5
    assert pub.counters.out_of_range == 1


def test_contract_violations_raise_wire_errors():
    with OscPublisher(OFF, embedders={"pca": (8, 2)}) as pub:
        pub._sock = FakeSocket(None)  # enabled path without a network
        with pytest.raises(WireError, match="'timbre'"):
            pub.publish_hop(make_hop(embedder="timbre"))
        with pytest.raises(WireError, match="k=2"):
            pub.publish_hop(make_hop(k=3))


class FakeSocket:
    def __init__(self, error):
        self.error, self.calls = error, 0

    def sendto(self, data, addr):
        self.calls += 1
        if self.error:
            raise self.error
        return len(data)

    def close(self):
        pass


@pytest.mark.parametrize("error", [BlockingIOError(11, "full"), ConnectionRefusedError(111, "x"),
                                   OSError(101, "Network is unreachable")])
def test_send_errors_are_counted_not_raised(error):
    with OscPublisher(OscConfig(), embedders={"pca": (8, 3)}) as pub:
        pub._sock.close()
        pub._sock = fake = FakeSocket(error)
        for _ in range(3):
            pub.publish_hop(make_hop())
        pub.publish_trigger(make_trigger())
    assert (fake.calls, pub.counters.send_errors, pub.counters.sent) == (4, 4, 0)


def test_real_send_error_is_counted():
    # a broadcast destination without SO_BROADCAST: the kernel refuses every sendto
    with OscPublisher(OscConfig(host="255.255.255.255"), embedders={"pca": (8, 3)}) as pub:
        pub.publish_hop(make_hop())
        pub.publish_status(make_status())
    assert pub.counters.send_errors == 2 and pub.counters.sent == 0


def test_disabled_and_closed_publishers_send_nothing(receiver):
    with OscPublisher(OFF, embedders={"pca": (8, 3)}) as pub:
        pub.publish_hop(make_hop())
    assert pub.counters.sent == 0
    pub = OscPublisher(OscConfig(port=receiver.getsockname()[1]), embedders={"pca": (8, 3)})
    pub.close()
    pub.close()
    pub.publish_hop(make_hop())
    assert pub.counters.sent == 0


def test_colliding_addresses_are_refused(schema):
    from importlib.resources import files

    from rtsim.publish.schema import parse_schema

    text = files("rtsim.osc_schemas").joinpath("schema.toml").read_text(encoding="utf-8")
    trigger = 'address = "/rtsim/{embedder}/trigger"'
    odd = parse_schema(text.replace(trigger, 'address = "/rtsim/{embedder}/x/level"'))
    # a's trigger address would read as the level of an embedder "a/x"
    with pytest.raises(ConfigError, match="'a': address /rtsim/a/x/level is ambiguous"):
        OscPublisher(OFF, embedders={"a": (8, 2)}, schema=odd)


def test_status_counter_names_are_sanitised(receiver, schema):
    cfg = OscConfig(port=receiver.getsockname()[1])
    with OscPublisher(cfg, embedders={}) as pub:
        pub.publish_status(make_status(**{"osc.send errors": 3, "big": 2**40, "neg": -1}))
    got = decoded(receiver)
    counter = schema.message("status", "counter")
    assert got[counter.expand(counter="osc_send_errors")] == [3]
    assert got[counter.expand(counter="big")] == [2**31 - 1]  # saturates
    assert got[counter.expand(counter="neg")] == [0]
    assert all(len(schema.resolve(address)) == 1 for address in got)


def test_latency_not_measured_yet_is_minus_one_and_not_a_repair(receiver, schema):
    from dataclasses import replace

    cfg = OscConfig(port=receiver.getsockname()[1])
    with OscPublisher(cfg, embedders={"pca": (8, 3)}) as pub:
        pub.publish_status(replace(make_status(), latency_ms={}))
    latency = decoded(receiver)[schema.message("status", "latency").expand()]
    assert latency == [-1.0, -1.0, -1.0] and pub.counters.nonfinite == 0

