"""The control plane over real sockets: OSC (UDP) and ZeroMQ (REP), applied between hops."""

import shutil
import socket
import struct
import time

import numpy as np
import pytest
import zmq

from rtsim.engine.config import load_config, merge
from rtsim.engine.control import ControlConfig
from rtsim.engine.wiring import build_engine
from rtsim.errors import ConfigError
from rtsim.index.build import build_library
from rtsim.publish.osc import encode_message
from rtsim.publish.oscin import decode_datagram
from tests.engine.helpers import Collector, wait_until, write_clip


def _free_tcp() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


class _Client:
    """An OSC client on loopback that also receives the replies."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(3.0)

    def send(self, address, tags="", args=()):
        self.sock.sendto(encode_message(address, tags, list(args)), ("127.0.0.1", self.port))

    def ask(self, address, tags="", args=()):
        self.send(address, tags, args)
        return decode_datagram(self.sock.recv(4096))[0]


@pytest.fixture
def running(tmp_path, one_shot_library):
    clip = write_clip(tmp_path / "c.wav", [(0.2 + 0.8 * i, ("pluck", "marimba")[i % 2], 60)
                                           for i in range(8)], seconds=7.0)
    endpoint = _free_tcp()
    cfg = load_config(None, patch={
        "source": {"kind": "file", "path": str(clip), "realtime": True, "loop": True},
        "embedder": [{"name": "pca", "library": str(one_shot_library), "k": 4}],
        "osc": {"enabled": False}, "zmq": {"enabled": False}, "engine": {"device": "cpu"},
        "control": {"port": 0, "zmq_endpoint": endpoint, "roots": [str(tmp_path)]}})
    col = Collector()
    engine = build_engine(cfg, extra_publishers=[col])
    engine.start()
    req = zmq.Context.instance().socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(endpoint)
    yield engine, col, _Client(engine.control.port), req
    req.close()
    engine.stop()
    engine.join(5)


def _zmq(req, address, *args):
    req.send_json({"address": address, "args": list(args)})
    assert req.poll(3000), "no reply"
    return req.recv_json()


def test_ping_k_enable_over_osc_and_zeromq(running):
    engine, col, osc, req = running
    assert osc.ask("/rtsim/ping", "i", [42]) == ("/rtsim/pong", (42,))
    assert _zmq(req, "/rtsim/ping", 7) == {"ok": True, "detail": "", "pong": 7}
    assert osc.ask("/rtsim/ctl/pca/k", "i", [2]) == ("/rtsim/reply", ("/rtsim/ctl/pca/k", "ok", ""))
    assert wait_until(lambda: col.hops and col.hops[-1].k in (0, 2) and any(
        h.k == 2 for h in col.hops[-5:]))
    assert _zmq(req, "/rtsim/ctl/pca/enable", 0)["ok"]
    n = len(col.hops)
    time.sleep(0.5)
    assert len(col.hops) == n  # paused: no hops
    assert _zmq(req, "/rtsim/ctl/pca/enable", 1)["ok"]
    assert wait_until(lambda: len(col.hops) > n)


def test_the_item_table_is_paged_over_osc_and_zeromq(running):
    """Receivers learn each id's file (to load and play it) a page at a time."""
    from pathlib import Path

    engine, col, osc, req = running
    lib = engine.pipelines[0].library
    total = lib.count
    osc.send("/rtsim/ctl/pca/items", "ii", [1, 3])
    got = []
    while not got or got[-1][0] != "/rtsim/reply":
        got += decode_datagram(osc.sock.recv(4096))
    items = [args for address, args in got if address == "/rtsim/pca/item"]
    assert [i for i, *_ in items] == [1, 2, 3]
    for i, path, offset, length in items:
        assert Path(path).is_file() and Path(path).stem == lib.names[i].split("/")[-1]
        assert offset == 0.0 and length > 0.5
    assert ("/rtsim/pca/items/page", (1, 3, total)) in got
    assert got[-1] == ("/rtsim/reply", ("/rtsim/ctl/pca/items", "ok", ""))
    page = _zmq(req, "/rtsim/ctl/pca/items", 0, 1000)  # the whole table, one request
    assert page["ok"] and page["first"] == 0 and page["total"] == total
    assert [row[0] for row in page["items"]] == list(range(total))
    assert page["items"][1:4] == [[i, p, pytest.approx(o), pytest.approx(n)]
                                  for i, p, o, n in items]
    past = _zmq(req, "/rtsim/ctl/pca/items", total + 5, 10)
    assert past["ok"] and past["items"] == [] and past["total"] == total
    _, (_, status, detail) = osc.ask("/rtsim/ctl/pca/items", "ii", [0, 5000])
    assert status == "error" and "count" in detail  # over the page limit: refused


