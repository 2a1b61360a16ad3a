"""Shared fixtures: small synthetic sample folders and libraries."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf

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


@pytest.fixture(autouse=True)
def _quiet_faiss_loader():
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
