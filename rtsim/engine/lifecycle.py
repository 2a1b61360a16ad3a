"""Run an engine until it ends or a signal stops it; reload on SIGHUP.

Shared by ``rtsim run``/``rtsim demo`` and the ``rtsimd`` daemon. SIGINT and SIGTERM
stop the engine (it finishes its hop, publishes a last heartbeat and the publishers
close with ZeroMQ ``LINGER 0``), well within two seconds; SIGHUP calls ``on_reload``.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from rtsim.engine.engine import Engine

__all__ = ["Lifecycle"]

log = logging.getLogger(__name__)


class Lifecycle:
    """Own one engine at a time, its signals, and the closing of its publishers.

    Parameters
    ----------
    factory : callable
        ``factory() -> Engine``: builds the engine (opens the source and publishers).
    on_reload : callable or None
        ``on_reload() -> factory``: called on SIGHUP; it reads and validates the new
        configuration and returns a factory for it, or raises to keep the running engine.
        The old engine is then shut down (freeing its ports) and the new one built; if
        that fails, the previous configuration is built again.
    """

    def __init__(self, factory: Callable[[], Engine], *,
                 on_reload: Callable[[], Callable[[], Engine]] | None = None):
        self.factory = factory
        self.on_reload = on_reload
        self.engine = factory()
        self.stopping = threading.Event()
        self._reload = threading.Event()
        self._previous: dict[int, object] = {}

    def install_signals(self) -> None:
        """Route SIGINT/SIGTERM to :meth:`stop` and SIGHUP to a reload (main thread only)."""
        for sig, handler in ((signal.SIGINT, self._on_stop), (signal.SIGTERM, self._on_stop),
                             (signal.SIGHUP, self._on_hup)):
            self._previous[sig] = signal.signal(sig, handler)

    def restore_signals(self) -> None:
        """Put back the handlers that were there before."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _on_stop(self, signum, frame) -> None:
        log.info("signal %s: stopping", signal.Signals(signum).name)
        self.stop()

    def _on_hup(self, signum, frame) -> None:
        log.info("SIGHUP: reloading the configuration")
        self._reload.set()

    def stop(self) -> None:
        """Stop the engine and end :meth:`wait`."""
        self.stopping.set()
        self.engine.stop()

    @property
    def done(self) -> bool:
        """True once stopped, or once the engine ended by itself (end of a file)."""
        return self.stopping.is_set() or not self.engine.running

    def start(self) -> None:
        """Start the engine thread."""
        self.engine.start()

    def wait(self, *, poll: float = 0.05) -> None:
        """Block until done, handling reloads; then close everything."""
        try:
            while not self.done:
                self.stopping.wait(poll)
                if self._reload.is_set():
                    self._reload.clear()
                    self._do_reload()
        finally:
            self.close()

    def _do_reload(self) -> None:
        if self.on_reload is None:
            return
        try:
            factory = self.on_reload()
        except Exception as exc:  # keep serving with the old configuration
            log.error("reload refused, keeping the running configuration: %s", exc)
            return
        self._shutdown(self.engine)
        try:
            self.engine = factory()
            self.factory = factory
            log.info("reloaded")
        except Exception as exc:
            log.error("reload failed (%s); restarting the previous configuration", exc)
            try:
                self.engine = self.factory()
            except Exception as again:  # the old engine stays stopped: wait() returns
                log.error("the previous configuration failed to restart too: %s", again)
                return
        self.engine.start()

    def restart(self) -> None:
        """Build a fresh engine from the current factory and start it (after a crash).

        Raises whatever the factory raises; the stopped engine then stays in place.
        """
        engine = self.factory()
        self.engine = engine
        engine.start()

    def close(self) -> None:
        """Stop the engine, wait for its thread (at most 1.5 s), close its publishers."""
        self._shutdown(self.engine)

    @staticmethod
    def _shutdown(engine: Engine) -> None:
        engine.stop()
        if not engine.join(timeout=1.5):
            log.warning("engine thread did not stop within 1.5 s")
        if engine.control is not None:
            engine.control.stop()
        for pub in engine.publishers:
            try:
                pub.close()
            except Exception as exc:
                log.warning("closing %s: %s", type(pub).__name__, exc)
