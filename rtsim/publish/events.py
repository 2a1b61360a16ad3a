"""What the engine hands to the publishers: plain, immutable event records.

The publishers (OSC, ZeroMQ, the terminal view) depend only on these records, never on
the engine, the index or the models, so that data flows one way::

    audio -> features -> embed -> index -> publish

Times are seconds on the wall clock (``time.time()``), so that they convert directly to
OSC/NTP timetags. ``capture_time`` is the time the *last* audio sample that contributed
to the event was captured by the audio interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["HopEvent", "TriggerEvent", "StatusEvent"]


@dataclass(frozen=True, slots=True)
class HopEvent:
    """One embedder's result for one hop.

    Attributes
    ----------
    embedder : str
        Embedder name as published (``"pca"``, ``"timbre"``, ``"stem/bass"``).
    seq : int
        Per-embedder hop counter, starting at 0; gaps reveal dropped hops.
    capture_time : float
        Wall-clock capture time (s) of the newest sample in the model's window.
    xyz : np.ndarray, shape (3,), float32
        Position of the current sound in the embedder's 3-D map.
    vector : np.ndarray, shape (dim,), float32
        The embedding itself.
    ids : np.ndarray, shape (k,), int64
        Library item ids of the nearest matches, best first. Never contains -1.
    distances : np.ndarray, shape (k,), float32
        Distance of each match (smaller is closer; the library's metric).
    names : tuple[str, ...]
        Display name of each match (the file stem, plus the offset for long files).
    level_db : float
        Input level over the hop in dBFS.
    silent : bool
        True when the input was below the silence threshold: no search was run, and
        ``ids``/``distances``/``names`` are empty.
    raw_ids : np.ndarray or None
        The search's own order of ``ids`` when the embedder's ``stability`` held an
        earlier best match at rank 0; None when ``ids`` is the search's order.
    files : tuple of (str, float, float)
        Where each match's sound is: absolute file path, offset and length (s), so a
        receiver can play it.
    """

    embedder: str
    seq: int
    capture_time: float
    xyz: np.ndarray
    vector: np.ndarray
    ids: np.ndarray
    distances: np.ndarray
    names: tuple[str, ...]
    level_db: float
    silent: bool = False
    raw_ids: np.ndarray | None = None
    files: tuple[tuple[str, float, float], ...] = ()

    @property
    def k(self) -> int:
        """Number of matches carried (0 when silent)."""
        return int(self.ids.shape[0])


@dataclass(frozen=True, slots=True)
class TriggerEvent:
    """An onset on the input and the library item that best matches it.

    Attributes
    ----------
    embedder : str
        Embedder whose match is reported.
    seq : int
        Per-embedder trigger counter, starting at 0.
    capture_time : float
        Wall-clock capture time (s) of the onset.
    id : int
        Best-matching library item.
    name : str
        Its display name.
    distance : float
        Its distance to the query.
    level_db : float
        Peak input level (dBFS) from the onset to the trigger (a velocity).
    file : str
        The match's absolute file path ("" when unknown).
    offset_s, length_s : float
        Where in the file the match's sound is.
    """

    embedder: str
    seq: int
    capture_time: float
    id: int
    name: str
    distance: float
    level_db: float
    file: str = ""
    offset_s: float = 0.0
    length_s: float = 0.0


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """Once-a-second heartbeat of the whole engine.

    Attributes
    ----------
    seq : int
        Heartbeat counter.
    time : float
        Wall-clock time the heartbeat was made.
    hops : int
        Hops processed since start, all embedders together.
    missed_hops : int
        Hops skipped because the engine fell behind real time.
    xruns : int
        Input overflows reported by the audio interface.
    dropped_samples : int
        Samples the ring buffer discarded by its overflow policy.
    bad_samples : int
        NaN/Inf input samples replaced by zero.
    latency_ms : dict[str, float]
        Hop compute time percentiles, keys ``"p50"``, ``"p99"``, ``"p999"``.
    counters : dict[str, int]
        Any further named counters (skipped silent hops, malformed packets, ...).
    """

    seq: int
    time: float
    hops: int
    missed_hops: int
    xruns: int
    dropped_samples: int
    bad_samples: int
    latency_ms: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
