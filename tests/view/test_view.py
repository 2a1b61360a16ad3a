"""rtsim view: the server's pages and data, the ZeroMQ bridge, and the page in a real
headless Chromium (driven over DevTools): the map, the live cursor, matches and triggers,
hover, click-to-listen, search and folder filters, and 10^5 points kept smooth."""

from __future__ import annotations

import asyncio
import json
import time
import types
import urllib.error
import urllib.request

import numpy as np
import pytest

from rtsim.bench.scenarios.view import frame_rate, synthetic_library
from rtsim.embed import get
from rtsim.index import Library
from rtsim.index.build import build_library
from rtsim.publish.events import HopEvent, TriggerEvent
from rtsim.publish.zmq import ZmqConfig, ZmqPublisher
from rtsim.view.browser import Browser, chromium_path
from rtsim.view.live import Hub, Viewer
from rtsim.view.server import ViewServer

needs_chromium = pytest.mark.skipif(chromium_path() is None, reason="chromium not installed")


@pytest.fixture(scope="module")
def library(tmp_path_factory, sample_folder):
    out = tmp_path_factory.mktemp("view") / "lib"
    build_library(sample_folder, out, plugin=get("pca"), progress=False)
    return Library.open(out)


@pytest.fixture
def publisher():
    pub = ZmqPublisher(ZmqConfig(endpoint="tcp://127.0.0.1:*"))
    yield pub
    pub.close()


@pytest.fixture
def server(library, publisher):
    srv = ViewServer(library, port=0, connect=publisher.endpoint).start()
    yield srv
    srv.stop()


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type", "")


def _hop(library, seq: int, ids, *, embedder: str | None = None) -> HopEvent:
    ids = np.asarray(ids, np.int64)
    files = tuple((str(library.source_root / it.file), it.offset_s, it.length_s)
                  for it in library.items(ids))
    return HopEvent(embedder=embedder or library.manifest.embedder, seq=seq,
                    capture_time=time.time(), xyz=np.asarray(library.xyz[ids[0]], np.float32),
                    vector=np.zeros(library.manifest.dim, np.float32), ids=ids,
                    distances=np.linspace(0.1, 0.5, len(ids)).astype(np.float32),
                    names=tuple(library.names[i] for i in ids), level_db=-12.0, silent=False,
                    files=files)


def _trigger(library, item: int) -> TriggerEvent:
    return TriggerEvent(embedder=library.manifest.embedder, seq=0, capture_time=time.time(),
                        id=item, name=library.names[item], distance=0.2, level_db=-6.0,
                        file="", offset_s=0.0, length_s=0.0)


# -- the server ------------------------------------------------------------------------
def test_pages_data_and_audio(library):
    srv = ViewServer(library, port=0).start()
    try:
        status, body, kind = _get(srv.url)
        assert status == 200 and b"view.js" in body and kind.startswith("text/html")
        status, body, kind = _get(srv.url + "static/three-view.min.js")
        assert status == 200 and kind == "text/javascript" and len(body) > 100_000
        scene = json.loads(_get(srv.url + "api/scene.json")[1])
        assert scene["count"] == library.count and not scene["live"]
        assert scene["names"] == list(library.names)
        assert [scene["labels"][i] for i in scene["label"]] == [
            it.labels.get("folder", "") or "." for it in library.all_items()]
        points = np.frombuffer(_get(srv.url + "api/points.bin")[1], "<f4").reshape(-1, 3)
        np.testing.assert_allclose(points, library.xyz, rtol=1e-6)
        status, wav, kind = _get(srv.url + "api/audio/0")
        assert status == 200 and kind == "audio/wav" and wav[:4] == b"RIFF" and len(wav) > 1000
        status, body, _ = _get(srv.url + f"api/audio/{library.count}")
        assert status == 404 and f"item {library.count} is not in the library" in body.decode()
        assert _get(srv.url + "api/audio/x")[0] == 400
        assert _get(srv.url + "api/audio/" + "9" * 5000)[0] == 400
        assert _get(srv.url + "static/..%2Fserver.py")[0] == 404
        assert _get(srv.url + "static/missing.js")[0] == 404
        assert _get(srv.url + "nothing")[0] == 404
    finally:
        srv.stop()


