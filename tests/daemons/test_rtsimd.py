"""The daemon: clean stop on SIGTERM within 2 s, reload on SIGHUP, refusal of bad configs."""

import signal
import socket
import subprocess
import time

import pytest
import zmq

from rtsim.publish.zmq import recv_event
from tests.commands import command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_config(path, library, endpoint, k):
    path.write_text(f"""
[source]
kind = "synth"
signal = "bursts:440,880:0.3"
realtime = true

[engine]
device = "cpu"

[[embedder]]
name = "pca"
library = "{library}"
k = {k}

[osc]
enabled = false

[control]
enabled = false

[zmq]
endpoint = "{endpoint}"
""")


@pytest.fixture
def daemon(tmp_path, one_shot_library):
    endpoint = f"tcp://127.0.0.1:{_free_port()}"
    cfg = tmp_path / "rtsimd.toml"
    _write_config(cfg, one_shot_library, endpoint, k=3)
    proc = subprocess.Popen([*command("rtsimd"), str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"hop/")
    sub.connect(endpoint)
    yield proc, sub, cfg, one_shot_library, endpoint
    sub.close(linger=0)
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _next_hop(sub, proc, *, timeout=20.0, where=lambda h: True):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sub.poll(200):
            _, header, _ = recv_event(sub)
            if where(header):
                return header
    proc.kill()
    raise AssertionError("no matching hop arrived; the daemon said:\n" + proc.stdout.read())


def test_sigterm_stops_within_two_seconds(daemon):
    proc, sub, *_ = daemon
    assert _next_hop(sub, proc)["embedder"] == "pca"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=10)
    elapsed = time.monotonic() - t0
    out = proc.stdout.read()
    assert rc == 0, out
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    assert "stopped" in out


def test_sighup_reloads_and_bad_config_keeps_running(daemon):
    proc, sub, cfg, library, endpoint = daemon
    assert _next_hop(sub, proc, where=lambda h: not h["silent"])["k"] == 3
    cfg.write_text("[osc\nbroken")  # an invalid file: the daemon must keep the old config
    proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert proc.poll() is None
    assert _next_hop(sub, proc, where=lambda h: not h["silent"])["k"] == 3
    _write_config(cfg, library, endpoint, k=2)
    proc.send_signal(signal.SIGHUP)
    assert _next_hop(sub, proc, where=lambda h: not h["silent"] and h["k"] == 2)["k"] == 2
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
    out = proc.stdout.read()
    assert "reload refused" in out and "reloaded" in out


def test_unusable_config_exits_2(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[embedder]]\nname = "pca"\nlibrary = "/nonexistent"\n')
    r = subprocess.run([*command("rtsimd"), str(cfg)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "library not found: /nonexistent" in r.stderr


def test_sigterm_stops_within_two_seconds_after_reloads_and_a_swap(tmp_path, one_shot_library):
    from rtsim.publish.osc import encode_message

    endpoint, ctl = f"tcp://127.0.0.1:{_free_port()}", _free_port()
    rep = f"tcp://127.0.0.1:{_free_port()}"
    cfg = tmp_path / "rtsimd.toml"

    def write(k):
        _write_config(cfg, one_shot_library, endpoint, k)
        cfg.write_text(cfg.read_text().replace(
            "[control]\nenabled = false",
            f"[control]\nport = {ctl}\nzmq_endpoint = \"{rep}\"\n"
            f"roots = [\"{one_shot_library.parent}\"]"))

    write(3)
    proc = subprocess.Popen([*command("rtsimd"), str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"hop/")
    sub.connect(endpoint)
    try:
        for k in (2, 3, 2, 3):
            _next_hop(sub, proc, where=lambda h: not h["silent"])
            write(k)
            proc.send_signal(signal.SIGHUP)
            _next_hop(sub, proc, where=lambda h, k=k: not h["silent"] and h["k"] == k)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as osc:
            osc.settimeout(10)
            osc.sendto(encode_message("/rtsim/ctl/pca/library", "s", [str(one_shot_library)]),
                       ("127.0.0.1", ctl))
            assert b"ok" in osc.recv(4096)  # swapped
        _next_hop(sub, proc)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
        elapsed = time.monotonic() - t0
        out = proc.stdout.read()
        assert rc == 0 and out.count("reloaded") == 4, out
        assert elapsed < 2.0, f"took {elapsed:.2f} s\n{out}"
    finally:
        sub.close(linger=0)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
