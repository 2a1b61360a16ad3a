"""One-shot corpora from a soundfont: the GM key map, the plan, a real render."""

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from rtsim.errors import ConfigError
from rtsim.training.data.families import PROGRAM_FAMILY
from rtsim.training.data.oneshots import (
    COLUMNS,
    DRUM_CLASS,
    DRUM_CLASSES,
    plan_oneshots,
    read_labels,
    render_oneshots,
)
from tests.training.data.conftest import HAS_FLUIDSYNTH, needs_fluidsynth


def test_gm_key_map_labels_every_percussion_key():
    assert set(DRUM_CLASS) == set(range(35, 82))
    assert set(DRUM_CLASS.values()) == set(DRUM_CLASSES)
    assert [DRUM_CLASS[k] for k in (36, 38, 39, 42, 46, 45, 49, 51, 56)] == [
        "kick", "snare", "clap", "hihat", "hihat", "tom", "cymbal", "cymbal", "perc"]


def test_plan_covers_kits_and_programs(soundfont):
    rows = plan_oneshots(soundfont, source="tim", pitches_per_program=3)
    drums = [r for r in rows if r["kind"] == "drum"]
    notes = [r for r in rows if r["kind"] == "note"]
    kits = {r["group"] for r in drums}
    assert "tim:Standard" in kits and not any("Orchestra" in k for k in kits)
    assert len(drums) == len(kits) * 47 * 2
    assert len(notes) == 3 * sum(f is not None for f in PROGRAM_FAMILY)
    assert {r["label"] for r in notes} == {f for f in PROGRAM_FAMILY if f}
    assert len({r["name"] for r in rows}) == len(rows)


@needs_fluidsynth
def test_render_drops_silent_and_duplicate_hits(tmp_path, soundfont, monkeypatch):
    import rtsim.training.data.oneshots as mod

    real = mod.plan_oneshots

    def small(path, *, source, **kw):  # two kits' kicks and snares, two programs
        rows = real(path, source=source, pitches_per_program=1)
        keep = [r for r in rows if (r["kind"] == "drum" and r["pitch"] in (36, 38, 80)
                                    and r["program"] in (0, 8))
                or (r["kind"] == "note" and r["program"] in (0, 40))]
        dup = dict(keep[0], name=keep[0]["name"] + "-again")  # the same hit twice
        return keep + [dup]

    monkeypatch.setattr(mod, "plan_oneshots", small)
    out = render_oneshots(tmp_path / "os", soundfont=soundfont, source="tim", seconds=0.6,
                          workers=1, progress=False)
    rows = read_labels(out / "labels.csv")
    with open(out / "labels.csv", newline="") as f:
        assert tuple(next(csv.reader(f))) == COLUMNS
    names = [r["path"] for r in rows]
    assert not any(n.endswith("-again.wav") for n in names)  # identical audio dropped
    assert {r["label"] for r in rows} >= {"kick", "snare", "keyboard", "string"}
    assert all(r["recording"] for r in rows)  # every hit and note names its samples
    for r in rows:
        y, sr = sf.read(out / r["path"])
        assert sr == 22050 and len(y) == round(0.6 * 22050) and np.abs(y).max() > 0.003
    files = sorted(p.name for p in (out / "audio").iterdir())
    assert len(files) == len(rows)  # silent and duplicate files removed from disk too


def test_a_corpus_rendered_before_the_recording_column_gets_it(tmp_path, soundfont):
    from rtsim.training.data.oneshots import add_recordings

    plan = [r for r in plan_oneshots(soundfont, source="tim")
            if (r["program"], r["pitch"]) in ((0, 36), (8, 36), (0, 38))][::2]
    old = tmp_path / "labels.csv"
    old.write_text("path,label,kind,group,source,detail\n" + "".join(
        f"audio/{r['name']}.wav,{r['label']},drum,{r['group']},tim,{r['label']}\n"
        for r in plan))
    assert add_recordings(tmp_path, soundfont=soundfont, source="tim")
    rows = read_labels(old)
    assert [r["path"] for r in rows] == [f"audio/{r['name']}.wav" for r in plan]
    kick, snare, room_kick = (r["recording"] for r in rows)
    assert kick and snare and kick != snare and room_kick == kick  # TimGM6mb's Room kick
    assert not add_recordings(tmp_path, soundfont=soundfont, source="tim")  # once only


