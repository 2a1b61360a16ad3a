import json

import numpy as np
import pytest
import soundfile as sf

from rtsim.errors import AudioFileError, ConfigError
from rtsim.training.data.loaders import (
    folder_items,
    jamendo_items,
    load_item,
    load_role,
    nsynth_items,
    slakh_tracks,
)

SR = 8000


def tone(path, freq=440.0, seconds=0.25):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(SR * seconds)) / SR
    sf.write(path, 0.3 * np.sin(2 * np.pi * freq * t), SR)
    return path


# ---------------------------------------------------------------- NSynth


def nsynth_fixture(root):
    notes = {"guitar_acoustic_010-060-100": ("guitar", 3, 60, 100),
             "bass_synthetic_033-045-025": ("bass", 0, 45, 25)}
    doc = {}
    for key, (fam, fid, pitch, vel) in notes.items():
        doc[key] = {"note": len(doc), "note_str": key, "instrument": 10,
                    "instrument_str": key[:-8], "instrument_family": fid,
                    "instrument_family_str": fam, "instrument_source": 0,
                    "instrument_source_str": "acoustic", "pitch": pitch, "velocity": vel,
                    "sample_rate": SR, "qualities": [0] * 10, "qualities_str": ["bright"]}
        tone(root / "audio" / f"{key}.wav", 440.0 * 2 ** ((pitch - 69) / 12))
    (root / "examples.json").write_text(json.dumps(doc))
    return doc


def test_nsynth(tmp_path):
    nsynth_fixture(tmp_path)
    items = nsynth_items(tmp_path)
    assert [i.key for i in items] == ["bass_synthetic_033-045-025", "guitar_acoustic_010-060-100"]
    g = items[1].labels
    assert (g["family"], g["family_id"], g["pitch"], g["velocity"]) == ("guitar", 3, 60, 100)
    assert g["program"] is None and g["qualities"] == ["bright"]
    assert load_item(items[0]).shape == (SR // 4,)


def test_nsynth_bad_layouts(tmp_path):
    with pytest.raises(ConfigError, match="examples.json is missing"):
        nsynth_items(tmp_path)
    doc = nsynth_fixture(tmp_path)
    (tmp_path / "audio" / "bass_synthetic_033-045-025.wav").unlink()
    with pytest.raises(AudioFileError, match="bass_synthetic_033-045-025.wav"):
        nsynth_items(tmp_path)
    assert len(nsynth_items(tmp_path, check_files=False)) == 2
    del doc["guitar_acoustic_010-060-100"]["pitch"]
    (tmp_path / "examples.json").write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match="'guitar_acoustic_010-060-100' lacks pitch"):
        nsynth_items(tmp_path, check_files=False)
    (tmp_path / "examples.json").write_text("{not json")
    with pytest.raises(ConfigError, match="examples.json.*not valid JSON"):
        nsynth_items(tmp_path)


# ---------------------------------------------------------------- Slakh

META = """UUID: abc
audio_dir: stems
normalized: true
overall_gain: 0.5
stems:
  S00: {audio_rendered: true, inst_class: Guitar, is_drum: false,
        midi_program_name: Distortion Guitar, program_num: 30}
  S01: {audio_rendered: true, inst_class: Drums, is_drum: true,
        midi_program_name: Drums, program_num: 128}
  S02: {audio_rendered: true, inst_class: Guitar, is_drum: false,
        midi_program_name: Electric Guitar (clean), program_num: 27}
  S03: {audio_rendered: false, inst_class: Bass, is_drum: false, program_num: 33}
  S04: {audio_rendered: true, inst_class: Strings (continued), is_drum: false,
        program_num: 48}
"""


def slakh_fixture(root, split="train", name="Track00001"):
    track = root / split / name
    for sid, f in (("S00", 220), ("S01", 330), ("S02", 550), ("S04", 660)):
        tone(track / "stems" / f"{sid}.flac", f)
    tone(track / "mix.flac", 220, seconds=0.5)
    (track / "metadata.yaml").write_text(META)
    return track


