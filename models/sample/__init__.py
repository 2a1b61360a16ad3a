"""``sample``: a general one-shot embedder (drums, pitched hits, effects, voice).

Input: 64 frames (0.74 s) of a mel front end made for one-shots (22.05 kHz, n_fft 1024,
hop 256 = 11.6 ms frames, 64 bands from 30 Hz, ``log10(1 + 1000·S)``), a new embedding
every 4 frames (46 ms); output: 128-d unit vectors, cosine metric. Neighbours are "the same
kind of sound" (kick with kick, bowed string with bowed string) across libraries: it is
trained with supervised contrastive learning on drum classes and instrument families
from many soundfonts, two packages of recordings and LMMS's DrumSynth presets, through
augmentations that imitate what differs between libraries (``rtsim train
models/sample/train.toml``; see ``MODEL_CARD.md``).
"""

from __future__ import annotations

from pathlib import Path

from rtsim.embed import EmbedderPlugin, EmbedderSpec
from rtsim.features import MelSpec
from rtsim.models.blocks import make_net
from rtsim.models.sample.net import SampleNet

__all__ = ["SPEC", "FRONTEND", "ARCH_KWARGS", "plugin", "build"]

HERE = Path(__file__).parent
FRONTEND = MelSpec(sr=22050, n_fft=1024, hop_length=256, n_mels=64, fmin=30.0,
                   log_gain=1000.0, log_base=10.0)
SPEC = EmbedderSpec(
    name="sample",
    frontend=FRONTEND,
    window=64,
    hop=4,
    dim=128,
    metric="cosine",
    description="General one-shot similarity: 0.74 s of log-mel -> 128-d (supervised "
    "contrastive on drum classes and instrument families across libraries, augmented).",
)
ARCH_KWARGS = {"channels": [24, 48, 96, 128], "hidden": 256, "dim": 128, "floor": 6.0}


def build(state) -> SampleNet:
    """The network with ``state`` loaded."""
    return make_net(SampleNet, ARCH_KWARGS, state)


plugin = EmbedderPlugin(spec=SPEC, build=build, weights=HERE / "sample.safetensors",
                        card=HERE / "MODEL_CARD.md")