def test_a_taken_port_is_a_clear_error(library):
    from rtsim.errors import ConfigError

    first = ViewServer(library, port=0).start()
    try:
        with pytest.raises(ConfigError, match=f"cannot serve on 127.0.0.1:{first.port}"):
            ViewServer(library, port=first.port).start()
    finally:
        first.stop()


def test_a_missing_sound_file_is_a_clear_404(library, tmp_path, monkeypatch):
    moved = types.SimpleNamespace(**{k: getattr(library, k) for k in (
        "count", "xyz", "manifest", "all_items", "items", "names")}, source_root=tmp_path)
    srv = ViewServer(moved, port=0).start()
    try:
        status, body, _ = _get(srv.url + "api/audio/1")
        assert status == 404 and "item 1: cannot read" in body.decode()
    finally:
        srv.stop()


def test_the_bridge_follows_one_embedder(server, library, publisher):
    from websockets.sync.client import connect

    with connect(server.url.replace("http", "ws") + "live") as ws:
        deadline = time.monotonic() + 10
        got = []
        seq = 0
        while time.monotonic() < deadline and not any(m["type"] == "trigger" for m in got):
            publisher.publish_hop(_hop(library, seq, [3, 1, 2]))
            publisher.publish_hop(_hop(library, seq, [0], embedder="other"))  # not followed
            if seq > 3:
                publisher.publish_trigger(_trigger(library, 2))
            seq += 1
            try:
                while True:
                    got.append(json.loads(ws.recv(timeout=0.05)))
            except TimeoutError:
                pass
    hops = [m for m in got if m["type"] == "hop"]
    assert hops and all(m["ids"] == [3, 1, 2] for m in hops)
    np.testing.assert_allclose(hops[-1]["xyz"], library.xyz[3], rtol=1e-6)
    assert [m["id"] for m in got if m["type"] == "trigger"][:1] == [2]
    assert server.stats()["received"] >= len(got) and server.stats()["errors"] == 0


def test_a_slow_browser_delays_no_other():
    """A viewer whose socket never drains keeps only the newest hop; the others get all."""
    async def run():
        hub, fast, slow = Hub(), Viewer(), Viewer()
        hub.viewers |= {fast, slow}
        got, stuck = [], asyncio.Event()

        async def send_fast(text):
            got.append(text)

        async def send_slow(text):
            await stuck.wait()  # a browser that stopped reading

        pumps = [asyncio.create_task(fast.pump(send_fast)),
                 asyncio.create_task(slow.pump(send_slow))]
        for i in range(200):
            hub.publish("hop", f"h{i}")
            if i % 50 == 0:
                hub.publish("trigger", f"t{i}")
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        for p in pumps:
            p.cancel()
        return got, slow

    got, slow = asyncio.run(run())
    assert [g for g in got if g.startswith("h")] == [f"h{i}" for i in range(200)]
    assert [g for g in got if g.startswith("t")] == ["t0", "t50", "t100", "t150"]
    assert slow.skipped >= 190 and slow.hop == "h199"  # bounded: one hop, not 200


