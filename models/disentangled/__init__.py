"""``disentangled``: Lee et al.'s disentangled multidimensional music similarity.

Input: 129 frames (3 s) of the mel front end (22.05 kHz, 1024/512, 128 bands,
``log10(1 + 10·S)``, z-scored inside the model with mean 0.2 and std 0.25); output: 256
dimensions in four 64-d subspaces, each L2-normalised: genre, mood, instrument, tempo.
Stored vectors are searched by inner product with the query's subspaces scaled by the
performer's weights, which ranks exactly by ``Σ w_s ‖q_s − x_s‖²``. Trained by
``rtsim train models/disentangled/train.toml`` (see ``MODEL_CARD.md``).
"""

from __future__ import annotations

from pathlib import Path

from rtsim.embed import EmbedderPlugin, EmbedderSpec, Subspace
from rtsim.features import MelSpec
from rtsim.models.blocks import make_net
from rtsim.models.disentangled.net import DisentangledNet

__all__ = ["SPEC", "ARCH_KWARGS", "DIMENSIONS", "plugin"]

HERE = Path(__file__).parent
DIMENSIONS = ("genre", "mood", "instrument", "tempo")
SPEC = EmbedderSpec(
    name="disentangled",
    frontend=MelSpec(),
    window=129,
    hop=16,
    dim=256,
    metric="ip",
    subspaces=tuple(Subspace(d, 64 * i, 64 * (i + 1)) for i, d in enumerate(DIMENSIONS)),
    description="Lee et al.: 3-s mel -> Inception CNN -> 4 x 64-d unit subspaces (genre, "
    "mood, instrument, tempo); masked triplets + track triplets.",
)
ARCH_KWARGS = {"stem": 32, "channels": [32, 48, 48, 64, 64, 96], "n_subspaces": 4,
               "subspace_dim": 64, "mean": 0.2, "std": 0.25}


def _build(state) -> DisentangledNet:
    return make_net(DisentangledNet, ARCH_KWARGS, state)


plugin = EmbedderPlugin(spec=SPEC, build=_build, weights=HERE / "disentangled.safetensors",
                        card=HERE / "MODEL_CARD.md")
