"""``timbre``: Humphrey's 3-D timbre map (the embedder whose output is the map itself).

Input: 8 frames (400 ms) of the low-latency constant-Q front end with the paper's
parameters (16 kHz, 24 bins/octave, 192 bins from 27.5 Hz, 20 Hz frames,
``log(1 + 50·|X|)``); output: 3-D coordinates, Euclidean metric. Trained by
``rtsim train models/timbre/train.toml`` (see ``MODEL_CARD.md``).
"""

from __future__ import annotations

from pathlib import Path

from rtsim.embed import EmbedderPlugin, EmbedderSpec
from rtsim.features import CQTSpec
from rtsim.models.blocks import make_net
from rtsim.models.timbre.net import TimbreNet

__all__ = ["SPEC", "ARCH_KWARGS", "plugin", "build"]

HERE = Path(__file__).parent
SPEC = EmbedderSpec(
    name="timbre",
    frontend=CQTSpec(mode="low_latency"),
    window=8,
    hop=1,
    dim=3,
    metric="l2",
    native_xyz=True,
    description="Humphrey's deep manifold: 8 CQT frames -> 3-D timbre map (contrastive "
    "neighbourhoods of instrument and pitch).",
)
ARCH_KWARGS = {"window": 8, "n_bins": 192, "channels": [16, 32, 48], "hidden": 128, "dim": 3}


def build(state) -> TimbreNet:
    """The network with ``state`` loaded."""
    return make_net(TimbreNet, ARCH_KWARGS, state)


plugin = EmbedderPlugin(spec=SPEC, build=build, weights=HERE / "timbre.safetensors",
                        card=HERE / "MODEL_CARD.md")
