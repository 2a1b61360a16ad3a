"""Live terminal view: the top matches, coordinates, triggers and health of every embedder.

:class:`TerminalView` is a publisher like OSC and ZeroMQ: the engine thread hands it
events, and the main thread redraws from the latest ones ten times a second (rich).
Without a terminal it prints one status line per heartbeat instead.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import sys
import time

from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent

__all__ = ["TerminalView"]


class TerminalView:
    """Keeps the latest events; :meth:`live` draws them until ``stop()`` returns True."""

    def __init__(self, *, title: str = "rtsim") -> None:
        self.title = title
        self.hops: dict[str, HopEvent] = {}
        self.triggers: collections.deque[TriggerEvent] = collections.deque(maxlen=8)
        self.status: StatusEvent | None = None

    # -- publisher interface (engine thread) -----------------------------------------
    def publish_hop(self, ev: HopEvent) -> None:
        """Remember the newest hop of its embedder."""
        self.hops[ev.embedder] = ev

    def publish_trigger(self, ev: TriggerEvent) -> None:
        """Add to the trigger log."""
        self.triggers.appendleft(ev)

    def publish_status(self, ev: StatusEvent) -> None:
        """Remember the heartbeat."""
        self.status = ev

    def close(self) -> None:
        """Nothing to release."""

    # -- drawing (main thread) -------------------------------------------------------
    def live(self, stop, *, interactive: bool | None = None) -> None:
        """Redraw until ``stop()`` is true (rich on a terminal, status lines otherwise)."""
        if interactive is None:
            interactive = sys.stdout.isatty()
        if not interactive:
            self._lines(stop)
            return
        from rich.live import Live

        with Live(self.render(), refresh_per_second=10, transient=False) as live, \
                _logs_above_view():
            while not stop():
                time.sleep(0.1)
                live.update(self.render())

    def _lines(self, stop) -> None:
        last = None
        while not stop():
            time.sleep(0.1)
            if self.status is not None and self.status is not last:
                last = self.status
                print(self.status_line(), flush=True)

    def status_line(self) -> str:
        """One line of health figures."""
        s = self.status
        if s is None:
            return "starting..."
        best = "  ".join(f"{name}: {ev.names[0] if ev.names else '(silence)'}"
                         for name, ev in sorted(self.hops.items()))
        lat = s.latency_ms
        timing = (f"hop p50 {lat['p50']:.2f} ms  p99 {lat['p99']:.2f} ms" if lat
                  else "hop time not measured yet")
        return f"hops {s.hops}  missed {s.missed_hops}  xruns {s.xruns}  {timing}  {best}"

    def render(self):
        """The rich renderable of the current state."""
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table

        parts = []
        for name, ev in sorted(self.hops.items()):
            t = Table(title=f"{name}  xyz ({ev.xyz[0]:+.2f}, {ev.xyz[1]:+.2f}, {ev.xyz[2]:+.2f})"
                      f"  level {ev.level_db:6.1f} dBFS", expand=True, title_justify="left")
            t.add_column("#", width=3)
            t.add_column("match")
            t.add_column("id", justify="right")
            t.add_column("distance", justify="right")
            t.add_column("", width=20)
            if ev.silent:
                t.add_row("", "(silence: search skipped)", "", "", "")
            worst = float(ev.distances.max()) if len(ev.distances) else 1.0
            for r, (i, d, n) in enumerate(zip(ev.ids, ev.distances, ev.names, strict=True)):
                bar = "█" * max(1, int(20 * (1 - d / (worst * 1.25 + 1e-9))))
                t.add_row(str(r), n, str(int(i)), f"{d:.3f}", bar)
            parts.append(t)
        trig = Table(title="triggers (newest first)", expand=True, title_justify="left")
        for col in ("embedder", "match", "distance", "level"):
            trig.add_column(col)
        for tr in self.triggers:
            trig.add_row(tr.embedder, tr.name, f"{tr.distance:.3f}", f"{tr.level_db:.1f} dB")
        parts.append(trig)
        return Panel(Group(*parts), title=self.title, subtitle=self.status_line())


@contextlib.contextmanager
def _logs_above_view():
    """Send the root logger's terminal output through rich while the view is live.

    ``rich.live.Live`` swaps ``sys.stderr`` for a proxy that prints above the panel, but
    a logging handler keeps the stream it was made with: its lines moved the cursor under
    rich's feet, the next redraw started below them and the panel's header showed twice.
    Inside this context the handlers write to the proxy.
    """
    handlers = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler
                and getattr(h.stream, "isatty", lambda: False)()]  # those on the terminal
    old = [h.stream for h in handlers]
    for h in handlers:
        h.setStream(sys.stderr)  # rich's proxy while the view is live
    try:
        yield
    finally:
        for h, stream in zip(handlers, old, strict=True):
            h.setStream(stream)
