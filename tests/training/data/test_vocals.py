"""The song corpus's singers: pitch tracking, retuning, voices, and the vocal stem."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from rtsim.errors import ConfigError
from rtsim.training.data.songs import voice as V
from rtsim.training.data.songs.singers import CATALOGUE, VOICES, singer

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed")
needs_festival = pytest.mark.skipif(not V.voice_available("festival:kal_diphone"),
                                    reason="festival's kal_diphone voice is not installed")
ESPEAK_SINGER = 0  # singer00 has an espeak-ng voice (fast to bank: ~4 s)


def _tone(hz, seconds=0.6, sr=V.SR):
    t = np.arange(int(seconds * sr)) / sr
    ph = 2 * np.pi * np.cumsum(np.broadcast_to(hz, t.shape)) / sr
    return sum(np.sin(k * ph) / k for k in range(1, 8)).astype(np.float32) * 0.3


def _midi(hz):
    return 69 + 12 * np.log2(hz / 440.0)


@pytest.mark.parametrize("hz", [90.0, 220.0, 523.0])
def test_f0_track_finds_the_pitch_of_a_harmonic_tone(hz):
    f0 = V.f0_track(_tone(hz))
    voiced = f0[f0 > 0]
    assert len(voiced) > 0.8 * len(f0)
    assert abs(_midi(np.median(voiced)) - _midi(hz)) < 0.05


def test_f0_track_calls_silence_unvoiced():
    assert not V.f0_track(np.zeros(V.SR, np.float32)).any()


def test_retune_puts_a_wobbling_source_on_the_target_pitch():
    n = int(0.8 * V.SR)
    wobble = 200.0 * 2 ** (0.5 * np.sin(2 * np.pi * 3 * np.arange(n) / V.SR) / 12)
    src = _tone(wobble, seconds=0.8)
    e = V.BankEntry("la", src, V.f0_track(src), 200.0)
    y = V.retune(src, V.contour(e), 300.0, n_out=int(0.4 * V.SR))
    assert len(y) == int(0.4 * V.SR)
    f0 = V.f0_track(y)
    f0 = f0[f0 > 0][10:-10]
    # the source swings ±50 cents; the retuned note stays within a few cents of 300 Hz
    assert np.max(np.abs(_midi(f0) - _midi(300.0))) < 0.1


def test_hold_loops_whole_periods_without_clicks():
    src = _tone(220.0, seconds=0.3)
    start, span = V.loop_points(src, V.SR, period=V.SR / 220.0)
    assert span > 0 and start + span <= len(src)
    y = V.hold(src, V.SR, start, span)
    assert len(y) == V.SR
    # a click would be a jump far larger than the tone's own steepest step
    assert np.max(np.abs(np.diff(y))) < 1.5 * np.max(np.abs(np.diff(src)))
    assert V.loop_points(src, len(src) - 1, period=100.0) == (0, 0)


def test_the_catalogue_is_fixed_and_varied():
    a, b = singer(3), singer(3)
    assert a == b and a.name == "singer03"
    voices = [singer(k).voice for k in range(CATALOGUE)]
    assert len(set(voices)) == CATALOGUE  # no two singers share a voice
    assert set(voices) <= set(VOICES)
    assert len({singer(k).vibrato_hz for k in range(CATALOGUE)}) == CATALOGUE
    with pytest.raises(ValueError, match="catalogue"):
        singer(CATALOGUE)


@needs_espeak
def test_an_espeak_voice_banks_every_syllable_across_its_range():
    b = V.bank(singer(ESPEAK_SINGER).voice)
    assert {e.syllable for e in b} == set(V.SYLLABLES)
    midis = [e.midi for e in b]
    assert max(midis) - min(midis) > 9  # espeak-ng's -p 0..99 spans most of an octave


@needs_festival
def test_festival_sings_the_note_it_is_asked():
    y = V.speak("festival:kal_diphone", "la", pitch=57)  # A3, 220 Hz
    f0 = V.f0_track(y)
    assert abs(_midi(np.median(f0[f0 > 0])) - 57) < 0.3


def test_a_missing_voice_is_a_clear_error():
    with pytest.raises(ConfigError, match="not installed"):
        V.speak("festival:no_such_voice", "la", pitch=60)


@pytest.fixture(scope="session")
def sung_songs(tmp_path_factory, soundfont):
    if shutil.which("fluidsynth") is None or shutil.which("espeak-ng") is None:
        pytest.skip("fluidsynth or espeak-ng is not installed")
    from rtsim.training.data.songs import render_songs

    return render_songs(tmp_path_factory.mktemp("sung"), soundfont=soundfont, seed=5,
                        size=2, seconds=6.0, workers=1, progress=False,
                        singers=(ESPEAK_SINGER, ESPEAK_SINGER + 1))


def test_sung_pieces_have_a_vocal_stem_in_the_mix(sung_songs):
    from rtsim.training.data.loaders import load_role, slakh_tracks

    tracks = slakh_tracks(sung_songs)
    assert len(tracks) == 2
    for t in tracks:
        assert t.labels["singer"] == "singer00"
        assert t.labels["vocal"]["voice"] == singer(ESPEAK_SINGER).voice
        (stem,) = t.role_stems("vocal")
        assert stem.inst_class == "Vocals" and stem.program == 53
        vocal = load_role(t, "vocal")
        mix = load_role(t, "mix")
        assert len(vocal) == len(mix) == 6 * 22050
        assert np.sqrt(np.mean(vocal ** 2)) > 0.01 and np.isfinite(vocal).all()
        others = sum(load_role(t, r) for r in t.roles if r != "vocal")
        # 16-bit files: the mix is the sum of its stems to within quantisation
        assert np.max(np.abs(mix - vocal - others)) < 1e-3
        inst = load_role(t, "instrumental")
        assert np.max(np.abs(inst - others)) < 1e-3


def test_the_vocal_stem_sings_its_midi_notes(sung_songs):
    import mido

    from rtsim.training.data.loaders import slakh_tracks

    t = slakh_tracks(sung_songs)[0]
    (stem,) = t.role_stems("vocal")
    mf = mido.MidiFile(t.folder / "MIDI" / stem.path.with_suffix(".mid").name)
    tempo = next(m.tempo for m in mf.tracks[0] if m.type == "set_tempo")
    notes, now = [], 0
    for m in mido.merge_tracks(mf.tracks):
        now += m.time
        if m.type == "note_on" and m.velocity > 0:
            notes.append((mido.tick2second(now, mf.ticks_per_beat, tempo), m.note))
    assert len(notes) >= 4
    y, sr = sf.read(stem.path, dtype="float32")
    hits = 0
    for (start, pitch), (nxt, _) in zip(notes, notes[1:], strict=False):
        seg = y[int((start + 0.05) * sr):int(min(nxt, start + 0.4) * sr)]
        if len(seg) < 0.08 * sr:
            continue
        f0 = V.f0_track(seg.astype(np.float32) if sr == V.SR else seg)
        f0 = f0[f0 > 0]
        # vibrato is at most 80 cents deep: the median sits on the note
        if len(f0) and abs(_midi(np.median(f0)) - pitch) < 0.6:
            hits += 1
    assert hits >= 0.7 * (len(notes) - 1)


def test_singers_range_is_checked(tmp_path):
    from rtsim.training.data.songs import render_songs

    with pytest.raises(ConfigError, match="catalogue"):
        render_songs(tmp_path, size=1, seconds=4.0, singers=(90, 200), progress=False)
    with pytest.raises(ConfigError, match="two integers"):
        render_songs(tmp_path, size=1, seconds=4.0, singers=("a", 3), progress=False)


def test_singers_have_home_genres_and_their_styles():
    from rtsim.training.data.songs.singers import AFFINITY, GENRE_STYLES, GENRES

    for k in range(24):
        s = singer(k)
        assert s.genres[0] == GENRES[k % len(GENRES)] and s.genres[1] != s.genres[0]
        assert s.affinity(s.genres[0]) == AFFINITY[0]
        assert s.affinity(s.genres[1]) == AFFINITY[1]
        other = next(g for g in GENRES if g not in s.genres)
        assert s.affinity(other) == AFFINITY[2]
        style = GENRE_STYLES[s.genres[0]]
        lo, hi = style["vibrato_cents"]
        assert lo <= s.vibrato_cents <= hi
        assert s.drive == 0.0 or style["p_drive"] > 0
    jazz = [singer(k) for k in range(CATALOGUE) if singer(k).genres[0] == "jazz"]
    rock = [singer(k) for k in range(CATALOGUE) if singer(k).genres[0] == "rock"]
    assert min(s.vibrato_cents for s in jazz) > max(s.vibrato_cents for s in rock)


def test_a_singers_band_plays_all_its_pieces_and_leaves_the_singer_unchanged(tmp_path):
    import yaml

    from rtsim.training.data.songs import render_songs
    from rtsim.training.data.songs.plan import plan_song
    from rtsim.training.data.songs.singers import band
    from rtsim.training.data.songs.theory import KEY_NAMES

    common = dict(seed=3, size=24, seconds=8.0, midi_only=True, progress=False, workers=1,
                  singers=(0, 4))
    plain = render_songs(tmp_path / "plain", **common)
    banded = render_songs(tmp_path / "bands", bands=True, **common)
    by_singer: dict = {}
    for i in range(24):
        name = f"Track{i + 1:05d}/metadata.yaml"
        a = yaml.safe_load((plain / name).read_text())["rtsim"]
        b = yaml.safe_load((banded / name).read_text())["rtsim"]
        # the same singer, genre, mood and roles; the band's programs, tempo and key
        assert a["singer"] == b["singer"] and a["vocal"] == b["vocal"]
        assert (a["genre"], a["mood"], list(a["programs"])) == \
            (b["genre"], b["mood"], list(b["programs"]))
        k = int(b["singer"].removeprefix("singer"))
        own = band(k)
        assert b["programs"] == {r: own.programs[r] for r in b["programs"]}
        assert b["key"] in {KEY_NAMES[t] for t in own.keys}
        lo, hi = plan_song(seed=3, index=i).style.tempo
        assert lo <= b["tempo_bpm"] <= hi
        by_singer.setdefault(k, set()).add(b["key"])
        # without bands, a piece's plan is its own (the renderer's old corpora unchanged)
        assert a["programs"] == plan_song(seed=3, index=i).programs
    assert len(by_singer) == 4 and all(len(keys) <= 3 for keys in by_singer.values())
    assert band(0) == band(0) and band(0) != band(1)


def test_bands_need_singers(tmp_path):
    from rtsim.training.data.songs import render_songs

    with pytest.raises(ConfigError, match="bands needs singers"):
        render_songs(tmp_path, size=1, seconds=4.0, bands=True, progress=False)
    with pytest.raises(ConfigError, match="bands='false' must be true or false"):
        render_songs(tmp_path, size=1, seconds=4.0, singers=(0, 4), bands="false",
                     progress=False)


def test_a_banded_corpus_is_cached_apart_from_its_plain_twin():
    from rtsim.training.corpora import corpus_name

    spec = {"kind": "songs", "soundfont": "fluidr3", "seed": 10, "size": 240,
            "seconds": 30.0, "singers": [0, 64]}
    assert corpus_name(spec) == "songs-fluidr3-seed10-n240-s30-v0-64"
    assert corpus_name({**spec, "bands": True}) == "songs-fluidr3-seed10-n240-s30-v0-64-bands"