def test_slakh(tmp_path):
    slakh_fixture(tmp_path)
    slakh_fixture(tmp_path, split="test", name="Track01500")
    tracks = slakh_tracks(tmp_path)
    assert [(t.split, t.name) for t in tracks] == [("train", "Track00001"),
                                                   ("test", "Track01500")]
    t = tracks[0]
    assert t.roles == {"guitar", "drums", "other"}
    assert [s.stem_id for s in t.role_stems("guitar")] == ["S00", "S02"]
    assert {s.stem_id: s.role for s in t.stems}["S03"] == "bass"
    guitar = load_role(t, "guitar", sr=SR)
    a, _ = sf.read(t.folder / "stems" / "S00.flac", dtype="float32")
    b, _ = sf.read(t.folder / "stems" / "S02.flac", dtype="float32")
    np.testing.assert_allclose(guitar, a + b, atol=1e-6)
    assert load_role(t, "mix").shape == (SR // 2,)
    with pytest.raises(ConfigError, match="no rendered 'bass'.*roles: drums, guitar, other"):
        load_role(t, "bass")


def test_slakh_bad_layouts(tmp_path):
    with pytest.raises(ConfigError, match="no TrackNNNNN folders"):
        slakh_tracks(tmp_path)
    track = slakh_fixture(tmp_path)
    (track / "stems" / "S02.flac").unlink()
    with pytest.raises(AudioFileError, match="stem 'S02'.*S02.flac"):
        slakh_tracks(tmp_path)
    assert len(slakh_tracks(tmp_path, require_audio=False)) == 1
    (track / "mix.flac").unlink()
    with pytest.raises(AudioFileError, match="mix.flac"):
        slakh_tracks(tmp_path)
    (track / "metadata.yaml").write_text("UUID: x\n")
    with pytest.raises(ConfigError, match="metadata.yaml.*no 'stems'"):
        slakh_tracks(tmp_path, require_audio=False)
    (track / "metadata.yaml").write_text("stems:\n  S00: {program_num: 3}\n")
    with pytest.raises(ConfigError, match="stem 'S00' lacks inst_class"):
        slakh_tracks(tmp_path, require_audio=False)
    (track / "metadata.yaml").unlink()
    with pytest.raises(ConfigError, match="Track00001.*metadata.yaml is missing"):
        slakh_tracks(tmp_path)


# ---------------------------------------------------------------- plain folders


def test_folder_by_subfolder(tmp_path, caplog):
    tone(tmp_path / "kick" / "a.wav")
    tone(tmp_path / "kick" / "deep" / "b.flac")
    tone(tmp_path / "snare" / "c.WAV")
    tone(tmp_path / "loose.wav")
    (tmp_path / "snare" / "notes.txt").write_text("x")
    items = folder_items(tmp_path, label_name="instrument")
    assert [(i.key, i.labels["instrument"]) for i in items] == [
        ("kick/a.wav", "kick"), ("kick/deep/b.flac", "kick"), ("snare/c.WAV", "snare")]
    assert "loose.wav" in caplog.text


def test_folder_by_csv(tmp_path):
    tone(tmp_path / "x" / "a.wav")
    tone(tmp_path / "b.wav")
    (tmp_path / "labels.csv").write_text("path,instrument,pitch\nx/a.wav,kick,\nb.wav,pad,60\n")
    items = folder_items(tmp_path, labels_csv=tmp_path / "labels.csv")
    assert [i.labels for i in items] == [{"instrument": "kick", "pitch": None},
                                         {"instrument": "pad", "pitch": "60"}]


def test_folder_bad_layouts(tmp_path):
    with pytest.raises(ConfigError, match="no labelled audio files"):
        folder_items(tmp_path)
    with pytest.raises(ConfigError, match="missing"):
        folder_items(tmp_path / "nowhere")
    csv = tmp_path / "labels.csv"
    with pytest.raises(ConfigError, match="labels.csv.*no such file"):
        folder_items(tmp_path, labels_csv=csv)
    csv.write_text("path\na.wav\n")
    with pytest.raises(ConfigError, match="labels.csv.*header row"):
        folder_items(tmp_path, labels_csv=csv)
    csv.write_text("path,label\na.wav,x,y\n")
    with pytest.raises(ConfigError, match="labels.csv' line 2: 3 columns"):
        folder_items(tmp_path, labels_csv=csv)
    csv.write_text("path,label\na.wav,x\n")
    with pytest.raises(AudioFileError, match="line 2.*a.wav"):
        folder_items(tmp_path, labels_csv=csv)


# ---------------------------------------------------------------- MTG-Jamendo

TSV = ("TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\n"
       "track_0000214\tartist_000014\talbum_000031\t14/214.mp3\t124.6\tgenre---punkrock\n"
       "track_0000215\tartist_000014\talbum_000031\t15/215.mp3\t98.0\tgenre---rock\t"
       "genre---pop\tinstrument---guitar\tmood/theme---happy\tmood/theme---energetic\n")


def test_jamendo(tmp_path):
    (tmp_path / "all.tsv").write_text(TSV)
    (tmp_path / "mood.tsv").write_text(TSV.splitlines()[0] + "\n"
                                       "track_0000214\tartist_000014\talbum_000031\t"
                                       "14/214.mp3\t124.6\tmood/theme---sad\n")
    for rel in ("14/214.low.mp3", "15/215.low.mp3"):
        (tmp_path / "audio" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "audio" / rel).write_bytes(b"ID3")
    items = jamendo_items([tmp_path / "all.tsv", tmp_path / "mood.tsv"],
                          audio_root=tmp_path / "audio", low_quality=True)
    assert [i.key for i in items] == ["track_0000214", "track_0000215"]
    a, b = items[0].labels, items[1].labels
    assert (a["genre"], a["mood"], a["instrument"]) == (["punkrock"], ["sad"], [])
    assert b["genre"] == ["rock", "pop"] and b["mood"] == ["happy", "energetic"]
    assert b["instrument"] == ["guitar"] and b["duration"] == 98.0
    assert items[1].path == tmp_path / "audio" / "15" / "215.low.mp3"


def test_jamendo_bad_layouts(tmp_path):
    tsv = tmp_path / "x.tsv"
    with pytest.raises(ConfigError, match="x.tsv.*no such file"):
        jamendo_items(tsv)
    tsv.write_text("ID\tPATH\n")
    with pytest.raises(ConfigError, match="header must start with TRACK_ID"):
        jamendo_items(tsv)
    tsv.write_text(TSV.splitlines()[0] + "\ntrack_1\tartist_1\n")
    with pytest.raises(ConfigError, match="x.tsv' line 2: 2 fields"):
        jamendo_items(tsv)
    tsv.write_text(TSV.splitlines()[0] + "\ntrack_1\ta\tb\t1/1.mp3\tlong\n")
    with pytest.raises(ConfigError, match="DURATION='long'"):
        jamendo_items(tsv)
    tsv.write_text(TSV.splitlines()[0] + "\ntrack_1\ta\tb\t1/1.mp3\t3.0\trock\n")
    with pytest.raises(ConfigError, match="tag 'rock'"):
        jamendo_items(tsv)
    tsv.write_text(TSV)
    with pytest.raises(AudioFileError, match="track_0000214.*214.mp3"):
        jamendo_items(tsv)
    assert len(jamendo_items(tsv, check_files=False)) == 2
