"""``vocal/<input>``: Kumar et al.'s vocal similarity, one genre-classifier CNN per input.

Inputs, as the paper compares them: ``mix`` (mel of the mix), ``vocal`` (mel of the
vocal stem, or of a live vocal input channel), ``instrumental`` (mel of the mix without
the vocal) and ``pitch`` (a harmonic constant-Q stack of the mix: pitch salience). The
mel inputs share the front end of the stem and disentangled embedders (22.05 kHz,
1024/512, 128 bands); ``pitch`` uses a 22.05-kHz constant-Q front end, 7 octaves from C1
at 24 bins per octave, hop 512. Each network is trained as a genre classifier
(cross-entropy, split by singer); the penultimate layer, L2-normalised, is the 128-d
embedding, searched by cosine. Trained by ``rtsim train models/vocal/<input>.toml`` (see
``MODEL_CARD.md``).
"""

from __future__ import annotations

from pathlib import Path

from rtsim.embed import EmbedderPlugin, EmbedderSpec
from rtsim.features import CQTSpec, MelSpec
from rtsim.models.blocks import make_net
from rtsim.models.vocal.net import VocalNet

__all__ = ["ARCH_KWARGS", "GENRES", "INPUTS", "ROLE_OF", "arch_kwargs", "plugins", "spec_for"]

HERE = Path(__file__).parent
INPUTS = ("mix", "vocal", "instrumental", "pitch")
ROLE_OF = {"mix": "mix", "vocal": "vocal", "instrumental": "instrumental", "pitch": "mix"}
"""The audio each input is computed from (a corpus role)."""
GENRES = ("electronic", "funk", "jazz", "latin", "reggae", "rock")
"""The genre head's classes, in order (the song corpus's genres)."""
PITCH_FRONTEND = CQTSpec(sr=22050, hop_length=512, fmin=32.703, n_bins=168,
                         bins_per_octave=24, mode="low_latency")
HARMONICS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
ARCH_KWARGS = {"channels": [16, 32, 64, 128], "dim": 128, "n_classes": len(GENRES)}


def arch_kwargs(name: str) -> dict:
    """The architecture of ``vocal/<name>`` (the harmonic stack for ``pitch``)."""
    if name == "pitch":
        return {**ARCH_KWARGS, "harmonics": list(HARMONICS), "bins_per_octave": 24}
    return dict(ARCH_KWARGS)


def spec_for(name: str) -> EmbedderSpec:
    """The spec of ``vocal/<name>``."""
    frontend = PITCH_FRONTEND if name == "pitch" else MelSpec()
    what = {"mix": "mel of the mix", "vocal": "mel of the vocal (stem or input channel)",
            "instrumental": "mel of the mix without the vocal",
            "pitch": "harmonic CQT of the mix (pitch salience)"}[name]
    return EmbedderSpec(
        name=f"vocal/{name}", frontend=frontend, window=129, hop=16, dim=128, metric="cosine",
        description=f"Kumar et al.: {what}, 3 s -> genre-classifier CNN; the penultimate "
        "layer (128-d) is the embedding.",
    )


def _builder(name: str):
    def build(state) -> VocalNet:
        kw = arch_kwargs(name)
        kw["harmonics"] = tuple(kw.get("harmonics", ()))
        return make_net(VocalNet, kw, state)
    return build


def plugins() -> list[EmbedderPlugin]:
    """One plugin per input (registered as ``vocal/<input>``)."""
    return [EmbedderPlugin(spec=spec_for(n), build=_builder(n),
                           weights=HERE / f"{n}.safetensors", card=HERE / "MODEL_CARD.md")
            for n in INPUTS]
