"""Wekinator's inputs: one embedder's map position or vector as ``/wek/inputs`` floats.

Wekinator (Fiebrink's interactive machine-learning tool) learns a mapping from an input
vector to controls. It listens for ``/wek/inputs`` with a fixed number of floats on UDP
6448; this publisher sends one message per searched hop of the chosen embedder: its 3-D
map position (``what = "xyz"``, 3 inputs) or its whole embedding (``"vector"``, dim
inputs). Silent hops send nothing (Wekinator holds the last inputs). NaN and Inf are sent
as 0 and counted. The address belongs to Wekinator, not to rtsim's schema.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

import numpy as np

from rtsim.errors import ConfigError
from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent
from rtsim.publish.osc import encode_message, udp_destination

__all__ = ["WekinatorConfig", "WekinatorPublisher"]

log = logging.getLogger(__name__)
_WHAT = ("xyz", "vector")
_MAX_INPUTS = 360  # 4 bytes each, with the address and type tags, under a 1472-byte datagram


@dataclass(frozen=True, slots=True)
class WekinatorConfig:
    """Where Wekinator listens and what it gets.

    Attributes
    ----------
    enabled : bool
    host, port : str, int
        Wekinator's input port (6448 by default in Wekinator).
    embedder : str or None
        Whose hops (None: the first configured embedder).
    what : {"xyz", "vector"}
        The map position (3 inputs) or the whole embedding (dim inputs).
    address : str
        Wekinator's input address.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 6448
    embedder: str | None = None
    what: str = "xyz"
    address: str = "/wek/inputs"

    def __post_init__(self) -> None:
        if self.what not in _WHAT:
            raise ConfigError(f"wekinator what={self.what!r} must be one of {_WHAT}")
        if not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ConfigError(f"wekinator port={self.port!r} must be in [1, 65535]")
        if not self.address.startswith("/"):
            raise ConfigError(f"wekinator address={self.address!r} must start with '/'")


class WekinatorPublisher:
    """Send ``/wek/inputs`` for one embedder's hops.

    Parameters
    ----------
    config : WekinatorConfig
    embedders : dict
        Name → embedding dimension of every running embedder.
    """

    def __init__(self, config: WekinatorConfig, *, embedders: dict[str, int]) -> None:
        if not embedders:
            raise ConfigError("wekinator: no embedder runs")
        name = config.embedder or next(iter(embedders))
        if name not in embedders:
            raise ConfigError(f"wekinator embedder={name!r} is not running "
                              f"({', '.join(embedders)})")
        self.config, self.embedder = config, name
        self.inputs = 3 if config.what == "xyz" else embedders[name]
        if self.inputs > _MAX_INPUTS:
            raise ConfigError(f"wekinator: {name!r} has {self.inputs} dimensions, more than "
                              f"the {_MAX_INPUTS} floats one datagram carries; use what='xyz'")
        self.sent = self.nonfinite = self.send_errors = 0
        self._sock: socket.socket | None
        self._sock, self._addr = udp_destination(config.host, config.port, section="wekinator")
        self._tags = "f" * self.inputs
        log.info("Wekinator: %s of %s to %s:%d %s (%d inputs)", config.what, name,
                 config.host, config.port, config.address, self.inputs)

    def publish_hop(self, ev: HopEvent) -> None:
        """Send the hop's inputs (searched hops of the chosen embedder only)."""
        if self._sock is None or ev.embedder != self.embedder or ev.silent:
            return
        values = np.asarray(ev.xyz if self.config.what == "xyz" else ev.vector, np.float32)
        bad = ~np.isfinite(values)
        if bad.any():
            self.nonfinite += int(bad.sum())
            values = np.where(bad, 0.0, values)
        try:
            self._sock.sendto(encode_message(self.config.address, self._tags, values.tolist()),
                              self._addr)
            self.sent += 1
        except OSError:
            self.send_errors += 1

    def publish_trigger(self, ev: TriggerEvent) -> None:
        """Nothing: Wekinator takes continuous inputs."""

    def publish_status(self, ev: StatusEvent) -> None:
        """Nothing."""

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