def test_rejected_commands_change_nothing_and_say_why(running):
    engine, col, osc, req = running
    addr, (request, status, detail) = osc.ask("/rtsim/ctl/pca/k", "i", [0])
    assert (request, status) == ("/rtsim/ctl/pca/k", "error") and "k=0" in detail
    _, (_, status, detail) = osc.ask("/rtsim/ctl/pca/weights", "ffff", [1, 0, 0, 0])
    assert status == "error" and "0 subspaces" in detail
    _, (_, status, detail) = osc.ask("/rtsim/ctl/nobody/k", "i", [3])
    assert status == "error" and "unknown embedder 'nobody'" in detail
    nan = encode_message("/rtsim/ctl/pca/weights", "ffff", [9.0, 0, 0, 0]).replace(
        struct.pack(">f", 9.0), struct.pack(">f", float("nan")))  # our encoder refuses NaN
    osc.sock.sendto(nan, ("127.0.0.1", osc.port))
    _, (_, status, detail) = decode_datagram(osc.sock.recv(4096))[0]
    assert status == "error" and "finite" in detail
    reply = _zmq(req, "/rtsim/ctl/pca/k", "three")
    assert not reply["ok"] and "expected type 'i'" in reply["detail"]
    req.send(b"{not json")
    assert req.poll(3000) and "malformed" in req.recv_json()["detail"]
    osc.sock.sendto(b"#bundle\0" + b"\0" * 8 + b"\xff\xff\xff\xf8", ("127.0.0.1", osc.port))
    assert osc.ask("/rtsim/ping", "i", [1]) == ("/rtsim/pong", (1,))  # still answering
    assert engine.control.counters["malformed"] >= 2
    assert engine.pipelines[0].k == 4 and engine.pipelines[0].weights is None


def test_trigger_thresholds_change_live(running):
    engine, col, osc, req = running
    assert wait_until(lambda: len(col.triggers) >= 2)  # a struck note every 0.8 s
    _, (_, status, detail) = osc.ask("/rtsim/ctl/trigger", "ff", [5.0, 9.0])
    assert status == "error" and "threshold_db" in detail  # out of range: nothing changes
    assert all(t.detector.config.threshold_db == -40.0 for t in engine.router.inputs.values())
    assert _zmq(req, "/rtsim/ctl/trigger", 0.0, 9.0)["ok"]  # nothing reaches 0 dBFS
    assert all(t.detector.config.threshold_db == 0.0 for t in engine.router.inputs.values())
    time.sleep(0.3)  # a pending onset may still report
    n = len(col.triggers)
    time.sleep(2.0)
    assert len(col.triggers) == n
    assert osc.ask("/rtsim/ctl/trigger", "ff", [-40.0, 9.0])[1][1] == "ok"
    assert wait_until(lambda: len(col.triggers) > n, timeout=3.0)


