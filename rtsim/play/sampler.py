"""The sampler: a publisher that plays what rtsim matched.

Modes, per embedder (``[play] mode`` / ``modes``, or :meth:`Sampler.set_mode`):

- ``trigger``: each onset's trigger plays its best match from the item's start, its
  gain following the onset's peak (``velocity_db`` plays at full ``gain``, 1:1 in dB);
- ``follow`` (mosaicing): whenever the best match of a hop changes, cross-fade to it
  (one voice per embedder, faded over ``fade_ms``); a silent hop fades it out;
- ``off``.

Runs on the engine thread like the other publishers: it only asks the output for voices
(after touching their pages, :meth:`SampleBank.prefetch`); mixing happens in the
output's own thread (or when a file is rendered). A library switched under a pipeline
is picked up by its next event: the new bank is loaded then (decoded once, cached), and
the old library's voices stop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from rtsim.errors import ConfigError
from rtsim.play.bank import SampleBank, load_bank
from rtsim.play.config import MODES, PlayConfig
from rtsim.play.output import CLOCK, ClockedOutput, DeviceOutput, FileOutput, Mixer
from rtsim.play.voices import VoicePool, pan_gains

__all__ = ["Sampler"]

log = logging.getLogger(__name__)


class Sampler:
    """Plays matched items (a :class:`~rtsim.engine.engine.Publisher`).

    Parameters
    ----------
    cfg : PlayConfig
    pipelines : sequence
        Objects with ``name`` and ``library`` (the engine's pipelines): whose matches to
        play, and from which library.
    origin : callable, optional
        Capture time of the input's first sample (file output only).
    """

    def __init__(self, cfg: PlayConfig, pipelines: Sequence, *,
                 origin: Callable[[], float | None] = lambda: None) -> None:
        self.cfg = cfg
        self.pipelines = {p.name: p for p in pipelines}
        unknown = sorted(set(cfg.modes) - set(self.pipelines))
        if unknown:
            raise ConfigError(f"[play] modes names {unknown}, not a running embedder "
                              f"({sorted(self.pipelines)})")
        self.modes = {name: cfg.mode_of(name) for name in self.pipelines}
        self.fade = fade = max(1, int(cfg.fade_ms * cfg.rate / 1000))
        self.banks: dict[str, tuple[object, SampleBank]] = {}
        self.pools: dict[str, VoicePool] = {}
        for name, p in self.pipelines.items():
            bank = load_bank(p.library, sr=cfg.rate)
            self.banks[name] = (p.library, bank)
            self.pools[name] = VoicePool(bank.audio, channels=cfg.channels,
                                         polyphony=cfg.voices, fade=fade)
        self.groups = {name: i + 1 for i, name in enumerate(self.pipelines)}
        self.following: dict[str, int] = dict.fromkeys(self.pipelines, -1)
        self.counters = {"played": 0, "followed": 0, "empty_items": 0}
        self._latest = 0.0  # capture time of the newest event (a mode change happens then)
        self.mixer = mixer = Mixer(list(self.pools.values()), channels=cfg.channels,
                                   block=cfg.block)
        # with the input on channel 0 of a file, the matches go to channel 1
        self.pan = 1.0 if cfg.to_file and cfg.input_path else 0.0
        if cfg.to_file:
            self.output = FileOutput(mixer, cfg.to_file, rate=cfg.rate, channels=cfg.channels,
                                     origin=origin, input_path=cfg.input_path)
        elif cfg.device == CLOCK:
            self.output = ClockedOutput(mixer, rate=cfg.rate, channels=cfg.channels,
                                        block=cfg.block)
        else:
            self.output = DeviceOutput(mixer, device=cfg.device, rate=cfg.rate,
                                       channels=cfg.channels, block=cfg.block)

    def set_mode(self, embedder: str, mode: str) -> None:
        """Change ``embedder``'s mode (``off`` and ``trigger`` fade a ``follow`` voice out)."""
        if mode not in MODES or embedder not in self.modes:
            raise ConfigError(f"play mode {mode!r} for {embedder!r}: modes are {MODES}, "
                              f"embedders {sorted(self.modes)}")
        if self.modes[embedder] == "follow" and mode != "follow":
            self._stop_following(embedder, self._latest)
        self.modes[embedder] = mode

    # -- the publisher interface ---------------------------------------------------------
    def publish_trigger(self, ev) -> None:
        """Play the trigger's match (``trigger`` mode)."""
        self._latest = max(self._latest, ev.capture_time)
        if self.modes.get(ev.embedder) != "trigger":
            return
        gain = self.cfg.gain * 10 ** ((min(ev.level_db, self.cfg.velocity_db)
                                      - self.cfg.velocity_db) / 20)
        if self._play(ev.embedder, ev.id, ev.capture_time, gain, group=0):
            self.counters["played"] += 1

    def publish_hop(self, ev) -> None:
        """Cross-fade to a new best match (``follow`` mode)."""
        name = ev.embedder
        self._latest = max(self._latest, ev.capture_time)
        if self.modes.get(name) != "follow":
            return
        if ev.silent or len(ev.ids) == 0:
            self._stop_following(name, ev.capture_time)
            return
        best = int(ev.ids[0])
        if best != self.following[name] and \
                self._play(name, best, ev.capture_time, self.cfg.gain, group=self.groups[name]):
            self.following[name] = best
            self.counters["followed"] += 1

    def publish_status(self, ev) -> None:
        """Nothing to do."""

    def close(self) -> None:
        """Stop the device, or render the file."""
        self.output.close()

    def stats(self) -> dict[str, int]:
        """Voice counts of every embedder together, played/followed, output xruns."""
        out = dict(self.counters, xruns=self.output.xruns)
        for pool in self.pools.values():
            for k, v in pool.stats().items():
                out[k] = out.get(k, 0) + v
        return out

    # -- internals -----------------------------------------------------------------------
    def _play(self, name: str, item: int, when: float, gain: float, *, group: int) -> bool:
        bank = self._bank(name)
        start, length = bank.span(item)
        if length == 0:
            self.counters["empty_items"] += 1
            return False
        bank.prefetch(item)
        pool, gains = self.pools[name], pan_gains(self.cfg.channels, gain, self.pan)
        self.output.at(when, lambda: pool.play(start, length, gains=gains, group=group))
        return True

    def _stop_following(self, name: str, when: float) -> None:
        if self.following[name] < 0:
            return
        self.following[name] = -1
        pool, group = self.pools[name], self.groups[name]
        self.output.at(when, lambda: pool.stop(group))

    def _bank(self, name: str) -> SampleBank:
        """The bank of the pipeline's current library (reloaded after a switch)."""
        library = self.pipelines[name].library
        held, bank = self.banks[name]
        if held is not library:  # a fresh pool: the old library's voices stop here
            bank = load_bank(library, sr=self.cfg.rate)
            self.banks[name] = (library, bank)
            old = self.pools[name]
            self.pools[name] = VoicePool(bank.audio, channels=self.cfg.channels,
                                         polyphony=self.cfg.voices, fade=self.fade)
            self.mixer.pools[self.mixer.pools.index(old)] = self.pools[name]
            log.info("play: %s now plays from %s", name, library.path)
        return bank
