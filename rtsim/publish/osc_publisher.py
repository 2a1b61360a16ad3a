"""The OSC publisher: precompiled bundles sent over one non-blocking UDP socket.

Everything that can be wrong with the configuration (an embedder name, a packet that
could outgrow a datagram, an unresolvable host) is checked when the publisher opens.
After that, ``publish_*`` never raise for network conditions: a full socket buffer or an
unreachable port is counted in :attr:`OscPublisher.counters` and logged once per cause.
"""

from __future__ import annotations

import logging
import math
import socket
from dataclasses import dataclass

from rtsim.errors import ConfigError, WireError
from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent
from rtsim.publish.osc import IMMEDIATELY, ntp_timetag, udp_destination
from rtsim.publish.osc_bundles import HopLayout, TriggerLayout, encode_status
from rtsim.publish.osc_layout import OscCounters
from rtsim.publish.schema import load_schema
from rtsim.publish.spec import Schema

__all__ = ["OscConfig", "OscPublisher"]

log = logging.getLogger(__name__)
_TIMETAGS = ("capture", "immediate")


@dataclass(frozen=True, slots=True)
class OscConfig:
    """Where and how OSC is sent.

    Attributes
    ----------
    host, port : str, int
        Destination (a name is resolved once, when the publisher opens).
    enabled : bool
        False makes the publisher a no-op without a socket.
    timetag : {"capture", "immediate"}
        Bundle timetag: the event's capture time, or 1 ("dispatch immediately").
    name_bytes : int
        UTF-8 byte limit of a match name; longer names are cut at a character boundary.
    vector : bool
        Also send ``/{embedder}/vector`` (the whole embedding) in each hop bundle.
    paths : bool
        Also send ``/{embedder}/path/{rank}`` (and ``/{embedder}/trigger/path``): each
        match's sound file, offset and length, for receivers that play the match.
    path_bytes : int
        UTF-8 byte limit of a path; a longer one is sent empty (and counted).
    broadcast : bool
        Allow a broadcast destination address (``SO_BROADCAST``).
    """

    host: str = "127.0.0.1"
    port: int = 9000
    enabled: bool = True
    timetag: str = "capture"
    name_bytes: int = 48
    vector: bool = False
    paths: bool = False
    path_bytes: int = 160
    broadcast: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ConfigError(f"osc port={self.port!r} must be in [1, 65535]")
        if self.timetag not in _TIMETAGS:
            raise ConfigError(f"osc timetag={self.timetag!r} must be one of {_TIMETAGS}")
        if not isinstance(self.name_bytes, int) or not 0 <= self.name_bytes <= 1024:
            raise ConfigError(f"osc name_bytes={self.name_bytes!r} must be in [0, 1024]")
        if not isinstance(self.path_bytes, int) or not 16 <= self.path_bytes <= 1024:
            raise ConfigError(f"osc path_bytes={self.path_bytes!r} must be in [16, 1024]")
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError(f"osc host={self.host!r} must be a host name or address")


