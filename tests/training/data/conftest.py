"""Tiny rendered corpora shared by the training-data tests (rendered once per session)."""

from __future__ import annotations

import shutil

import pytest

HAS_FLUIDSYNTH = shutil.which("fluidsynth") is not None
SOUNDFONT = "timgm6mb"
needs_fluidsynth = pytest.mark.skipif(not HAS_FLUIDSYNTH,
                                      reason="the fluidsynth program is not installed")


@pytest.fixture(scope="session")
def soundfont():
    """A small GM soundfont (TimGM6mb, 6 MB), or skip when absent."""
    from rtsim.errors import ConfigError
    from rtsim.training.data.fluid import resolve_soundfont

    try:
        return str(resolve_soundfont(SOUNDFONT))
    except ConfigError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def rendered_notes(tmp_path_factory, soundfont):
    """Three 1-s notes in NSynth's layout (two fluidsynth workers)."""
    if not HAS_FLUIDSYNTH:
        pytest.skip("the fluidsynth program is not installed")
    from rtsim.training.data.notes import render_notes

    return render_notes(tmp_path_factory.mktemp("notes"), soundfont=soundfont, seed=3,
                        size=3, seconds=1.0, workers=1, progress=False)


@pytest.fixture(scope="session")
def rendered_songs(tmp_path_factory, soundfont):
    """One 6-s piece in Slakh's layout."""
    if not HAS_FLUIDSYNTH:
        pytest.skip("the fluidsynth program is not installed")
    from rtsim.training.data.songs import render_songs

    return render_songs(tmp_path_factory.mktemp("songs"), soundfont=soundfont, seed=5,
                        size=1, seconds=6.0, workers=1, progress=False)
