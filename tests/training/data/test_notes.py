import json
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from rtsim.errors import ConfigError
from rtsim.training.data.families import NSYNTH_PROGRAMS
from rtsim.training.data.gm import program_range
from rtsim.training.data.loaders import load_item, nsynth_items
from rtsim.training.data.midi import midi_bytes
from rtsim.training.data.notes import VELOCITIES, plan_notes, render_notes
from rtsim.training.data.notes_render import note_batch_midi

from .conftest import needs_fluidsynth


def test_plan_is_deterministic_balanced_and_in_range():
    plan = plan_notes(seed=1, size=500)
    assert plan == plan_notes(seed=1, size=500)
    assert plan != plan_notes(seed=2, size=500)
    assert plan[:50] == plan_notes(seed=1, size=50)
    assert len(set(plan)) == 500
    counts = Counter(n.program for n in plan)
    assert set(counts) == set(NSYNTH_PROGRAMS)
    assert max(counts.values()) - min(counts.values()) <= 1
    for n in plan:
        lo, hi = program_range(n.program)
        assert lo <= n.pitch <= hi and n.velocity in VELOCITIES


def test_size_checked():
    with pytest.raises(ConfigError, match="size=0"):
        plan_notes(seed=0, size=0)
    with pytest.raises(ConfigError, match="size=151"):
        plan_notes(seed=0, size=151, programs=(9,))  # glockenspiel: 30 pitches x 5
    assert len(plan_notes(seed=0, size=150, programs=(9,))) == 150


def test_batch_midi_bytes_deterministic():
    plan = plan_notes(seed=4, size=6)
    args = dict(programs=[n.program for n in plan], pitches=[n.pitch for n in plan],
                velocities=[n.velocity for n in plan], seconds=2.0)
    a, b = midi_bytes(note_batch_midi(**args)), midi_bytes(note_batch_midi(**args))
    assert a == b
    mf = note_batch_midi(**args)
    ons = [m for m in mf.tracks[1] if m.type == "note_on"]
    assert [(m.note, m.velocity) for m in ons] == [(n.pitch, n.velocity) for n in plan]


@needs_fluidsynth
def test_rendered_notes_read_back(rendered_notes):
    items = nsynth_items(rendered_notes)
    doc = json.loads((rendered_notes / "examples.json").read_text())
    assert len(items) == 3 and {i.key for i in items} == set(doc)
    for item in items:
        ex = doc[item.key]
        assert item.labels["program"] == ex["program"] == ex["instrument"]
        assert item.labels["family"] == ex["instrument_family_str"]
        assert item.labels["pitch"] == ex["pitch"] and item.labels["velocity"] == ex["velocity"]
        y = load_item(item, sr=16000)
        assert y.shape == (16000,) and np.abs(y).max() > 1e-3
        assert sf.info(item.path).subtype == "PCM_16"


@needs_fluidsynth
def test_render_is_deterministic(rendered_notes, soundfont, tmp_path):
    again = render_notes(tmp_path, soundfont=soundfont, seed=3, size=3, seconds=1.0,
                         workers=2, progress=False)
    for wav in sorted((rendered_notes / "audio").iterdir()):
        a, _ = sf.read(wav)
        b, _ = sf.read(again / "audio" / wav.name)
        np.testing.assert_allclose(a, b, atol=1e-3)
