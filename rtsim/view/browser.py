"""A real headless Chromium, driven over the Chrome DevTools Protocol.

Used by ``rtsim bench view`` and the tests of the page.

:class:`Browser` starts Debian's ``chromium`` (``--headless=new``, WebGL through
SwiftShader, a throwaway profile), opens one page and talks to it over its DevTools
WebSocket: evaluate JavaScript (awaiting promises), wait for a condition, dispatch mouse
events and take screenshots. Callers skip or refuse when no ``chromium`` is installed.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

__all__ = ["Browser", "chromium_path"]


def chromium_path() -> str | None:
    """The Chromium executable, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium with one page at ``url`` (a context manager).

    Parameters
    ----------
    url : str
    profile : Path
        An empty folder for the browser's profile.
    size : tuple of int
        Window width and height (CSS pixels).
    """

    def __init__(self, url: str, profile: Path, *, size: tuple[int, int] = (1000, 700)) -> None:
        exe = chromium_path()
        if exe is None:
            raise RuntimeError("chromium is not installed")
        self._log = tempfile.TemporaryFile()  # chromium's chatter; read only on failure
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu-sandbox",
             "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--mute-audio",
             "--autoplay-policy=no-user-gesture-required", "--no-first-run",
             "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
             f"--window-size={size[0]},{size[1]}", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", url],
            stdout=subprocess.DEVNULL, stderr=self._log)
        self._ids = itertools.count(1)
        try:
            self.ws = self._connect(profile)
        except BaseException:
            self.proc.kill()
            self.proc.wait(10)
            raise

    def _connect(self, profile: Path):
        port = self._devtools_port(profile)
        deadline = time.monotonic() + 20
        pages: list = []
        while not pages:
            pages = [p for p in json.load(urllib.request.urlopen(
                f"http://127.0.0.1:{port}/json/list")) if p.get("type") == "page"]
            if not pages and time.monotonic() > deadline:
                raise RuntimeError("chromium opened no page within 20 s")
            time.sleep(0.05 if not pages else 0)
        from websockets.sync.client import connect

        return connect(pages[0]["webSocketDebuggerUrl"], max_size=2**26).__enter__()

    def _devtools_port(self, profile: Path) -> int:
        f = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not f.is_file() or not f.read_text().strip():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")
                raise RuntimeError(f"chromium did not start: {err[-2000:]}")
            time.sleep(0.05)
        return int(f.read_text().split()[0])

    def call(self, method: str, **params) -> dict:
        """One DevTools command; its result (RuntimeError on a protocol error)."""
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def js(self, expression: str):
        """Evaluate ``expression`` in the page (awaiting a promise); its JSON value."""
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"page error: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0):
        """Poll ``expression`` until truthy; its value (TimeoutError naming it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"page never satisfied {expression!r}")

    def mouse(self, kind: str, x: float, y: float) -> None:
        """A mouse event at CSS pixel ``(x, y)``: ``move`` or ``click``."""
        if kind == "move":
            self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
            return
        for t in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=t, x=x, y=y, button="left",
                      clickCount=1)

    def screenshot(self, path: Path) -> Path:
        """Save the page as a PNG."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        """Close the connection and the browser."""
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self._log.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