# -- the page in a real browser ----------------------------------------------------------
@needs_chromium
def test_the_page_live(server, library, publisher, tmp_path):
    with Browser(server.url, tmp_path / "profile") as b:
        b.wait_for("window.rtsimView && (rtsimView.ready || rtsimView.error)")
        assert b.js("rtsimView.error") is None
        assert b.js("rtsimView.count") == library.count == b.js("rtsimView.visible")
        b.wait_for("rtsimView.connected")
        deadline = time.monotonic() + 15
        seq = 0
        while time.monotonic() < deadline and not b.js("rtsimView.flashing.includes(5)"):
            publisher.publish_hop(_hop(library, seq, [5, 4, 7]))
            if seq % 5 == 4:
                publisher.publish_trigger(_trigger(library, 5))
            seq += 1
            time.sleep(0.05)
        assert b.js("rtsimView.flashing").count(5) >= 1
        assert b.js("rtsimView.topk") == [5, 4, 7] and b.js("rtsimView.hops") >= 1
        np.testing.assert_allclose(b.js("rtsimView.cursor"), library.xyz[5], rtol=1e-5)
        assert library.names[5] in b.js("document.getElementById('matches').textContent")
        shot = b.screenshot(tmp_path / "live.png")
        assert shot.stat().st_size > 5000

        # hover names an item, a click plays its sound
        b.wait_for("!rtsimView.moving")
        x, y = b.js("rtsimScreenOf(6)")
        b.mouse("move", x, y)
        hovered = b.wait_for("rtsimView.hovered >= 0 && rtsimView.hovered + 1")  - 1
        tip = b.js("document.getElementById('tip').textContent")
        assert library.names[hovered] in tip and not b.js("document.getElementById('tip').hidden")
        b.mouse("click", x, y)
        b.wait_for("rtsimView.lastAudition && (rtsimView.lastAudition.played || "
                   "rtsimView.lastAudition.error)")
        audition = b.js("rtsimView.lastAudition")
        assert audition["id"] == hovered and audition["bytes"] > 1000, audition
        assert audition["played"], audition

        # search and folder filters
        name = library.names[3]
        b.js(f"{{const s = document.getElementById('search'); s.value = {json.dumps(name)};"
             "s.dispatchEvent(new Event('input'))}")
        want = sum(name.lower() in (n + " " + it.file).lower()
                   for n, it in zip(library.names, library.all_items(), strict=True))
        assert b.js("rtsimView.visible") == want >= 1
        b.js("{const s = document.getElementById('search'); s.value = '';"
             "s.dispatchEvent(new Event('input'));"
             "const l = document.getElementById('label'); l.value = '0';"
             "l.dispatchEvent(new Event('change'))}")
        first = json.loads(_get(server.url + "api/scene.json")[1])["label"].count(0)
        assert b.js("rtsimView.visible") == first < library.count


@needs_chromium
@pytest.mark.slow
def test_a_hundred_thousand_points_stay_smooth(tmp_path):
    """>= 30 frames/s while the map turns; every point drawn once it stops; nothing drawn
    while nothing changes. (Bounded retry: the best of three 3-s windows.)"""
    srv = ViewServer(synthetic_library(100_000), port=0).start()
    try:
        with Browser(srv.url, tmp_path / "profile") as b:
            b.wait_for("window.rtsimView && (rtsimView.ready || rtsimView.error)", 60)
            assert b.js("rtsimView.error") is None and b.js("rtsimView.count") == 100_000
            b.wait_for("rtsimView.drawn === 100000 && !rtsimView.moving")
            f0 = b.js("rtsimView.frames")
            time.sleep(1.0)
            assert b.js("rtsimView.frames") == f0  # idle: no frame drawn
            rates = frame_rate(b, windows=3)
            assert max(rates) >= 30, rates  # bounded retry: the best of three 3-s windows
            b.screenshot(tmp_path / "turning.png")
            b.wait_for("!rtsimView.moving && rtsimView.drawn === 100000", 10)
    finally:
        srv.stop()


def test_the_command_serves_until_interrupted(library):
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "import sys; from rtsim.cli.main import main;"
                             " sys.exit(main())", "view", str(library.path), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            # Ctrl-C as from a shell, whatever this process inherited
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        assert line.startswith("rtsim view: http://127.0.0.1:") and "(library only)" in line
        url = line.split()[2]
        assert _get(url)[0] == 200 and json.loads(_get(url + "api/scene.json")[1])["count"]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)  # drains the pipes: a full one would block it
        assert proc.returncode == 0, err[-2000:]
    finally:
        proc.kill()
    bad = subprocess.run([sys.executable, "-c", "import sys; from rtsim.cli.main import main;"
                          " sys.exit(main())", "view", str(library.path / "nope")],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "nope" in bad.stderr