def _avl_files():
    from rtsim.training.data.oneshots import KIT_SETS

    files = KIT_SETS["avl"][2]
    if not all(Path(f).is_file() for f in files):
        pytest.skip("avldrums.lv2-soundfont is not installed")
    return files


# what a drummer calls each recording of the AVL kits, from its sample name
_NAME_RULES = (("Kick", "kick"), ("Snare", "snare"), ("Tom", "tom"), ("FloorTo", "tom"),
               ("Hat", "hihat"), ("Cras", "cymbal"), ("Ride", "cymbal"), ("Spla", "cymbal"),
               ("Paiste", "cymbal"), ("HandClap", "clap"), ("Stick", "perc"),
               ("Tambourine", "perc"), ("Cowbell", "perc"), ("Maraca", "perc"))


def test_the_avl_key_map_agrees_with_the_kits_own_sample_names():
    from rtsim.training.data.oneshots import AVL_KEYS
    from rtsim.training.data.sf2 import sample_names

    for f in _avl_files():
        keys = {}
        for name in sample_names(f):
            key, _, rest = name.partition("-")
            label = next(lab for word, lab in _NAME_RULES if word.lower() in rest.lower())
            keys.setdefault(int(key), set()).add(label)
        assert set(keys) == set(AVL_KEYS)  # every recorded key mapped, nothing else
        for key, labels in keys.items():
            assert labels == {AVL_KEYS[key][0]}, (f, key, labels)


@needs_fluidsynth
def test_a_kit_set_renders_as_one_corpus_and_drops_the_hits_its_kits_share(
        tmp_path, soundfont, monkeypatch):
    import shutil

    import rtsim.training.data.oneshots as mod
    from rtsim.training.data.sf2 import Preset

    a, b = tmp_path / "kit-a.sf2", tmp_path / "kit-b.sf2"  # one kit twice: all hits shared
    shutil.copy(soundfont, a)
    shutil.copy(soundfont, b)
    keys = {48: ("tom", "tom"), 76: ("perc", "bell")}
    monkeypatch.setitem(mod.KIT_SETS, "pair", (keys, (60, 120), (str(a), str(b))))
    monkeypatch.setattr(mod, "presets", lambda p: [Preset(Path(p).stem, 0, 0)])
    out = render_oneshots(tmp_path / "os", soundfont="pair", source="two", seconds=0.6,
                          workers=1, progress=False)
    rows = read_labels(out / "labels.csv")
    assert len(rows) == 4 and {r["group"] for r in rows} == {"two:kit-a"}  # b's all repeat
    assert sorted((r["label"], r["detail"]) for r in rows) == [
        ("perc", "bell"), ("perc", "bell"), ("tom", "tom"), ("tom", "tom")]
    assert {r["kind"] for r in rows} == {"drum"} and {r["source"] for r in rows} == {"two"}
    monkeypatch.setitem(mod.KIT_SETS, "gone", (keys, (60,), (str(tmp_path / "nope.sf2"),)))
    with pytest.raises(ConfigError, match="nope.sf2.*avldrums"):
        render_oneshots(tmp_path / "x", soundfont="gone", source="x", progress=False)


def test_the_avl_kits_render_with_their_classes(tmp_path):
    _avl_files()
    if not HAS_FLUIDSYNTH:
        pytest.skip("the fluidsynth program is not installed")
    out = render_oneshots(tmp_path / "avl", soundfont="avl", source="avl", seconds=0.5,
                          workers=1, progress=False)
    rows = read_labels(out / "labels.csv")
    groups = {r["group"] for r in rows}
    assert groups == {"avl:Black_Pearl_4pc", "avl:Red_Zeppelin_4pc"}
    for g in groups:  # each kit keeps its own kick, snare and toms
        assert {"kick", "snare", "tom", "cymbal"} <= {r["label"] for r in rows if r["group"] == g}
    assert len(rows) > 150
