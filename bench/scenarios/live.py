"""Shared pieces of the engine-in-the-loop scenarios (latency, event).

- :class:`OscTap`: a loopback UDP receiver that stamps each datagram on arrival and
  decodes it with python-osc (an implementation independent of rtsim's encoder);
- :func:`bench_library`: a library of the demo samples grown to N vectors with synthetic
  neighbours (drawn around real vectors, so they cluster like real ones), cached;
- :func:`busy_core`: keep another core busy while the engine runs.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtsim.publish.osc import ntp_timetag

__all__ = ["Datagram", "OscTap", "bench_library", "busy_core", "cpu_seconds"]

NTP_EPOCH = ntp_timetag(0.0) >> 32


@dataclass(frozen=True)
class Datagram:
    """One received bundle: arrival (wall clock), capture time from its timetag, messages."""

    arrival: float
    capture_time: float
    messages: tuple[tuple[str, tuple], ...]

    def get(self, address: str):
        """Arguments of the first message at ``address`` (None if absent)."""
        for addr, args in self.messages:
            if addr == address:
                return args
        return None


class OscTap:
    """Receive OSC on 127.0.0.1 in a thread; keep every bundle with its arrival time.

    With ``keep=False`` it only counts datagrams and bytes (a soak must not measure the
    growth of its own receiver: kept bundles cost ~0.8 MiB a minute at 20 hops/s).
    """

    def __init__(self, *, keep: bool = True) -> None:
        self.keep = keep
        self.received = self.bytes = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.raw: list[tuple[float, bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="osc-tap", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            self.received += 1
            self.bytes += len(data)
            if self.keep:
                self.raw.append((time.time(), data))

    def close(self) -> list[Datagram]:
        """Stop receiving; decode and return everything received."""
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        return [_decode(t, d) for t, d in self.raw]


def _decode(arrival: float, data: bytes) -> Datagram:
    from pythonosc.osc_bundle import OscBundle

    bundle = OscBundle(data)
    tt = int.from_bytes(data[8:16], "big")
    capture = ((tt >> 32) - NTP_EPOCH) + (tt & 0xFFFFFFFF) / 2**32 if tt != 1 else float("nan")
    msgs = tuple((m.address, tuple(m.params)) for m in bundle if hasattr(m, "address"))
    return Datagram(arrival, capture, msgs)


def bench_library(embedder: str, rows: int, *, device: str = "cpu", index: str = "auto") -> Path:
    """The demo library for ``embedder`` grown to ``rows`` vectors (built once, cached).

    ``index``: the library's index kind (``flat`` builds fastest; GPU searches are exact
    whatever it is).
    """
    from rtsim.demo.data import cache_dir, ensure_demo
    from rtsim.embed import get
    from rtsim.index import IndexSpec, Item, Library, write_library
    from rtsim.index.metadata import read_items

    assets = ensure_demo(embedder=embedder, device=device, progress=False)
    suffix = "" if index == "auto" else f"-{index}"
    out = cache_dir() / "bench" / f"{embedder.replace('/', '_')}-{rows}{suffix}"
    base = Library.open(assets.library)
    emb = base.load_embedder(get(embedder), device=device)
    try:
        Library.open(out).check(emb)
        return out
    except Exception:
        pass
    real = base.vectors()
    items = read_items(base.path / "items.sqlite")
    extra = max(0, rows - len(real))
    rng = np.random.default_rng(0)
    spread = 0.25 * real.std(axis=0, keepdims=True)
    filler = real[rng.integers(len(real), size=extra)] + spread * rng.standard_normal(
        (extra, real.shape[1]))
    vectors = np.concatenate([real, filler]).astype(np.float32)
    row_item = np.concatenate([base.row_item, len(items) + np.arange(extra)])
    items += [Item(f"synthetic/{i}", "", 0.0, 0.0, {}) for i in range(extra)]
    write_library(out, embedder=emb, vectors=vectors, items=items, row_item=row_item,
                  fitted_state=base.embedder_state, index_spec=IndexSpec(kind=index),
                  source={"folder": str(assets.samples), "synthetic_rows": extra})
    return out


@contextlib.contextmanager
def busy_core(enabled: bool):
    """Keep one other core busy (a spinning process) for the duration."""
    if not enabled:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