def test_weights_and_pins_reach_the_search(tmp_path, sample_folder, subspace_embedder):
    lib = tmp_path / "lib"
    build_library(sample_folder / "organ", lib, plugin=subspace_embedder, progress=False)
    clip = write_clip(tmp_path / "ref.wav", [(0.1, "organ", 48)], seconds=3.5)
    cfg = load_config(None, patch=merge({
        "source": {"kind": "file", "path": str(clip), "realtime": True, "loop": True},
        "embedder": [{"name": "four", "library": str(lib), "k": 2}],
        "osc": {"enabled": False}, "zmq": {"enabled": False}, "engine": {"device": "cpu"},
        "control": {"port": 0, "zmq_endpoint": None, "roots": [str(tmp_path)]}}, {}))
    engine = build_engine(cfg)
    engine.start()
    try:
        osc = _Client(engine.control.port)
        pipe = engine.pipelines[0]
        assert osc.ask("/rtsim/ctl/four/weights", "ffff", [1, 0, 0.5, 0])[1][1] == "ok"
        np.testing.assert_allclose(pipe.weights, [1, 0, 0.5, 0])
        _, (_, status, detail) = osc.ask("/rtsim/ctl/four/weights", "ffff", [0, 0, 0, 0])
        assert status == "error" and "not all zero" in detail
        np.testing.assert_allclose(pipe.weights, [1, 0, 0.5, 0])  # unchanged
        assert osc.ask("/rtsim/ctl/four/pin", "ss", ["tempo", "ref.wav"])[1][1] == "ok"
        assert set(pipe.pins) == {3} and np.linalg.norm(pipe.pins[3]) == pytest.approx(1.0)
        for bad, why in (("../etc/passwd", "contain '..'"),
                         ("/etc/passwd", f"outside control.roots = ['{tmp_path}']"),
                         ("missing.wav", "no such file: 'missing.wav' (looked inside control")):
            _, (_, status, detail) = osc.ask("/rtsim/ctl/four/pin", "ss", ["mood", bad])
            assert status == "error" and why in detail
        # an absolute path inside the roots is accepted, as the schema says
        assert osc.ask("/rtsim/ctl/four/pin", "ss", ["mood", str(clip)])[1][1] == "ok"
        assert set(pipe.pins) == {1, 3}
        _, (_, status, detail) = osc.ask("/rtsim/ctl/four/pin", "ss", ["colour", "ref.wav"])
        assert status == "error" and "no subspace 'colour'" in detail
        hops = pipe.counters.hops
        assert wait_until(lambda: pipe.counters.hops > hops + 3)  # searching with weights + pin
        assert osc.ask("/rtsim/ctl/four/unpin", "s", ["all"])[1][1] == "ok"
        assert pipe.pins == {}
    finally:
        engine.stop()
        engine.join(5)


def test_non_loopback_needs_an_allow_list():
    with pytest.raises(ConfigError, match="not loopback"):
        ControlConfig(host="0.0.0.0")
    ControlConfig(host="0.0.0.0", allow=("192.168.1.20",))


