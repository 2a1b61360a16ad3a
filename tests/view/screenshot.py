"""The README's picture of ``rtsim view``: a real engine plays the demo performance against a
library while the page follows it; the page is captured in headless Chromium.

    python -m tests.view.screenshot LIBRARY OUT.png [PERFORMANCE.wav]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rtsim.view.browser import Browser
from rtsim.view.server import open_view

ENDPOINT = "tcp://127.0.0.1:5599"


def main(library: str, out: str, performance: str | None = None) -> None:
    if performance is None:
        from rtsim.demo.data import ensure_demo

        performance = str(ensure_demo(device="cpu", progress=False).clip)
    engine = subprocess.Popen(
        [sys.executable, "-c", "import sys; from rtsim.cli.main import main; sys.exit(main())",
         "run", "--input", performance, "--loop", "--library", library, "--embedder", "sample",
         "--set", f"zmq.endpoint={ENDPOINT!r}", "--set", "osc.port=9599"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = open_view(library, port=0, connect=ENDPOINT).start()
    try:
        with tempfile.TemporaryDirectory() as d, Browser(server.url, Path(d),
                                                          size=(1200, 760)) as b:
            b.wait_for("window.rtsimView && rtsimView.ready && rtsimView.connected", 60)
            b.wait_for("rtsimView.hops > 40 && rtsimView.flashing.length > 0", 60)
            time.sleep(0.05)
            b.screenshot(Path(out))
    finally:
        server.stop()
        engine.terminate()
        engine.wait(10)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
