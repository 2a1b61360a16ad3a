"""liblo's ``oscdump`` as an independent OSC receiver for tests."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import threading
import time

import pytest

OSCDUMP = shutil.which("oscdump")
needs_oscdump = pytest.mark.skipif(
    OSCDUMP is None,
    reason="liblo's oscdump is not installed (Debian: apt-get install liblo-tools)",
)


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 nobody holds right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OscDump:
    """Run ``oscdump -L PORT`` and queue the lines it prints."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_udp_port()
        self.proc = subprocess.Popen([OSCDUMP, "-L", str(self.port)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, encoding="utf-8")
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(x.rstrip("\n")) for x in self.proc.stdout],
                         daemon=True).start()

    def wait_ready(self, send_probe, *, tries: int = 100) -> None:
        """Call ``send_probe()`` until oscdump prints something (it binds asynchronously)."""
        for _ in range(tries):
            send_probe()
            try:
                self.collect(1, timeout=0.1)
                break
            except queue.Empty:
                continue
        time.sleep(0.2)
        self.drain()

    def drain(self) -> list[str]:
        """Everything printed so far."""
        out = []
        while not self.lines.empty():
            out.append(self.lines.get())
        return out

    def collect(self, n: int, *, timeout: float = 5.0) -> list[str]:
        """The next ``n`` lines (queue.Empty if they do not come in time)."""
        deadline, out = time.monotonic() + timeout, []
        while len(out) < n:
            out.append(self.lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
        return out

    def close(self) -> None:
        """Stop oscdump."""
        self.proc.terminate()
        self.proc.wait(timeout=5)


def parse(line: str):
    """``(timetag, address, typetags, args)`` from one line of oscdump's output."""
    stamp, address, tags, *rest = line.split(" ", 3)
    seconds, fraction = stamp.split(".")
    text = rest[0] if rest else ""
    args = []
    for j, t in enumerate(tags):
        if t == "s":  # printed in double quotes, spaces and all
            assert text.startswith('"'), line
            end = len(text) - 1 if j == len(tags) - 1 else text.index('" ', 1)
            assert text[end] == '"', line
            args.append(text[1:end])
            text = text[end + 2:]
        else:
            value, _, text = text.partition(" ")
            args.append(int(value) if t == "i" else float(value))
    return (int(seconds, 16) << 32) | int(fraction, 16), address, tags, args
