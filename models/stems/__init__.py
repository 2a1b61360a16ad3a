"""``stem/<role>``: Hashizume's per-instrument similarity, one network per stem.

Roles: ``drums``, ``bass``, ``piano``, ``guitar`` and ``mix`` (the whole piece). Input:
129 frames (3 s) of the mel front end shared with the disentangled embedder (22.05 kHz,
1024/512, 128 bands, ``log10(1 + 10·S)``); output: 128-d unit vectors, cosine metric.
Trained by ``rtsim train models/stems/<role>.toml`` (see ``MODEL_CARD.md``). A
multichannel interface can feed each stem embedder its own input channel; a mono input
uses ``stem/mix``.
"""

from __future__ import annotations

from pathlib import Path

from rtsim.embed import EmbedderPlugin, EmbedderSpec
from rtsim.features import MelSpec
from rtsim.models.blocks import make_net
from rtsim.models.stems.net import StemNet

__all__ = ["ROLES", "ARCH_KWARGS", "spec_for", "plugins"]

HERE = Path(__file__).parent
ROLES = ("drums", "bass", "piano", "guitar", "mix")
ARCH_KWARGS = {"channels": [16, 32, 64, 128], "dim": 128}


def spec_for(role: str) -> EmbedderSpec:
    """The spec of ``stem/<role>``."""
    return EmbedderSpec(
        name=f"stem/{role}", frontend=MelSpec(), window=129, hop=8, dim=128, metric="cosine",
        description=f"Hashizume et al.: {role} similarity from 3-s mel segments (track-based "
        "triplets, cosine margin 0.2).",
    )


def _build(state) -> StemNet:
    return make_net(StemNet, ARCH_KWARGS, state)


def plugins() -> list[EmbedderPlugin]:
    """One plugin per role (registered as ``stem/<role>``)."""
    return [EmbedderPlugin(spec=spec_for(r), build=_build, weights=HERE / f"{r}.safetensors",
                           card=HERE / "MODEL_CARD.md") for r in ROLES]
