"""The engine's and the control plane's options: plain checked dataclasses, cheap to import.

They live apart from the engine and the control plane (threads, sockets, models) so that
reading and checking a config costs a fraction of a second: ``rtsim run`` reports a bad
config before it loads torch or FAISS.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

from rtsim.errors import ConfigError

__all__ = ["EngineConfig", "ControlConfig"]


@dataclass(frozen=True)
class EngineConfig:
    """Engine options.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
        Where front ends and models run (``auto``: CUDA when present).
    silence_db : float
        Input level (dBFS) under which searches are skipped.
    heartbeat_s : float
        Status period.
    ring_seconds : float
        Ring buffer length.
    max_backlog : int
        Windows computed per embedder when the engine is behind real time; older due
        windows are counted as missed hops.
    threads : int
        Torch / FAISS / OpenMP threads (1 keeps the other core free for capture).
    read_block : int
        Most frames read from the ring per cycle.
    overflow : {"drop_oldest", "drop_newest"}
        What the ring does when a real-time source outruns the engine: lose the oldest
        audio (lowest latency, the default) or the newest (keeps what is buffered
        contiguous). Sources that are not real time never lose audio.
    switch_interval_ms : float
        Python's thread switch interval while the engine runs. The capture callback, the
        engine and the sockets share one interpreter; at Python's default (5 ms) a thread
        waiting for the GIL can wait that long (measured: end-to-end p99 14 ms at 5 ms,
        8 ms at 0.5 ms, same p50).
    watchdog_s : float
        A real-time source that delivers nothing for this long has stalled (PortAudio
        does not report a lost device): the engine reopens it in the background, with
        backoff, while it keeps serving control.
    gc_interval_s : float
        The garbage collector is kept out of the hop path: disabled while the engine
        runs, and collected between hops, when the engine is idle, at most this often
        (timed into the ``gc`` stage).
    search : {"auto", "faiss", "torch"}
        Who searches the libraries. On the CPU, ``auto`` and ``faiss`` use each library's
        FAISS index. On CUDA the libraries are copied to the GPU and searched exactly:
        ``auto`` by FAISS's GPU index when the installed FAISS has GPU support, else by
        torch; ``torch`` always by torch, with each hop's model and search together on
        the GPU; ``faiss`` needs FAISS's GPU support.
    priority : {"normal", "auto", "realtime"}
        Scheduling of the engine thread when the source is real time (live, or a file
        paced in real time): ``realtime`` asks the kernel for real-time scheduling
        (``SCHED_FIFO``, as JACK and ``pd -rt`` do) and warns when refused; ``auto``
        asks and runs normally when refused; ``normal`` (the default, as ``pd`` without
        ``-rt``) never asks. Under it, other programs on the same cores (a browser drawing
        ``rtsim view``) wait for the hop.
    """

    device: str = "auto"
    silence_db: float = -60.0
    heartbeat_s: float = 1.0
    ring_seconds: float = 4.0
    max_backlog: int = 2
    threads: int = 1
    read_block: int = 8192
    overflow: str = "drop_oldest"
    switch_interval_ms: float = 0.5
    watchdog_s: float = 1.0
    gc_interval_s: float = 1.0
    search: str = "auto"
    priority: str = "normal"

    def __post_init__(self) -> None:
        if self.search not in ("auto", "faiss", "torch"):
            raise ConfigError(f"engine search={self.search!r} must be auto, faiss or torch")
        if self.priority not in ("auto", "realtime", "normal"):
            raise ConfigError(f"engine priority={self.priority!r} must be auto, realtime or "
                              "normal")
        if self.overflow not in ("drop_oldest", "drop_newest"):
            raise ConfigError(
                f"engine overflow={self.overflow!r} must be drop_oldest or drop_newest")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"engine device={self.device!r} must be auto, cpu or cuda")
        if not (self.heartbeat_s > 0 and self.ring_seconds > 0):
            raise ConfigError("engine heartbeat_s and ring_seconds must be > 0")
        if not 0.05 <= self.switch_interval_ms <= 100:
            raise ConfigError(f"engine switch_interval_ms={self.switch_interval_ms} must be "
                              "in [0.05, 100]")
        if self.max_backlog < 1 or self.threads < 1 or self.read_block < 1:
            raise ConfigError("engine max_backlog, threads and read_block must be >= 1")



@dataclass(frozen=True)
class ControlConfig:
    """Where commands are received.

    Parameters
    ----------
    enabled : bool
    host : str
        OSC bind address (loopback by default).
    port : int
        OSC UDP port.
    zmq_endpoint : str or None
        ZeroMQ REP bind endpoint (None: no ZeroMQ control).
    allow : tuple of str
        Source addresses accepted; required (non-empty) when ``host`` is not loopback.
    roots : tuple of str
        Folders that paths in commands (reference clips, libraries) must lie inside;
        empty: the current directory.
    timeout_s : float
        Longest wait for the engine to apply a command before answering an error.
    max_rate : float
        Datagrams (and ZeroMQ requests) accepted per second; beyond it they are dropped
        before decoding and counted (``rate_limited``), so a flood cannot starve the hops.
    curve_secret : str or None
        ZeroMQ CURVE: the server's secret certificate (a ``.key_secret`` file from
        ``rtsim keys``). With it, the REP socket accepts only encrypted connections from
        clients whose public certificate lies in ``curve_clients``; such an endpoint may
        face the network without an ``allow`` list.
    curve_clients : str or None
        Folder of authorised client public certificates (``*.key``); required with
        ``curve_secret``.
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 9001
    zmq_endpoint: str | None = "tcp://127.0.0.1:5557"
    allow: tuple[str, ...] = ()
    roots: tuple[str, ...] = ()
    timeout_s: float = 2.0
    max_rate: float = 2000.0
    curve_secret: str | None = None
    curve_clients: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"control port={self.port} must be in [0, 65535]")
        loopback = self.host in ("localhost",) or ipaddress.ip_address(
            socket.gethostbyname(self.host)).is_loopback
        if not loopback and not self.allow:
            raise ConfigError(f"control host={self.host!r} is not loopback: give allow = "
                              "[source addresses] to accept commands from other machines")
        if self.curve_secret or self.curve_clients:
            _check_curve(self.curve_secret, self.curve_clients)
        elif self.zmq_endpoint and not _loopback_endpoint(self.zmq_endpoint) and not self.allow:
            raise ConfigError(f"control zmq_endpoint={self.zmq_endpoint!r} is not loopback: "
                              "give allow = [...] or CURVE keys (curve_secret, curve_clients)")


def _check_curve(secret: str | None, clients: str | None) -> None:
    import zmq

    if not zmq.has("curve"):
        raise ConfigError("control curve_secret is set, but this libzmq has no CURVE support")
    if not secret or not Path(secret).is_file():
        raise ConfigError(f"control curve_secret={secret!r} must be a secret certificate file "
                          "(made by: rtsim keys DIR)")
    if not clients or not Path(clients).is_dir() or not any(Path(clients).glob("*.key")):
        raise ConfigError(f"control curve_clients={clients!r} must be a folder holding the "
                          "authorised clients' public certificates (*.key)")


def _loopback_endpoint(endpoint: str) -> bool:
    if endpoint.startswith(("inproc://", "ipc://")):
        return True
    host = endpoint.split("://", 1)[-1].rsplit(":", 1)[0]
    return host in ("127.0.0.1", "localhost", "[::1]")