class OscPublisher:
    """Send hop, trigger and status bundles to one OSC destination.

    Parameters
    ----------
    config : OscConfig
        Destination and options.
    embedders : dict[str, tuple[int, int]]
        Embedder name -> (dimension, k), k being the most matches a hop may carry.
    schema : Schema, optional
        Defaults to the shipped schema.

    Raises
    ------
    ConfigError
        If a name is invalid, two embedders' addresses collide, the host does not
        resolve, or a worst-case bundle exceeds the datagram limit (naming k, the
        dimension and the size).
    """

    def __init__(self, config: OscConfig, *, embedders: dict[str, tuple[int, int]],
                 schema: Schema | None = None):
        self.config = config
        self.schema = schema or load_schema()
        self.counters = OscCounters()
        self._hop: dict[str, HopLayout] = {}
        self._trigger: dict[str, TriggerLayout] = {}
        for name, (dim, k) in embedders.items():
            self._compile(name, dim=dim, k=k)
        self._check_collisions()
        self._sock: socket.socket | None = None
        self._addr = None
        self._logged: set[str] = set()
        if config.enabled:
            self._open_socket()

    @property
    def worst_case_bytes(self) -> dict[str, int]:
        """Largest hop or trigger datagram of each embedder."""
        return {name: max(layout.worst_case, self._trigger[name].worst_case)
                for name, layout in self._hop.items()}

    def publish_hop(self, ev: HopEvent) -> None:
        """Send one embedder's hop bundle.

        Raises
        ------
        WireError
            If ``ev`` breaks what was declared at open (unknown embedder, more than k
            matches, a vector that is not ``(dim,)``); never for network conditions.
        """
        if self._sock is None:
            return
        layout = self._layout(self._hop, ev)
        self._send(layout.encode(ev, self._timetag(ev.capture_time), self.counters))

    def publish_trigger(self, ev: TriggerEvent) -> None:
        """Send one onset's trigger bundle (:class:`WireError` for an unknown embedder)."""
        if self._sock is None:
            return
        layout = self._layout(self._trigger, ev)
        self._send(layout.encode(ev, self._timetag(ev.capture_time), self.counters))

    def publish_status(self, ev: StatusEvent) -> None:
        """Send the heartbeat (one bundle, or several if the counters need them)."""
        if self._sock is None:
            return
        for packet in encode_status(self.schema, ev, timetag=self._timetag(ev.time),
                                    counters=self.counters, limit=self.schema.max_packet_bytes):
            self._send(packet)

    def close(self) -> None:
        """Close the socket (idempotent); later publishes do nothing."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> OscPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def layouts_for(self, name: str, k: int) -> tuple[HopLayout, TriggerLayout]:
        """``name``'s bundle layouts for ``k`` matches, checked; nothing changes yet.

        Raises
        ------
        ConfigError
            Unknown embedder, or a worst-case bundle over the datagram limit (naming the
            largest k that fits).
        """
        if name not in self._hop:
            raise ConfigError(f"embedder {name!r} is not published over OSC")
        return self._layouts(name, dim=self._hop[name].dim, k=k)

    def install(self, name: str, layouts: tuple[HopLayout, TriggerLayout]) -> None:
        """Use ``layouts`` (from :meth:`layouts_for`) from the next bundle of ``name`` on.

        Called on the engine thread between hops, so no bundle is encoded meanwhile.
        """
        self._hop[name], self._trigger[name] = layouts

    def _compile(self, name: str, *, dim: int, k: int) -> None:
        self._hop[name], self._trigger[name] = self._layouts(name, dim=dim, k=k)

    def _layouts(self, name: str, *, dim: int, k: int) -> tuple[HopLayout, TriggerLayout]:
        cfg, limit = self.config, self.schema.max_packet_bytes
        self.schema.check_embedder(name)
        if not (isinstance(dim, int) and dim >= 1 and isinstance(k, int) and k >= 0):
            raise ConfigError(f"embedder {name!r}: dim={dim!r} must be >= 1 and k={k!r} >= 0")
        path_bytes = cfg.path_bytes if cfg.paths else None
        hop = HopLayout(self.schema, embedder=name, dim=dim, k=k, name_bytes=cfg.name_bytes,
                        vector=cfg.vector, path_bytes=path_bytes)
        trigger = TriggerLayout(self.schema, embedder=name, name_bytes=cfg.name_bytes,
                                path_bytes=path_bytes)
        worst = max(hop.worst_case, trigger.worst_case)
        if worst > limit:
            vec = f", dim={dim} with vector=True" if cfg.vector else ""
            vec += f", paths=True with path_bytes={cfg.path_bytes}" if cfg.paths else ""
            fits = next((j for j in range(k - 1, -1, -1) if hop.worst_case_for(j) <= limit), None)
            hint = "no k fits" if fits is None else f"k <= {fits} fits"
            raise ConfigError(
                f"embedder {name!r}: k={k}{vec} and name_bytes={cfg.name_bytes} give a "
                f"worst-case OSC bundle of {worst} bytes, over the {limit}-byte datagram "
                f"limit ({hint}); lower k, name_bytes or path_bytes, or set vector=False "
                "(ZeroMQ carries vectors and paths)"
            )
        return hop, trigger

    def _check_collisions(self) -> None:
        for name, k in ((n, h.k) for n, h in self._hop.items()):
            for spec in self.schema.messages:
                if spec.group in ("hop", "trigger") and spec.placeholders:
                    address = spec.expand(embedder=name, rank=max(k - 1, 0))
                    found = self.schema.resolve(address)
                    if [(s, p["embedder"]) for s, p in found] != [(spec, name)]:
                        raise ConfigError(f"embedder {name!r}: address {address} is ambiguous")

    def _open_socket(self) -> None:
        cfg = self.config
        self._sock, self._addr = udp_destination(cfg.host, cfg.port, section="osc",
                                                 broadcast=cfg.broadcast)
        log.info("OSC to %s:%d (%d embedders)", cfg.host, cfg.port, len(self._hop))

    def _layout(self, table: dict, ev: HopEvent | TriggerEvent) -> HopLayout | TriggerLayout:
        try:
            return table[ev.embedder]
        except KeyError:
            raise WireError(f"embedder {ev.embedder!r} was not declared to the OSC "
                              f"publisher (declared: {sorted(table)})") from None

    def _timetag(self, unix_time: float) -> int:
        if self.config.timetag == "immediate":
            return IMMEDIATELY
        if not math.isfinite(unix_time):
            self.counters.nonfinite += 1
            return IMMEDIATELY
        return ntp_timetag(unix_time)

    def _send(self, packet: bytes | memoryview) -> None:
        try:
            self._sock.sendto(packet, self._addr)
        except OSError as exc:  # full buffer, unreachable port, no route, ...
            self.counters.send_errors += 1
            cause = type(exc).__name__ + str(exc.errno)
            if cause not in self._logged:
                self._logged.add(cause)
                log.warning("OSC send to %s failed (%s); counting further ones", self._addr, exc)
            return
        self.counters.sent += 1
        self.counters.bytes += len(packet)
