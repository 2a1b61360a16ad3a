"""The engine's routing: input taps, front-end taps, and the pipelines each one feeds.

A :class:`Router` is built once from the engine's routes. Each step, the engine hands it
the block just read from the ring: :meth:`Router.feed` gives every input tap its mono
view (level, onsets) and passes new onsets to the tap's pipelines;
:meth:`Router.run_frontends` streams each front end and lets its pipelines push the
frames they get, returning their events. Embedders that share a channel and a front end
share one front-end tap. Capture times follow the ring's clock: ``end_time`` is the
capture time of the block's last sample.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rtsim.engine.pipeline import Pipeline
from rtsim.engine.taps import FrontEndTap, InputTap
from rtsim.engine.timing import StageTimer
from rtsim.errors import ConfigError
from rtsim.features import identity, make_frontend
from rtsim.features.onset import OnsetConfig, OnsetDetector

__all__ = ["Route", "Router"]


@dataclass(frozen=True)
class Route:
    """A pipeline and the input channel it listens to (None = mix of all channels)."""

    pipeline: Pipeline
    channel: int | None = None

    @property
    def frontend(self):
        """The front end the pipeline reads: its embedder's, ``stride`` times finer."""
        spec = self.pipeline.embedder.spec.frontend
        return replace(spec, hop_length=spec.hop_length // self.pipeline.stride)


class Router:
    """Taps and pipelines of one engine.

    Parameters
    ----------
    routes : sequence of Route
    sr : int
        Source rate.
    channels : int
        Source channels.
    onset : OnsetConfig
    read_block : int
        The most frames one read brings: each input tap keeps at least twice that of its
        signal, so every window a read completes finds the audio it ends on.
    """

    def __init__(self, routes: Sequence, *, sr: int, channels: int,
                 onset: OnsetConfig, read_block: int) -> None:
        for r in routes:
            if r.channel is not None and not 0 <= r.channel < channels:
                raise ConfigError(
                    f"{r.pipeline.name}: channel={r.channel} but the source has "
                    f"{channels} channel(s) (0..{channels - 1})")
        self.sr = sr
        shortest_hop = min(r.pipeline.embedder.spec.hop * r.frontend.hop_length / r.frontend.sr
                           for r in routes)
        level_window = max(1, int(shortest_hop * sr))
        self.inputs: dict[int | None, InputTap] = {}
        self.frontends: dict[tuple, tuple[FrontEndTap, list[Pipeline]]] = {}
        self.listeners: dict[int | None, list[Pipeline]] = {}
        for r in routes:
            tap = self.inputs.setdefault(r.channel, InputTap(
                channel=r.channel, sr=sr, level_window=level_window, onset=onset,
                history_s=max(1.0, 2 * read_block / sr)))
            self.listeners.setdefault(r.channel, []).append(r.pipeline)
            self._attach(r, tap)

    def _attach(self, route, tap: InputTap) -> None:
        """Give ``route``'s pipeline its front-end tap (shared when identical), primed."""
        emb = route.pipeline.embedder
        key = (route.channel, tuple(sorted(identity(route.frontend).items())))
        if key not in self.frontends:
            fe = make_frontend(route.frontend, device=str(emb.device))
            self.frontends[key] = (FrontEndTap(source=tap, frontend=fe), [])
        fe_tap, members = self.frontends[key]
        if emb.backend == "cudagraph" and not fe_tap.frontend.graphed:
            fe_tap.frontend.use_graphs()
        members.append(route.pipeline)
        route.pipeline.prime(fe_tap.frontend.silence_frame())
        route.pipeline.warm_up()

    def set_onset_thresholds(self, threshold_db: float, rise_db: float) -> None:
        """Change every input's onset thresholds (call between hops); state is kept.

        Raises
        ------
        ConfigError
            If the values are invalid, or onset detection is disabled in the config.
        """
        taps = [t for t in self.inputs.values() if t.detector is not None]
        if not taps:
            raise ConfigError("onset detection is disabled (onset.enabled = false)")
        config = replace(taps[0].detector.config, threshold_db=threshold_db, rise_db=rise_db)
        for tap in taps:
            tap.detector = OnsetDetector(config, sr=tap.sr)

    def feed(self, block: np.ndarray, end_time: float) -> None:
        """Give every input tap the new block (frames, channels); dispatch its onsets."""
        for ch, tap in self.inputs.items():
            tap.push(block)
            self._dispatch_onsets(ch, tap, end_time)

    def run_frontends(self, end_time: float, timer: StageTimer) -> list:
        """Stream every front end; return the events of the windows its frames complete."""
        events: list = []
        for (ch, _), (tap, pipelines) in self.frontends.items():
            t0 = time.perf_counter()
            frames = tap.push(tap.source.mono)
            dt = time.perf_counter() - t0
            timer.record("frontend", dt)
            if len(frames.data) == 0:
                continue
            timer.record("frame", dt)
            times = self.time_of(ch, frames.device_index, end_time)
            levels = tap.source.levels_db(frames.device_index)  # each frame's own audio
            host = frames.data  # numpy from the CPU; a GPU's stay for pipelines there
            for p in pipelines:
                if not (p.frames_on_device or isinstance(host, np.ndarray)):
                    host = host.cpu().numpy()  # once, for the pipelines on the host
                data = frames.data if p.frames_on_device else host
                events += p.push(data, times, levels_db=levels, timer=timer)
        return events

    def time_of(self, ch: int | None, index, end_time: float):
        """Capture time of sample ``index`` of input tap ``ch``'s stream."""
        return end_time - (self.inputs[ch].n_seen - 1 - index) / self.sr

    def idle_seconds(self, available: int) -> float:
        """Sleep until the next frame can complete (at most 5 ms, at least 0.2 ms).

        ``available``: frames already waiting in the ring.
        """
        need = min(
            (tap.frontend.properties.frame_end(tap.fe_state.next_frame) - tap.fe_state.n_seen)
            * self.sr / tap.frontend.properties.sr - available
            for tap, _ in self.frontends.values()
        )
        return min(0.005, max(0.0002, need / self.sr))

    def _dispatch_onsets(self, ch: int | None, tap: InputTap, end_time: float) -> None:
        """Hand new onsets to the tap's pipelines; keep pending ones' peak level current."""
        for onset in tap.onsets:
            when = self.time_of(ch, onset.index - 1, end_time)
            for p in self.listeners[ch]:
                p.note_onset(when, onset.level_db)
        tap.onsets.clear()
        if tap.onset_state is not None:
            for p in self.listeners[ch]:
                p.raise_onset_level(tap.onset_state.peak_db)
