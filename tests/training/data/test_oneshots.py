"""One-shot corpora from a soundfont: the GM key map, the plan, a real render."""

import csv

import numpy as np
import soundfile as sf

from rtsim.training.data.families import PROGRAM_FAMILY
from rtsim.training.data.oneshots import (
    COLUMNS,
    DRUM_CLASS,
    DRUM_CLASSES,
    plan_oneshots,
    read_labels,
    render_oneshots,
)
from tests.training.data.conftest import needs_fluidsynth


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
    for r in rows:
        y, sr = sf.read(out / r["path"])
        assert sr == 22050 and len(y) == round(0.6 * 22050) and np.abs(y).max() > 0.003
    files = sorted(p.name for p in (out / "audio").iterdir())
    assert len(files) == len(rows)  # silent and duplicate files removed from disk too
