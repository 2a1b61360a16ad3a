"""Typed, frozen configuration: TOML in, command-line overrides, TOML out.

Each layer owns its options (``SourceConfig`` in audio, ``OnsetConfig`` in features,
``OscConfig``/``ZmqConfig`` in publish, ``EngineConfig`` in engine); :class:`RtsimConfig`
gathers them. A TOML file looks like::

    [source]
    kind = "live"
    device = "Scarlett"        # index or name substring
    channels = [0]

    [[embedder]]
    name = "pca"
    library = "~/samples/lib-pca"
    k = 5

    [osc]
    port = 9000

Unknown keys, wrong types and non-finite numbers are errors that name the key; every
error of a config is reported at once (one per line), not only the first.
``--set osc.port=9001`` overrides any field (values are parsed as TOML, bare words as
strings; ``embedder.0.k=8`` names an entry of a list of tables). The machinery (TOML,
typed tables, overrides, saving) is :mod:`rtsim.config`, shared with training configs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rtsim.audio.sources import SourceConfig
from rtsim.config import apply_overrides, build, merge, read_toml, to_toml
from rtsim.engine.settings import ControlConfig, EngineConfig
from rtsim.errors import ConfigError
from rtsim.features.onset import OnsetConfig
from rtsim.play.config import PlayConfig
from rtsim.publish.midi import MidiConfig
from rtsim.publish.osc_publisher import OscConfig
from rtsim.publish.wekinator import WekinatorConfig
from rtsim.publish.zmq import ZmqConfig

#: Inference backends (as :data:`rtsim.embed.backends.BACKENDS`, which imports torch).
BACKENDS = ("eager", "torchscript", "compile", "cudagraph")

__all__ = ["EmbedderConfig", "RtsimConfig", "load_config", "read_toml", "merge", "from_dict",
           "apply_overrides", "to_toml"]


@dataclass(frozen=True)
class EmbedderConfig:
    """One embedder in the live engine.

    Parameters
    ----------
    name : str
        Registry name (``pca``, ``timbre``, ``stem/bass``).
    library : str
        Library folder built for this embedder (``rtsim index build``).
    k : int
        Matches per hop.
    channel : int or None
        Input channel (index among ``source.channels``); None = mix of all.
    enabled : bool
    update_divisor : int
        Embeddings per trained frame: the front end runs this many times faster and the
        model sees its trained frames on interleaved grids (1 = off; must divide the front
        end's hop).
    backend : {"eager", "torchscript", "compile", "cudagraph"}
        How the model runs (``rtsim bench embed`` shows which is fastest here).
        ``cudagraph`` (CUDA only; eager elsewhere, with a warning) replays each hop's
        device work (front-end frame, model, search) from CUDA graphs.
    stability : float
        Hysteresis of the published best match, in [0, 1): a challenger must be this
        fraction closer than the held match to replace it (0: off; 0.1–0.3 keeps a held
        note's match). See :mod:`rtsim.engine.stability`.
    """

    name: str = "pca"
    library: str = ""
    k: int = 5
    channel: int | None = None
    enabled: bool = True
    update_divisor: int = 1
    backend: str = "eager"
    stability: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.stability < 1.0:
            raise ConfigError(f"embedder {self.name!r}: stability={self.stability} must be in "
                              "[0, 1)")
        if self.backend not in BACKENDS:
            raise ConfigError(f"embedder {self.name!r}: backend={self.backend!r} must be "
                              f"one of {', '.join(BACKENDS)}")
        if not 1 <= self.update_divisor <= 16:
            raise ConfigError(f"embedder {self.name!r}: update_divisor={self.update_divisor} "
                              "must be in [1, 16]")
        if not 1 <= self.k <= 64:
            raise ConfigError(f"embedder {self.name!r}: k={self.k} must be in [1, 64]")
        if not self.library:
            raise ConfigError(f"embedder {self.name!r}: library= is required")


@dataclass(frozen=True)
class RtsimConfig:
    """Everything ``rtsim run`` needs."""

    source: SourceConfig = field(default_factory=SourceConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    embedder: tuple[EmbedderConfig, ...] = ()
    onset: OnsetConfig = field(default_factory=OnsetConfig)
    osc: OscConfig = field(default_factory=OscConfig)
    zmq: ZmqConfig = field(default_factory=ZmqConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    play: PlayConfig = field(default_factory=PlayConfig)
    wekinator: WekinatorConfig = field(default_factory=WekinatorConfig)
    midi: MidiConfig = field(default_factory=MidiConfig)


def load_config(path: str | Path | None = None, *, patch: dict[str, Any] | None = None,
                overrides: list[str] = ()) -> RtsimConfig:
    """Read a TOML file (or start from defaults), merge ``patch``, apply overrides.

    Parameters
    ----------
    path : path-like or None
    patch : dict or None
        Nested values merged over the file (what command-line flags set).
    overrides : list of str
        ``section.key=value`` strings applied last (``--set``).
    """
    data = read_toml(path) if path is not None else {}
    if patch:
        data = merge(data, patch)
    return from_dict(apply_overrides(data, overrides))


def from_dict(data: dict[str, Any]) -> RtsimConfig:
    """Build a validated :class:`RtsimConfig` from parsed TOML."""
    return build(RtsimConfig, data, "config")


