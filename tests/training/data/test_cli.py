import argparse

import pytest

from rtsim.errors import ConfigError
from rtsim.training.data.cli import cmd_render
from rtsim.training.data.loaders import nsynth_items, slakh_tracks

from .conftest import needs_fluidsynth


def ns(**kw):
    base = dict(kind=None, out=None, soundfont=None, seed=None, size=None, workers=None,
                sr=None, seconds=None, midi_only=False, no_progress=True)
    return argparse.Namespace(**{**base, **kw})


def test_songs_midi_only(tmp_path, capsys):
    assert cmd_render(ns(kind="songs", out=str(tmp_path), size=2, seconds=4.0,
                         midi_only=True, workers=1)) == 0
    assert "2 songs" in capsys.readouterr().out
    assert len(slakh_tracks(tmp_path, require_audio=False)) == 2


@needs_fluidsynth
def test_notes(tmp_path, soundfont):
    cmd_render(ns(kind="notes", out=str(tmp_path), size=2, seconds=0.5, workers=1,
                  soundfont="TimGM6mb", sr=8000))
    items = nsynth_items(tmp_path)
    assert len(items) == 2 and items[0].labels["sample_rate"] == 8000


def test_bad_arguments(tmp_path):
    with pytest.raises(ConfigError, match="kind='tunes'"):
        cmd_render(ns(kind="tunes", out=str(tmp_path)))
    with pytest.raises(ConfigError, match="soundfont='nope'.*timgm6mb"):
        cmd_render(ns(kind="notes", out=str(tmp_path), soundfont="nope"))
    with pytest.raises(ConfigError, match="workers=0"):
        cmd_render(ns(kind="songs", out=str(tmp_path), workers=0, midi_only=True, size=1,
                      seconds=4.0))


def test_singers_option(tmp_path, capsys):
    with pytest.raises(ConfigError, match="--singers 'five' must be LO:HI"):
        cmd_render(ns(kind="songs", out=str(tmp_path), singers="five", midi_only=True))
    with pytest.raises(ConfigError, match=r"singers=\[3, 2\)"):
        cmd_render(ns(kind="songs", out=str(tmp_path), singers="3:2", midi_only=True))
    # MIDI only still composes the sung line (its notes and singer are in the files)
    assert cmd_render(ns(kind="songs", out=str(tmp_path), size=1, seconds=4.0, workers=1,
                         midi_only=True, singers="0:1")) == 0
    (track,) = slakh_tracks(tmp_path, require_audio=False)
    assert track.labels["singer"] == "singer00"
    assert [s.role for s in track.stems].count("vocal") == 1
