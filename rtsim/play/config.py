"""The ``[play]`` config section (kept free of heavy imports: the config loads it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rtsim.errors import ConfigError

__all__ = ["PlayConfig", "MODES"]

#: trigger: each onset plays its best match; follow: every hop cross-fades to the current
#: best match (mosaicing); off: silent.
MODES = ("trigger", "follow", "off")


@dataclass(frozen=True)
class PlayConfig:
    """The built-in sampler.

    Parameters
    ----------
    enabled : bool
    mode : {"trigger", "follow", "off"}
        For every embedder without an entry in ``modes``.
    modes : dict
        Per embedder, e.g. ``{"stem/drums" = "trigger", "timbre" = "follow"}``.
    device : int, str or None
        Output device (index or name substring; None: the default output). ``"clock"``:
        no sound card, a software clock paces the mixer (benches, headless machines).
    to_file : str or None
        Render to this WAV file instead of a device (offline, exactly timed).
    input_path : str or None
        With ``to_file``: the input clip, written to the first channel beside the matches.
    rate : int
        Output rate (Hz); samples are decoded at it.
    channels : int
        Output channels (1: mono; 2 or more: matches panned on the first two).
    block : int
        Frames per output callback.
    voices : int
        Polyphony; a new voice over it steals the oldest (with a fade).
    gain : float
        Output gain (linear).
    fade_ms : float
        Fade in, out and when stolen (no clicks).
    velocity_db : float
        Input peak (dBFS) that plays at full gain; quieter onsets play softer, 1:1 in dB.
    """

    enabled: bool = False
    mode: str = "trigger"
    modes: dict[str, str] = field(default_factory=dict)
    device: int | str | None = None
    to_file: str | None = None
    input_path: str | None = None
    rate: int = 44100
    channels: int = 2
    block: int = 128
    voices: int = 32
    gain: float = 0.5
    fade_ms: float = 3.0
    velocity_db: float = -6.0

    def __post_init__(self) -> None:
        for name, mode in [("mode", self.mode), *self.modes.items()]:
            if mode not in MODES:
                raise ConfigError(f"play {name}={mode!r} must be one of {', '.join(MODES)}")
        if not 8000 <= self.rate <= 192000:
            raise ConfigError(f"play rate={self.rate} must be in [8000, 192000]")
        if not 1 <= self.channels <= 64 or not 16 <= self.block <= 8192:
            raise ConfigError(f"play channels={self.channels} must be in [1, 64] and "
                              f"block={self.block} in [16, 8192]")
        if not 1 <= self.voices <= 256:
            raise ConfigError(f"play voices={self.voices} must be in [1, 256]")
        if not (0 <= self.gain <= 4 and 0 < self.fade_ms <= 100):
            raise ConfigError(f"play gain={self.gain} must be in [0, 4] and fade_ms="
                              f"{self.fade_ms} in (0, 100]")

    def mode_of(self, embedder: str) -> str:
        """The play mode of ``embedder``."""
        return self.modes.get(embedder, self.mode)
