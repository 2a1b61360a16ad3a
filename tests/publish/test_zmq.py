"""ZeroMQ over real sockets (tcp://127.0.0.1 and inproc://): frames, header, vector, HWM."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import zmq

from rtsim.errors import ConfigError, WireError
from rtsim.publish.osc import F32_MAX
from rtsim.publish.zmq import ZmqConfig, ZmqPublisher, recv_event

from .conftest import make_hop, make_status, make_trigger

_names = itertools.count()


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture(params=["tcp", "inproc"])
def endpoint(request):
    if request.param == "tcp":
        return "tcp://127.0.0.1:*"
    return f"inproc://rtsim-test-{next(_names)}"


def subscribe(ctx, pub, *, rcvhwm=1000, topic=b""):
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.RCVHWM, rcvhwm)
    sub.subscribe(topic)
    sub.connect(pub.endpoint)
    return sub


def join(pub, sub):
    """Beat the slow-joiner problem: publish status until the subscriber sees one."""
    for _ in range(500):
        pub.publish_status(make_status())
        if sub.poll(10):
            break
    else:
        pytest.fail("the subscriber never joined")
    pub.publish_status(make_status())  # reads the subscription: last values are resent
    while sub.poll(50):
        recv_event(sub)


def test_hop_trigger_status_round_trip(ctx, endpoint, schema):
    with ZmqPublisher(ZmqConfig(endpoint=endpoint), context=ctx) as pub:
        sub = subscribe(ctx, pub)
        join(pub, sub)
        hop = make_hop(embedder="stem/bass", k=4, dim=128, names=["a", "é", "日本", "d"])
        pub.publish_hop(hop)
        pub.publish_trigger(make_trigger(embedder="stem/bass"))
        pub.publish_status(make_status(skipped=3))
        got = [recv_event(sub, flags=0) for _ in range(3) if sub.poll(2000)]
        sub.close()
    assert [topic for topic, _, _ in got] == ["hop/stem/bass", "trigger/stem/bass", "status"]
    (_, header, vector), (_, trig, none), (_, status, _) = got
    assert np.array_equal(vector, hop.vector) and vector.dtype == np.dtype("<f4")
    assert none is None
    assert header["ids"] == hop.ids.tolist() and header["names"] == list(hop.names)
    assert header["distances"] == hop.distances.tolist()
    assert header["xyz"] == hop.xyz.tolist() and header["level_db"] == hop.level_db
    assert (header["seq"], header["k"], header["silent"], header["shape"]) == (7, 4, False, [128])
    assert header["capture_time"] == hop.capture_time and header["embedder"] == "stem/bass"
    assert (trig["id"], trig["name"], trig["distance"]) == (42, "kick_01", 0.25)
    assert header["paths"] == [f[0] for f in hop.files]  # what a receiver loads to play
    assert header["offsets"] == [f[1] for f in hop.files] == [0.0, 0.5, 1.0, 1.5]
    assert header["lengths"] == [1.25] * 4
    assert (trig["path"], trig["offset"], trig["length"]) == ("/samples/drums/kick_01.wav",
                                                              0.0, 0.75)
    assert status["counters"] == {"skipped": 3} and status["latency_ms"]["p99"] == 4.25
    for (_, head, _), key in zip(got, ("hop", "trigger", "status"), strict=True):
        assert list(head) == [row[0] for row in schema.zmq_message(key).header]
    assert pub.counters.send_errors == 0


def test_topic_prefix_subscription(ctx, endpoint):
    with ZmqPublisher(ZmqConfig(endpoint=endpoint), context=ctx) as pub:
        sub = subscribe(ctx, pub, topic=b"hop/pca")
        for _ in range(500):  # slow joiner, without status (not subscribed)
            pub.publish_hop(make_hop(seq=0))
            if sub.poll(10):
                break
        pub.publish_hop(make_hop(seq=0))  # reads the subscription: last values are resent
        while sub.poll(50):
            recv_event(sub)
        pub.publish_trigger(make_trigger())
        pub.publish_hop(make_hop(seq=99, silent=True))
        topic, header, vector = recv_event(sub)
        sub.close()
    assert (topic, header["seq"], header["k"], header["ids"]) == ("hop/pca", 99, 0, [])
    assert vector.shape == (8,)


def test_nonfinite_values_are_replaced_and_counted(ctx):
    with ZmqPublisher(ZmqConfig(endpoint=f"inproc://nan-{next(_names)}"), context=ctx) as pub:
        sub = subscribe(ctx, pub)
        join(pub, sub)
        hop = make_hop(k=2, level_db=float("-inf"))
        hop.vector[[0, 3]] = [np.nan, np.inf]
        hop.distances[1] = np.nan
        pub.publish_hop(hop)
        _, header, vector = recv_event(sub)
        sub.close()
    assert pub.counters.nonfinite == 4
    assert np.isfinite(vector).all() and vector[0] == 0.0 and vector[1] == hop.vector[1]
    assert header["level_db"] == -200.0 and header["distances"][1] == pytest.approx(F32_MAX)


@pytest.mark.parametrize("transport", ["inproc", "tcp"])
def test_a_stalled_subscriber_neither_blocks_nor_starves_the_others(ctx, transport):
    endpoint = f"inproc://stall-{next(_names)}" if transport == "inproc" else "tcp://127.0.0.1:*"
    dim = 8 if transport == "inproc" else 65536  # tcp: outgrow the kernel's socket buffers
    with ZmqPublisher(ZmqConfig(endpoint=endpoint, sndhwm=10), context=ctx) as pub:
        stalled = subscribe(ctx, pub, rcvhwm=10)
        healthy = subscribe(ctx, pub, rcvhwm=10)
        join(pub, stalled)  # ... and then never read again
        join(pub, healthy)
        start = time.monotonic()
        seen = []
        for seq in range(400):
            pub.publish_hop(make_hop(dim=dim, seq=seq))
            assert healthy.poll(2000), f"the healthy subscriber starved at seq {seq}"
            seen.append(recv_event(healthy)[1]["seq"])
        elapsed = time.monotonic() - start
        stalled_seqs = []
        while stalled.poll(100):
            head = recv_event(stalled)[1]
            if "embedder" in head:
                stalled_seqs.append(head["seq"])
        stalled.close()
        healthy.close()
    assert elapsed < 10.0 and pub.counters.sent >= 400 and pub.counters.send_errors == 0
    assert seen == list(range(400))  # every message, in order
    assert 0 < len(stalled_seqs) < 400 and stalled_seqs == sorted(stalled_seqs)
    assert stalled_seqs[-1] < 399  # the stalled one lost the tail...
    if transport == "inproc":  # ... after both high-water marks, no more
        assert len(stalled_seqs) <= 10 + 10


def test_config_and_bind_errors(ctx):
    with pytest.raises(ConfigError, match="endpoint='localhost:5556'"):
        ZmqConfig(endpoint="localhost:5556")
    with pytest.raises(ConfigError, match="sndhwm=0"):
        ZmqConfig(sndhwm=0)
    with ZmqPublisher(ZmqConfig(endpoint="tcp://127.0.0.1:*"), context=ctx) as first:
        with pytest.raises(ConfigError, match=first.endpoint.replace(".", r"\.")):
            ZmqPublisher(ZmqConfig(endpoint=first.endpoint), context=ctx)


def test_disabled_publisher_is_a_no_op():
    with ZmqPublisher(ZmqConfig(enabled=False)) as pub:
        pub.publish_hop(make_hop())
        assert pub.endpoint is None
    assert pub.counters.sent == 0


def test_recv_event_rejects_foreign_messages(ctx):
    push, pull = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    push.bind("inproc://foreign")
    pull.connect("inproc://foreign")
    push.send_multipart([b"hop/x"])
    with pytest.raises(WireError, match="got 1"):
        recv_event(pull)
    push.send_multipart([b"hop/x", b"\xc1", b""])
    with pytest.raises(WireError, match="msgpack"):
        recv_event(pull)
    push.close()
    pull.close()


def test_late_subscriber_gets_the_current_state():
    import time

    import zmq

    from rtsim.publish.zmq import ZmqConfig, ZmqPublisher, recv_event
    from tests.publish.conftest import make_hop, make_status

    pub = ZmqPublisher(ZmqConfig(endpoint="tcp://127.0.0.1:*"))
    for seq in range(5):
        pub.publish_hop(make_hop(embedder="pca", seq=seq))
    pub.publish_hop(make_hop(embedder="stem/bass", seq=9))
    late = zmq.Context.instance().socket(zmq.SUB)
    late.setsockopt(zmq.LINGER, 0)
    late.setsockopt(zmq.SUBSCRIBE, b"hop/pca")
    late.connect(pub.endpoint)
    got = None
    for _ in range(100):  # the subscription reaches the publisher with its next send
        pub.publish_status(make_status())
        if late.poll(20):
            got = recv_event(late)
            break
        time.sleep(0.01)
    assert got is not None
    topic, header, vector = got
    assert topic == "hop/pca" and header["seq"] == 4  # the newest pca hop, not bass
    late.close()
    pub.close()
