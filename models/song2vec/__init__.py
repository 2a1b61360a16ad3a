"""``song2vec``: Ross & Ramakrishnan's unsupervised song embedding (ALI on spectrograms).

Input: 215 frames (5 s) of the shared mel front end (22.05 kHz, 1024/512, 128 bands,
``log10(1 + 10·S)``), z-scored and pooled inside the model to a 64-band × 128-step image;
a new embedding every 22 frames (0.51 s, a tenth of the window). Output: the 64-d code of
an Adversarially Learned Inference encoder, trained without labels (LSGAN losses, four
encoder/decoder steps per discriminator step, one-sided label smoothing, noise on the
discriminator's inputs). Metric: L2. The discriminator matches the codes of real
segments to an isotropic Gaussian prior, so a code's position *and* length carry
information and Euclidean distance is the geometry the codes were trained in (and the one
the paper's k-means and Gaussian-mixture evaluation uses); normalising to cosine would
discard the radius. Trained by ``rtsim train models/song2vec/train.toml``; evaluated by
``rtsim eval song2vec`` (see ``MODEL_CARD.md``).
"""

from __future__ import annotations

from pathlib import Path

from rtsim.embed import EmbedderPlugin, EmbedderSpec
from rtsim.features import MelSpec
from rtsim.models.blocks import make_net
from rtsim.models.song2vec.net import Song2VecALI

__all__ = ["SPEC", "ARCH_KWARGS", "plugin", "build"]

HERE = Path(__file__).parent
SPEC = EmbedderSpec(
    name="song2vec",
    frontend=MelSpec(),
    window=215,
    hop=22,
    dim=64,
    metric="l2",
    description="Ross & Ramakrishnan's song2vec: 5-s mel -> ALI encoder -> 64-d code "
    "(unsupervised: LSGAN, 4:1 generator:discriminator steps, label smoothing, input noise).",
)
ARCH_KWARGS = {"channels": [12, 24, 48, 64], "bands": 64, "steps": 128, "dim": 64,
               "hidden": 256, "dropout": 0.1, "mean": 0.3, "std": 0.5}


def build(state) -> Song2VecALI:
    """The ALI model (encoder, decoder, discriminator) with ``state`` loaded."""
    return make_net(Song2VecALI, ARCH_KWARGS, state)


plugin = EmbedderPlugin(spec=SPEC, build=build, weights=HERE / "song2vec.safetensors",
                        card=HERE / "MODEL_CARD.md")