def test_library_swap_and_reload_keep_the_old_one_on_failure(tmp_path, one_shot_library,
                                                              sample_folder):
    import shutil

    from rtsim.embed import get

    shutil.copytree(one_shot_library, tmp_path / "good")
    build_library(sample_folder / "pluck", tmp_path / "other", plugin=get("pca"),
                  progress=False)
    shutil.copytree(one_shot_library, tmp_path / "corrupt")
    raw = bytearray((tmp_path / "corrupt" / "index.faiss").read_bytes())
    raw[len(raw) // 2] ^= 1
    (tmp_path / "corrupt" / "index.faiss").write_bytes(bytes(raw))
    clip = write_clip(tmp_path / "c.wav", [(0.2, "organ", 60)], seconds=4.0)
    cfg = load_config(None, patch={
        "source": {"kind": "file", "path": str(clip), "realtime": True, "loop": True},
        "embedder": [{"name": "pca", "library": str(tmp_path / "good"), "k": 2}],
        "osc": {"enabled": False}, "zmq": {"enabled": False}, "engine": {"device": "cpu"},
        "control": {"port": 0, "zmq_endpoint": None, "roots": [str(tmp_path)]}})
    engine = build_engine(cfg)
    engine.start()
    try:
        osc = _Client(engine.control.port)
        pipe = engine.pipelines[0]
        _, (_, status, detail) = osc.ask("/rtsim/ctl/pca/library", "s", ["corrupt"])
        assert status == "error" and "corrupt" in detail
        assert pipe.library.path == tmp_path / "good" and pipe.swaps == 0
        assert osc.ask("/rtsim/ctl/pca/library", "s", ["other"])[1][1] == "ok"
        assert pipe.library.path == (tmp_path / "other").resolve() and pipe.swaps == 1
        assert osc.ask("/rtsim/ctl/pca/library", "s", [str(tmp_path / "good")])[1][1] == "ok"
        assert pipe.library.path == (tmp_path / "good").resolve() and pipe.swaps == 2
        assert osc.ask("/rtsim/ctl/pca/library", "s", ["other"])[1][1] == "ok"
        assert pipe.library.count == 3 and pipe.embedder.weights_hash == \
            pipe.library.manifest.weights_hash  # pca's state comes with its library
        _, (_, status, detail) = osc.ask("/rtsim/ctl/pca/reload")
        assert status == "error" and "fitted on its library" in detail
        hops = pipe.counters.hops
        assert wait_until(lambda: pipe.counters.hops > hops + 2)
        assert engine.status().counters["swaps"] == 3
    finally:
        engine.stop()
        engine.join(5)


def _curve_client(ctx, endpoint, keys, name, server_public):
    import zmq.auth

    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    if name is not None:
        public, secret = zmq.auth.load_certificate(keys / f"{name}.key_secret")
        req.curve_publickey, req.curve_secretkey = public, secret
        req.curve_serverkey = server_public
    req.connect(endpoint)
    return req


@pytest.mark.skipif(not zmq.has("curve"), reason="libzmq without CURVE")
def test_curve_control_admits_only_authorised_clients(tmp_path, one_shot_library):
    import zmq.auth

    from tests.commands import run

    keys = tmp_path / "keys"
    r = run("rtsim", "keys", keys, "--clients", "1")
    assert r.returncode == 0 and "curve_secret" in r.stdout, r.stderr
    zmq.auth.create_certificates(tmp_path, "stranger")  # a key the server never saw
    server_public, _ = zmq.auth.load_certificate(keys / "server.key")
    endpoint = _free_tcp()
    cfg = load_config(None, patch={
        "source": {"kind": "synth", "signal": "sine:440"}, "engine": {"device": "cpu"},
        "embedder": [{"name": "pca", "library": str(one_shot_library)}],
        "osc": {"enabled": False}, "zmq": {"enabled": False},
        "control": {"port": 0, "zmq_endpoint": endpoint,
                    "curve_secret": str(keys / "server.key_secret"),
                    "curve_clients": str(keys / "clients")}})
    engine = build_engine(cfg)
    engine.start()
    ctx = zmq.Context()
    try:
        good = _curve_client(ctx, endpoint, keys, "client0", server_public)
        assert _zmq(good, "/rtsim/ping", 5) == {"ok": True, "detail": "", "pong": 5}
        shutil.copy(tmp_path / "stranger.key_secret", keys / "stranger.key_secret")
        for name in ("stranger", None):  # an unknown key; no encryption at all
            req = _curve_client(ctx, endpoint, keys, name, server_public)
            req.send_json({"address": "/rtsim/ping", "args": [1]})
            assert not req.poll(1500), f"{name} got an answer"
        assert engine.control.counters["received"] == 1
    finally:
        ctx.destroy(linger=0)
        engine.stop()
        engine.join(5)


def test_curve_options_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="curve_secret='nope'"):
        ControlConfig(curve_secret="nope", curve_clients=str(tmp_path))
    (tmp_path / "s.key_secret").write_text("x")
    with pytest.raises(ConfigError, match="curve_clients=.*public certificates"):
        ControlConfig(curve_secret=str(tmp_path / "s.key_secret"), curve_clients=str(tmp_path))
    with pytest.raises(ConfigError, match="not loopback"):
        ControlConfig(zmq_endpoint="tcp://0.0.0.0:5557")


