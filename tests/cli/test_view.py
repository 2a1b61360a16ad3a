"""The live terminal view: logs print above the panel, not through it."""

import io
import logging
import sys

from rtsim.cli.view import TerminalView


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_log_lines_go_through_rich_while_the_view_is_live(monkeypatch):
    term = _Tty()
    monkeypatch.setattr(sys, "stdout", term)
    monkeypatch.setattr(sys, "stderr", term)
    log_tty = _Tty()
    handler = logging.StreamHandler(log_tty)
    root = logging.getLogger()
    root.addHandler(handler)
    seen = []
    view = TerminalView(title="rtsim-test")

    def stop():
        if not seen:
            seen.append(handler.stream)
            logging.getLogger("rtsim.test").warning("a warning while live")
        return True

    try:
        view.live(stop, interactive=True)
    finally:
        root.removeHandler(handler)
    assert seen[0] is not log_tty            # while live: rich's proxy, not the raw terminal
    assert handler.stream is log_tty          # restored afterwards
    assert log_tty.getvalue() == ""           # nothing bypassed rich
    assert "a warning while live" in term.getvalue()
