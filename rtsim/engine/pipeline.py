"""One embedder's path through a hop: windows -> model -> search -> events.

A :class:`Pipeline` receives the frames of its front-end tap, assembles the model's
windows, and for each due window embeds, checks, searches and builds a
:class:`~rtsim.publish.events.HopEvent` (and a :class:`TriggerEvent` when an onset on its
input is waiting for its first match). It never publishes and never sleeps: the engine
calls it between reads and hands its events to the publishers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rtsim.embed import Embedder, WindowStream
from rtsim.engine.device_hop import DeviceHop, device_hop_for
from rtsim.engine.stability import hold_best
from rtsim.engine.timing import StageTimer
from rtsim.errors import WireError
from rtsim.index import Library
from rtsim.index.faiss_index import reported_distances
from rtsim.publish.events import HopEvent, TriggerEvent

__all__ = ["Pipeline", "PipelineCounters", "PendingOnset"]

_EMPTY_I = np.zeros(0, np.int64)
_EMPTY_F = np.zeros(0, np.float32)


@dataclass
class PendingOnset:
    """An onset waiting for its match: capture time and peak level (dBFS) so far."""

    time: float
    level_db: float


@dataclass
class PipelineCounters:
    """Per-embedder counters."""

    hops: int = 0
    missed: int = 0
    silent: int = 0
    bad_vectors: int = 0
    triggers: int = 0


class Pipeline:
    """The live path of one embedder.

    Parameters
    ----------
    embedder : Embedder
    library : Library
        Already checked against ``embedder``.
    k : int
        Matches per hop.
    silence_db : float
        Below this input level the search is skipped and the event says so.
    max_backlog : int or None
        When more windows are due at once (the engine fell behind real time), only the
        newest ``max_backlog`` are computed and the rest are counted as missed. None
        computes all (offline, as-fast-as-possible runs).
    match_delay_s : float
        A trigger reports the match of the first window ending at least this long after
        its onset (lets the attack into the window).
    stride : int
        Update divisor: the front end runs ``stride`` times faster than the model was
        trained at, and each window takes every ``stride``-th frame, so the model still
        sees its trained frame rate on interleaved grids while a new embedding comes
        ``stride`` times as often.
    stability : float
        Hysteresis margin of the published best match (:mod:`rtsim.engine.stability`;
        0: the search's own order).
    search : {"auto", "faiss", "torch"}
        Who searches the library on the embedder's device (:meth:`Library.use_device
        <rtsim.index.Library.use_device>`). When it is a torch search on that device, each
        hop's model and search run there together (:mod:`rtsim.engine.device_hop`), from
        one CUDA graph with backend ``cudagraph``.
    """

    def __init__(self, *, embedder: Embedder, library: Library, k: int, silence_db: float,
                 max_backlog: int | None, match_delay_s: float = 0.02, stride: int = 1,
                 stability: float = 0.0, search: str = "auto") -> None:
        spec = embedder.spec
        self.name = spec.name
        self.embedder = embedder
        self.library = library
        self.k = k
        self.silence_db = silence_db
        self.max_backlog = max_backlog
        self.match_delay_s = match_delay_s
        self.enabled = True
        self.stride = stride
        self.windows = WindowStream(window=(spec.window - 1) * stride + 1, hop=spec.hop,
                                    n_bins=spec.n_bins)
        self.search = search
        self.device_hop = self.prepare_library(library, embedder)
        on_gpu = self.device_hop is not None and embedder.device.type != "cpu"
        self.state = self.windows.init_state(embedder.device if on_gpu else None)
        self.counters = PipelineCounters()
        self.pending_onset: PendingOnset | None = None
        self.weights: np.ndarray | None = None  # subspace weights (set by the control plane)
        self.swaps = 0
        self.pins: dict[int, np.ndarray] = {}    # subspace index -> pinned reference vector
        self.last: HopEvent | None = None
        self.stability = stability
        self._held: int | None = None  # the item published best last hop
        self._trigger_seq = 0

    @property
    def frames_on_device(self) -> bool:
        """True when this pipeline takes its frames as device tensors (its history is one)."""
        return not isinstance(self.state.history, np.ndarray)

    # -- what control may change (each checks its value; applied between hops) ---------
    def check_k(self, k: int) -> int:
        """``k`` if it is a valid number of matches per hop (1..64), else WireError."""
        if not (isinstance(k, int) and 1 <= k <= 64):
            raise WireError(f"{self.name}: k={k!r} must be an integer in [1, 64]")
        return k

    def set_k(self, k: int) -> None:
        """Matches per hop (a publisher's bundle layout must change with it)."""
        self.k = self.check_k(k)
        if self.device_hop is not None:
            self.device_hop.prepare(self._rows_wanted())

    def set_enabled(self, on: bool) -> None:
        """Pause (no windows embedded, no events) or resume."""
        self.enabled = bool(on)

    def check_weights(self, weights) -> np.ndarray:
        """``weights`` as the subspace weights this pipeline's library can use, or WireError."""
        w = np.asarray(weights, np.float32).reshape(-1)
        n = len(self.library.subspaces)
        if n != len(w):
            raise WireError(f"{self.name} has {n} subspaces, got {len(w)} weights")
        if not (np.isfinite(w).all() and (w >= 0).all() and w.any()):
            raise WireError(f"weights {w.tolist()} must be finite, >= 0 and not all zero")
        return w

    def set_weights(self, weights) -> None:
        """Weight the library's subspaces in the search (see :meth:`check_weights`)."""
        self.weights = self.check_weights(weights)
        self._sync_query()

    def subspace_index(self, name: str) -> int:
        """Index of the subspace ``name`` (WireError naming the ones there are)."""
        names = [s["name"] for s in self.library.manifest.embedder_spec["subspaces"]]
        if name not in names:
            raise WireError(f"{self.name} has no subspace {name!r}; it has {names}")
        return names.index(name)

    def pin(self, index: int, reference: np.ndarray) -> None:
        """Take subspace ``index`` of every query from ``reference`` (a whole embedding)."""
        lo, hi = self.library.subspaces[index]
        self.pins[index] = np.asarray(reference, np.float32)[lo:hi].copy()
        self._sync_query()

    def unpin(self, index: int | None = None) -> None:
        """Give subspace ``index`` (every subspace: None) back to the live input."""
        if index is None:
            self.pins.clear()
        else:
            self.pins.pop(index, None)
        self._sync_query()

    def _sync_query(self) -> None:
        """Hand the weights and pins to the device hop, which edits queries on the device."""
        if self.device_hop is None:
            return
        slices = self.library.subspaces
        scale = None if self.weights is None else self.library.query_scale(self.weights)
        self.device_hop.set_query(scale, {slices[i]: ref for i, ref in self.pins.items()})

    def prepare_library(self, library: Library, embedder: Embedder) -> DeviceHop | None:
        """Place ``library``'s search on the embedder's device; its device hop, if any.

        Off the hop path (a library switch calls it from the control thread): on CUDA this
        copies the library to the GPU and captures the hop's graph.
        """
        library.use_device(str(embedder.device), search=self.search)
        library.files  # noqa: B018 -- read the item table now, not in the first hop
        return self.hop_for(library, embedder)

    def hop_for(self, library: Library, embedder: Embedder) -> DeviceHop | None:
        """The device hop of a placed library and an embedder (prepared for ``k``), if any."""
        hop = device_hop_for(embedder, library.searcher, graphs=embedder.backend == "cudagraph")
        if hop is not None:
            hop.prepare(self._rows_wanted(library))
        return hop

    def _rows_wanted(self, library: Library | None = None) -> int:
        """Rows searched per hop: enough for ``k`` distinct items of ``library``.

        ``library`` defaults to the current one.
        """
        library = library or self.library
        return min(self.k * library.rows_per_item, library.searcher.count)

    def note_onset(self, capture_time: float, level_db: float) -> None:
        """An onset on this pipeline's input: its next match after it becomes a trigger."""
        self.pending_onset = PendingOnset(capture_time, level_db)

    def raise_onset_level(self, level_db: float) -> None:
        """The waiting onset's peak so far (its trigger's velocity)."""
        if self.pending_onset is not None:
            self.pending_onset.level_db = max(self.pending_onset.level_db, level_db)

    def swap(self, *, library: Library, embedder: Embedder,
             device_hop: DeviceHop | None = None) -> None:
        """Switch to another library and/or model (between hops, from the engine thread).

        The front end, window history and counters carry on; weights and pins are kept
        when the new library has the same subspaces, dropped otherwise. ``device_hop``:
        what :meth:`prepare_library` returned for the pair (None: searched on the host).
        """
        if library.subspaces != self.library.subspaces:
            self.weights = None
            self.pins.clear()
        self.library, self.embedder, self.device_hop = library, embedder, device_hop
        self._sync_query()
        self.swaps += 1

    def prime(self, silence: np.ndarray) -> None:
        """Fill the window history with ``window - 1`` frames of silence (shape (n_bins,)).

        The first window then completes with the first real frame.
        """
        frames = np.repeat(silence[None].astype(np.float32), self.windows.window - 1, 0)
        self.windows.stream(frames, self.state)

    def warm_up(self) -> None:
        """Run the model and the search once, so the first real hop pays no first-call cost."""
        spec = self.embedder.spec
        zeros = np.zeros((1, spec.window, spec.n_bins), np.float32)
        if self.device_hop is not None:
            self.device_hop(zeros[0], self._rows_wanted())
            return
        vector = self.embedder(zeros)[0]
        if np.isfinite(vector).all():
            self.library.search(vector, self.k)
            self.library.project(vector)

    def push(self, frames: np.ndarray, frame_times: np.ndarray, *, levels_db: np.ndarray,
             timer: StageTimer) -> list[HopEvent | TriggerEvent]:
        """Consume new frames; return the events of the windows they complete.

        Parameters
        ----------
        frames : np.ndarray, shape (n, n_bins)
        frame_times : np.ndarray, shape (n,)
            Capture time of each frame's newest sample (wall clock, s).
        levels_db : np.ndarray, shape (n,)
            Input level over the hop of input that ends at each frame's newest sample
            (a window is gated silent by the level of the audio it ends on).
        timer : StageTimer
        """
        first_window = self.state.next_window
        t0 = time.perf_counter()
        wins, self.state = self.windows.stream(frames, self.state, copy=False)
        timer.record("window", time.perf_counter() - t0)
        if not self.enabled or len(wins) == 0:
            return []
        if self.stride > 1:
            wins = wins[:, :: self.stride]
        ends = self._window_end_frames(first_window, len(wins), len(frames))
        if self.max_backlog is not None and len(wins) > self.max_backlog:
            self.counters.missed += len(wins) - self.max_backlog
            wins, ends = wins[-self.max_backlog :], ends[-self.max_backlog :]
        events: list[HopEvent | TriggerEvent] = []
        for win, end in zip(wins, ends, strict=True):
            events += self._hop(win, float(frame_times[end]), float(levels_db[end]), timer)
        return events

    def _window_end_frames(self, first: int, n: int, n_new: int) -> np.ndarray:
        """Index, among the new frames, of each completed window's newest frame."""
        total_before = self.state.n_frames - n_new
        last_frames = (first + np.arange(n)) * self.windows.hop + self.windows.window - 1
        return last_frames - total_before

    def _hop(self, window: np.ndarray, capture_time: float, level_db: float,
             timer: StageTimer) -> list[HopEvent | TriggerEvent]:
        t0 = time.perf_counter()
        if self.device_hop is not None:  # model and search together, on the device
            vector, rows, raw = self.device_hop(window, self._rows_wanted())
        else:
            vector, rows, raw = self.embedder(window[None])[0], None, None
        t1 = time.perf_counter()
        timer.record("embed", t1 - t0)
        if not np.isfinite(vector).all():
            self.counters.bad_vectors += 1
            return []
        silent = level_db < self.silence_db
        if silent:
            ids, dist, names, files = _EMPTY_I, _EMPTY_F, (), ()
            raw_ids, self._held = None, None
            self.counters.silent += 1
        else:
            raw_ids, raw_dist = self.library.search(
                self._query(vector), self.k, weights=self.weights,
                unit=not self.pins) if rows is None else self._search(rows, raw)
            ids, dist, self._held = hold_best(raw_ids, raw_dist, self._held, self.stability)
            names = tuple(self.library.names[i] for i in ids)
            files = tuple(self.library.files[i] for i in ids)
        xyz = self.library.project(vector)
        timer.record("search", time.perf_counter() - t1)
        ev = HopEvent(embedder=self.name, seq=self.counters.hops, capture_time=capture_time,
                      xyz=xyz, vector=vector, ids=ids, distances=dist, names=names,
                      level_db=level_db, silent=silent,
                      raw_ids=raw_ids if raw_ids is not ids else None, files=files)
        self.counters.hops += 1
        self.last = ev
        return [ev, *self._trigger(ev)]

    def _search(self, rows: np.ndarray, raw: np.ndarray):
        """The device hop's rows and raw scores as items and distances (as Library.search)."""
        dist = reported_distances(raw, self.library.manifest.metric)
        return self.library.best_items(rows, dist, self.k, weights=self.weights)

    def _query(self, vector: np.ndarray) -> np.ndarray:
        """The search query: the live vector with pinned subspaces replaced."""
        if not self.pins:
            return vector
        q = vector.copy()
        for idx, ref in self.pins.items():
            lo, hi = self.library.subspaces[idx]
            q[lo:hi] = ref
        return q

    def _trigger(self, ev: HopEvent) -> list[TriggerEvent]:
        """The trigger of a pending onset, once a window that ends after it has a match."""
        if self.pending_onset is None or ev.silent or len(ev.ids) == 0:
            return []
        onset = self.pending_onset
        if ev.capture_time < onset.time + self.match_delay_s:
            return []
        self.pending_onset = None
        self.counters.triggers += 1
        self._trigger_seq += 1
        file, offset_s, length_s = ev.files[0] if ev.files else ("", 0.0, 0.0)
        return [TriggerEvent(embedder=self.name, seq=self._trigger_seq - 1,
                             capture_time=onset.time, id=int(ev.ids[0]), name=ev.names[0],
                             distance=float(ev.distances[0]), level_db=onset.level_db,
                             file=file, offset_s=offset_s, length_s=length_s)]