def test_raising_k_over_osc_recompiles_the_bundle_layout(tmp_path, one_shot_library):
    """k above the configured value used to be answered "ok" and then stop every bundle."""
    from pythonosc.osc_bundle import OscBundle

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    clip = write_clip(tmp_path / "c.wav", [(0.1 + 0.5 * i, "organ", 60) for i in range(8)],
                      seconds=4.0)
    cfg = load_config(None, patch={
        "source": {"kind": "file", "path": str(clip), "realtime": True, "loop": True},
        "embedder": [{"name": "pca", "library": str(one_shot_library), "k": 3}],
        "osc": {"port": rx.getsockname()[1], "name_bytes": 64}, "zmq": {"enabled": False},
        "engine": {"device": "cpu"}, "control": {"port": 0, "zmq_endpoint": None}})
    engine = build_engine(cfg)
    engine.start()

    def ranks(seconds=1.0, settle=0.3):
        """The largest match rank in the hop bundles of the next ``seconds`` (bundles sent
        before a change, still in the socket buffer, are read and dropped for ``settle``)."""
        drop = time.monotonic() + settle
        while time.monotonic() < drop:
            try:
                rx.recv(65536)
            except TimeoutError:
                pass
        best, end = -1, time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = rx.recv(65536)
            except TimeoutError:
                continue
            if data.startswith(b"#bundle"):
                for m in OscBundle(data):
                    if m.address.startswith("/rtsim/pca/match/"):
                        best = max(best, int(m.address.rsplit("/", 1)[1]))
        return best

    try:
        osc = _Client(engine.control.port)
        assert ranks() == 2
        reply = osc.ask("/rtsim/ctl/pca/k", "i", [8])[1]
        assert reply[1] == "ok", reply
        assert ranks() == 7 and engine.pipelines[0].k == 8  # bundles keep coming, 8 matches
        assert engine.counters["publish_errors"] == 0
        _, (_, status, detail) = osc.ask("/rtsim/ctl/pca/k", "i", [60])  # 60 names x 64 B
        assert status == "error" and "datagram limit" in detail and "k <= " in detail
        assert engine.pipelines[0].k == 8 and ranks() == 7                # nothing changed
        assert osc.ask("/rtsim/ctl/pca/k", "i", [3])[1][1] == "ok"
        assert ranks() == 2
    finally:
        engine.stop()
        engine.join(5)
        rx.close()


def test_the_sampler_mode_changes_over_osc(tmp_path, one_shot_library):
    """/rtsim/ctl/<embedder>/play switches trigger -> off; refused without a sampler."""
    clip = write_clip(tmp_path / "c.wav", [(0.2 + 0.5 * i, "pluck", 60) for i in range(12)],
                      seconds=6.5)
    cfg = load_config(None, patch={
        "source": {"kind": "file", "path": str(clip), "realtime": True},
        "embedder": [{"name": "pca", "library": str(one_shot_library), "k": 2}],
        "osc": {"enabled": False}, "zmq": {"enabled": False}, "engine": {"device": "cpu"},
        "control": {"port": 0}, "play": {"enabled": True, "to_file": str(tmp_path / "o.wav")}})
    engine = build_engine(cfg)
    sampler = next(p for p in engine.publishers if hasattr(p, "set_mode"))
    engine.start()
    try:
        osc = _Client(engine.control.port)
        assert wait_until(lambda: sampler.counters["played"] >= 2, timeout=10)
        _, (_, status, detail) = osc.ask("/rtsim/ctl/pca/play", "s", ["loud"])
        assert status == "error" and "play mode 'loud'" in detail
        assert osc.ask("/rtsim/ctl/pca/play", "s", ["off"])[1][1] == "ok"
        assert wait_until(lambda: sampler.modes["pca"] == "off")
        played = sampler.counters["played"]
        time.sleep(1.2)  # two more onsets, not played
        assert sampler.counters["played"] == played
    finally:
        engine.stop()
        engine.join(5)
        sampler.close()


def test_play_mode_needs_a_sampler(running):
    engine, col, osc, req = running
    _, (_, status, detail) = osc.ask("/rtsim/ctl/pca/play", "s", ["follow"])
    assert status == "error" and "sampler is off" in detail
