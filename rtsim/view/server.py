"""``rtsim view``: a library's 3-D map in the browser, following a running engine.

One port serves everything (the ``websockets`` library: HTTP for the page and the data,
a WebSocket for the live stream):

==========================  ===========================================================
``/``                       the page (``static/index.html``; three.js vendored beside it)
``/static/<file>``          its scripts and styles
``/api/scene.json``         the item table (:func:`~rtsim.view.scene.library_scene`)
``/api/points.bin``         the items' positions, float32 x, y, z per item
``/api/audio/<id>``         item ``id``'s sound as WAV, to audition on click
``/live``                   WebSocket: the followed embedder's hops and triggers (JSON)
==========================  ===========================================================

Without an engine (``connect=None``) the page shows the library alone. Nothing is fetched
from the network, by the server or by the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import threading
from http import HTTPStatus
from importlib import resources
from pathlib import Path

from rtsim.errors import ConfigError, LibraryError
from rtsim.view.live import Hub, Viewer, ZmqFollower
from rtsim.view.scene import item_wav, library_scene, scene_points

__all__ = ["ViewServer", "STATIC"]

log = logging.getLogger(__name__)

STATIC = resources.files("rtsim.view") / "static"


class ViewServer:
    """Serve ``library``'s map on ``host:port``, following ``connect`` when given.

    Parameters
    ----------
    library : Library
        An opened library (any object with the same item table, positions and files).
    host, port : str, int
        Where to listen (port 0: any free port, see :attr:`port`).
    connect : str or None
        An engine's ZeroMQ endpoint; None shows the library alone.
    """

    def __init__(self, library, *, host: str = "127.0.0.1", port: int = 8765,
                 connect: str | None = None) -> None:
        self.library, self.host, self.connect = library, host, connect
        self.port = port
        self.hub = Hub()
        self._scene = json.dumps(library_scene(library) | {"live": connect is not None})
        self._points = scene_points(library)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Future | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.follower: ZmqFollower | None = None
        self._files = {p.name for p in STATIC.iterdir() if p.is_file()}

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{self.host}:{self.port}/"

    # -- running -----------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` (or Ctrl-C)."""
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # e.g. the port is taken: start() raises it
            self._failed = exc
            self._ready.set()
            raise

    def start(self) -> ViewServer:
        """Serve from a background thread; returns once listening.

        Raises
        ------
        ConfigError
            When the address cannot be served (e.g. the port is taken), naming it.
        """
        self._thread = threading.Thread(target=self._serve_quietly, name="rtsim-view",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise ConfigError(f"rtsim view did not start listening on {self.host}:{self.port}")
        if self._failed is not None:
            raise ConfigError(f"rtsim view cannot serve on {self.host}:{self.port}: "
                              f"{self._failed}") from self._failed
        return self

    def _serve_quietly(self) -> None:
        with contextlib.suppress(BaseException):  # start() reports the failure
            self.serve_forever()

    def stop(self) -> None:
        """Stop serving (from any thread) and wait for the server's thread."""
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(
                lambda: self._stopped.done() or self._stopped.set_result(None))
        if self._thread is not None:
            self._thread.join(5)

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        if self.connect is not None:
            emb = self.library.manifest.embedder
            self.follower = ZmqFollower(self.connect, emb, lambda kind, text: (
                self._loop.call_soon_threadsafe(self.hub.publish, kind, text)))
            self.follower.start()
        try:
            async with serve(self._live, self.host, self.port, process_request=self._http,
                             max_size=2**16) as server:
                self.port = server.sockets[0].getsockname()[1]
                self._ready.set()
                await self._stopped
        finally:
            if self.follower is not None:
                self.follower.stop()

    # -- WebSocket ---------------------------------------------------------------------
    async def _live(self, ws) -> None:
        viewer = Viewer()
        self.hub.viewers.add(viewer)
        pump = asyncio.create_task(viewer.pump(ws.send))
        try:
            async for _ in ws:  # the page sends nothing that matters; wait for it to go
                pass
        except Exception:  # noqa: BLE001 -- a browser that vanishes ends only its own pump
            pass
        finally:
            self.hub.viewers.discard(viewer)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump

    # -- HTTP --------------------------------------------------------------------------
    async def _http(self, connection, request):
        """Answer plain HTTP requests; None lets ``/live`` become a WebSocket."""
        path = request.path.split("?", 1)[0]
        if path == "/live":
            return None
        if path == "/":
            path = "/static/index.html"
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        if path == "/api/scene.json":
            return _response(HTTPStatus.OK, self._scene.encode(), "application/json")
        if path == "/api/points.bin":
            return _response(HTTPStatus.OK, self._points, "application/octet-stream")
        if path.startswith("/api/audio/"):  # decoded off the loop: no viewer waits for it
            return await asyncio.to_thread(self._audio, path[len("/api/audio/"):])
        return _response(HTTPStatus.NOT_FOUND, f"no such page: {path}\n".encode(), "text/plain")

    def _static(self, name: str):
        if name not in self._files:  # only the page's own files: no path reaches elsewhere
            return _response(HTTPStatus.NOT_FOUND, f"no such file: {name}\n".encode(),
                             "text/plain")
        res = STATIC / name
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".js"):
            kind = "text/javascript"
        return _response(HTTPStatus.OK, res.read_bytes(), kind)

    def _audio(self, ident: str):
        if not (ident.isascii() and ident.isdigit() and len(ident) <= 12):
            return _response(HTTPStatus.BAD_REQUEST, f"item id {ident!r} is not a number\n"
                             .encode(), "text/plain")
        try:
            return _response(HTTPStatus.OK, item_wav(self.library, int(ident)), "audio/wav")
        except LibraryError as exc:
            return _response(HTTPStatus.NOT_FOUND, f"{exc}\n".encode(), "text/plain")

    def stats(self) -> dict:
        """Messages received from the engine, and each browser's sent and skipped hops."""
        async def snapshot():  # on the loop's thread, where the viewers change
            return [{"sent": v.sent, "skipped": v.skipped} for v in self.hub.viewers]

        viewers = asyncio.run_coroutine_threadsafe(snapshot(), self._loop).result(5)
        return {"received": self.hub.received, "viewers": viewers,
                "errors": 0 if self.follower is None else self.follower.errors}


def _response(status: HTTPStatus, body: bytes, content_type: str):
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-store"), ("Connection", "close")])
    return Response(status.value, status.phrase, headers, body)


def open_view(path: str | Path, **kwargs) -> ViewServer:
    """A :class:`ViewServer` for the library at ``path`` (LibraryError if it cannot open)."""
    from rtsim.index import Library

    return ViewServer(Library.open(path), **kwargs)
