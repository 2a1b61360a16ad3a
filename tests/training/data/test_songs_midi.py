import itertools

import mido
import numpy as np
import pytest

from rtsim.errors import ConfigError
from rtsim.training.data.gm import DRUM_CHANNEL, program_range
from rtsim.training.data.loaders import slakh_tracks
from rtsim.training.data.midi import midi_bytes
from rtsim.training.data.songs import compose_song, plan_song, render_songs, song_midi
from rtsim.training.data.songs.styles import PRESETS
from rtsim.training.data.songs.theory import key_signature


def _bytes(seed, index, seconds=12.0):
    files = song_midi(compose_song(plan_song(seed=seed, index=index), seconds=seconds))
    return {k: midi_bytes(v) for k, v in files.items()}


def test_same_seed_same_midi_bytes():
    assert _bytes(7, 3) == _bytes(7, 3)
    assert _bytes(7, 3)["all"] != _bytes(7, 4)["all"]
    assert _bytes(7, 3)["all"] != _bytes(8, 3)["all"]


def cramers_v(a, b):
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1))
    np.add.at(table, (ia, ib), 1)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / table.sum() / (min(table.shape) - 1)))


@pytest.fixture(scope="module")
def midi_corpus(tmp_path_factory):
    """200 short pieces, MIDI and metadata only."""
    out = tmp_path_factory.mktemp("midi_corpus")
    return render_songs(out, seed=11, size=200, seconds=4.0, workers=1, midi_only=True,
                        progress=False)


def test_label_kinds_are_not_functions_of_each_other(midi_corpus):
    labels = [t.labels for t in slakh_tracks(midi_corpus, require_audio=False)]
    assert len(labels) == 200
    kinds = {"genre": [x["genre"] for x in labels], "mood": [x["mood"] for x in labels],
             "tempo": [x["tempo_bpm"] // 20 for x in labels]}
    for role in ("drums", "bass", "piano", "guitar"):
        kinds[f"instrument:{role}"] = [x["programs"][role] for x in labels]
    for name, values in kinds.items():
        assert len(set(values)) >= 3, name
    for a, b in itertools.combinations(kinds, 2):
        if a.startswith("instrument") and b.startswith("instrument"):
            continue
        assert cramers_v(kinds[a], kinds[b]) < 0.5, (a, b)
    # every genre admits both moods and several tempi and instruments
    for genre in {x["genre"] for x in labels}:
        mine = [x for x in labels if x["genre"] == genre]
        assert {x["mode"] for x in mine} == {"major", "minor"}
        assert len({x["tempo_bpm"] // 10 for x in mine}) >= 3
        assert len({x["programs"]["guitar"] for x in mine}) >= 3


def test_midi_content_matches_labels(midi_corpus):
    for track in slakh_tracks(midi_corpus, require_audio=False)[:40]:
        lab, meta_stems = track.labels, {s.stem_id: s for s in track.stems}
        assert lab["genre"] == PRESETS[lab["preset"]].genre
        for sid, stem in meta_stems.items():
            mf = mido.MidiFile(track.folder / "MIDI" / f"{sid}.mid")
            tempos = [m.tempo for m in mf if m.type == "set_tempo"]
            assert tempos and all(abs(mido.tempo2bpm(t) - lab["tempo_bpm"]) < 0.01
                                  for t in tempos)
            keys = [m.key for m in mf if m.type == "key_signature"]
            assert keys == [key_signature(KEYS.index(lab["key"]), lab["mode"])]
            notes = [m for m in mf if m.type == "note_on" and m.velocity > 0]
            assert notes, sid
            if stem.is_drum:
                assert all(m.channel == DRUM_CHANNEL for m in notes)
                continue
            lo, hi = program_range(stem.program)
            assert all(lo <= m.note <= hi for m in notes), (sid, stem.program)
            programs = {m.program for m in mf if m.type == "program_change"}
            assert programs == {stem.program} == {lab["programs"][_role(stem)]}


KEYS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _role(stem):
    return stem.role if stem.role != "other" else "extra"


def test_all_src_has_every_stem(midi_corpus):
    track = slakh_tracks(midi_corpus, require_audio=False)[0]
    mf = mido.MidiFile(track.folder / "all_src.mid")
    assert len(mf.tracks) == 1 + len(track.stems)
    assert 4.0 <= mf.length <= 4.0 + 2 * 240 / track.labels["tempo_bpm"]


def test_bad_song_options(tmp_path):
    with pytest.raises(ConfigError, match="size=0"):
        render_songs(tmp_path, size=0, midi_only=True)
    with pytest.raises(ConfigError, match="seconds=1"):
        render_songs(tmp_path, size=1, seconds=1, midi_only=True)
    with pytest.raises(ConfigError, match="nope.sf2"):
        render_songs(tmp_path, size=1, soundfont="nope.sf2", midi_only=True)
