"""``rtsimd``: rtsim as a long-running service.

::

    rtsimd /etc/rtsim/show.toml [--set osc.port=9001] [--log-file rtsim.log]

Reads the TOML config, runs the engine, and:

- stops cleanly on SIGINT/SIGTERM (last heartbeat sent, sockets closed with ZeroMQ
  ``LINGER 0``), within two seconds;
- re-reads the config on SIGHUP; an invalid new config is logged and the running one
  kept, a config that fails to start falls back to the previous one;
- restarts the engine (with backoff) if its thread dies, so a fault in a show does not
  end the service.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from rtsim.engine.config import load_config
from rtsim.engine.lifecycle import Lifecycle
from rtsim.engine.wiring import build_engine
from rtsim.errors import RtsimError

__all__ = ["main"]

log = logging.getLogger("rtsimd")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rtsimd", description="rtsim engine as a service")
    p.add_argument("config", help="TOML config file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--log-file", help="log here instead of stderr")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--max-restarts", type=int, default=10,
                   help="engine restarts after a crash before giving up (default 10)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rtsimd``."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, filename=args.log_file,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)

    def factory_for_current_file():
        cfg = load_config(args.config, overrides=args.set)  # raises on an invalid file
        return lambda: build_engine(cfg)

    try:
        lc = Lifecycle(factory_for_current_file(), on_reload=factory_for_current_file)
    except RtsimError as exc:
        log.error("cannot start: %s", exc)
        return 2
    lc.install_signals()
    lc.start()
    log.info("running (pid %d); SIGHUP reloads %s", os.getpid(), args.config)
    restarts = 0
    try:
        while True:
            lc.wait()
            if lc.stopping.is_set() or lc.engine.source.finished:
                break
            restarts += 1  # the engine thread died on its own
            if restarts > args.max_restarts:
                log.error("engine stopped %d times; giving up", restarts)
                return 1
            delay = min(30.0, 0.5 * 2 ** (restarts - 1))
            log.error("engine stopped unexpectedly; restart %d in %.1f s", restarts, delay)
            if lc.stopping.wait(delay):
                break
            try:
                lc.restart()
            except Exception as exc:  # keep trying with backoff, up to --max-restarts
                log.error("restart failed: %s", exc)
    finally:
        lc.restore_signals()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
