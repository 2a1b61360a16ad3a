"""Shared fixtures: small synthetic sample folders and libraries."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf
import torch

from rtsim.demo.sounds import render_note

SR = 22050
FAMILIES = ("pluck", "organ", "marimba", "bell")
PITCHES = (48, 60, 72)


def write_samples(folder, *, families=FAMILIES, pitches=PITCHES, sr=SR):
    """One-shots ``<family>/<family>_<midi>.wav``; returns the list of relative names."""
    names = []
    for fam in families:
        for midi in pitches:
            path = folder / fam / f"{fam}_{midi}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, render_note(fam, midi=midi, seconds=0.8, sr=sr), sr)
            names.append(f"{fam}/{fam}_{midi}")
    return names


@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory):
    """12 one-shots, one long file, and four files that must be skipped."""
    folder = tmp_path_factory.mktemp("samples")
    write_samples(folder)
    rng = np.random.default_rng(0)
    long = np.concatenate([render_note(f, midi=60, seconds=1.5, sr=SR) for f in FAMILIES * 2])
    (folder / "long").mkdir()
    sf.write(folder / "long" / "phrase.flac", long, SR)
    (folder / "bad").mkdir()
    (folder / "bad" / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + rng.bytes(64))
    (folder / "bad" / "empty.wav").write_bytes(b"")
    (folder / "bad" / "notes.txt").write_text("not audio")
    sf.write(folder / "bad" / "silence.wav", np.zeros(SR, np.float32), SR)
    return folder


@pytest.fixture(scope="session")
def pca_library(sample_folder, tmp_path_factory):
    """The pca library of ``sample_folder`` (built once per session)."""
    from rtsim.embed import get
    from rtsim.index.build import build_library

    out = tmp_path_factory.mktemp("libs") / "pca"
    report = build_library(sample_folder, out, plugin=get("pca"), progress=False)
    return out, report


@pytest.fixture(scope="session")
def one_shot_library(tmp_path_factory):
    """A pca library of the 12 one-shots of :func:`write_samples` only."""
    from rtsim.embed import get
    from rtsim.index.build import build_library

    root = tmp_path_factory.mktemp("one-shots")
    write_samples(root / "samples")
    build_library(root / "samples", root / "lib", plugin=get("pca"), progress=False)
    return root / "lib"


class _UnitSubspaces(torch.nn.Module):
    """Four unit 8-d subspaces from fixed random projections of the window's mean frame."""

    def __init__(self, proj):
        super().__init__()
        self.register_buffer("proj", proj)

    def forward(self, x):
        z = (x.mean(1) @ self.proj).view(-1, 4, 8)
        return torch.nn.functional.normalize(z, dim=-1).flatten(1)


@pytest.fixture
def subspace_embedder(monkeypatch):
    """A registered embedder ``four`` with four named unit subspaces (like disentangled)."""
    from rtsim.embed import EmbedderPlugin, EmbedderSpec, Subspace, registry
    from rtsim.features import MelSpec

    spec = EmbedderSpec(name="four", frontend=MelSpec(), window=8, hop=4, dim=32, metric="ip",
                        subspaces=tuple(Subspace(n, 8 * i, 8 * i + 8) for i, n in
                                        enumerate(("genre", "mood", "instrument", "tempo"))))
    state = {"proj": torch.from_numpy(np.random.default_rng(0).standard_normal((128, 32))
                                      .astype(np.float32))}
    plugin = EmbedderPlugin(spec=spec, build=lambda s: _UnitSubspaces(s["proj"]),
                            fit=lambda w, s: state)
    monkeypatch.setattr(registry, "_registry", {**registry._registry, "four": plugin})
    return plugin


@pytest.fixture(autouse=True)
def _quiet_faiss_loader():
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
