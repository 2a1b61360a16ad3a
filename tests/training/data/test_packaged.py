"""Packaged recordings: labels from Sonic Pi's, LMMS's, eXaDrums', ChucK's and Kivy's own
file names."""

import numpy as np
import pytest
import soundfile as sf

from rtsim.errors import ConfigError
from rtsim.training.data.loaders.packaged import label_name, packaged_rows


@pytest.mark.parametrize("package,rel,expected", [
    ("sonic-pi", "bd_haus", ("drum", "kick")),
    ("sonic-pi", "drum_snare_hard", ("drum", "snare")),
    ("sonic-pi", "drum_cymbal_closed", ("drum", "hihat")),
    ("sonic-pi", "drum_splash_soft", ("drum", "cymbal")),
    ("sonic-pi", "elec_fuzz_tom", ("drum", "tom")),
    ("sonic-pi", "tabla_na", ("drum", "perc")),
    ("sonic-pi", "bass_hit_c", ("note", "bass")),
    ("sonic-pi", "loop_amen", None),
    ("sonic-pi", "elec_blip2", ("fx", "blip")),
    ("lmms", "drums/hihat_opened02", ("drum", "hihat")),
    ("lmms", "drums/bassdrum_acoustic01", ("drum", "kick")),
    ("lmms", "drums/ride01", ("drum", "cymbal")),
    ("lmms", "instruments/violin_pizzicato01", ("note", "string")),
    ("lmms", "instruments/church_organ03", ("note", "organ")),
    ("lmms", "beats/break01", None),
    ("lmms", "drumsynth/tr808/Kick", None),
    ("exadrums", "BD_Acou_01", ("drum", "kick")),
    ("exadrums", "Snr_Acou_01", ("drum", "snare")),
    ("exadrums", "HiHat", ("drum", "hihat")),
    ("exadrums", "Tom03", ("drum", "tom")),
    ("exadrums", "RideBell", ("drum", "cymbal")),
    ("exadrums", "Crash_High", ("drum", "cymbal")),
    ("exadrums", "Data/data/out", None),
    ("chuck", "data/hihat-open", ("drum", "hihat")),
    ("chuck", "data/snare-chili", ("drum", "snare")),
    ("chuck", "book/digital-artists/audio/clap_01", ("drum", "clap")),
    ("chuck", "book/digital-artists/audio/cowbell_01", ("drum", "perc")),
    ("chuck", "book/digital-artists/audio/click_01", None),
    ("chuck", "book/digital-artists/audio/stereo_fx_01", None),
    ("chuck", "book/digital-artists/chapter4/audio/kick_01", None),  # a copy of audio/'s
    ("chuck", "special/geetar", None),
    ("kivy", "12911_sweet_trip_mm_hat_cl", ("drum", "hihat")),
    ("kivy", "12914_sweet_trip_mm_kick_lo", ("drum", "kick")),
    ("kivy", "12908_sweet_trip_mm_clap_hi", ("drum", "clap")),
    ("kivy", "12923_sweet_trip_mm_metal_clave", ("drum", "perc")),
    ("kivy", "12926_sweet_trip_mm_sweep_y", ("fx", "effect")),
])
def test_names_give_labels(package, rel, expected):
    assert label_name(package, rel) == expected


def _write(path, sr=22050):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(0.2 * sr)) / sr
    sf.write(path, (0.5 * np.sin(2 * np.pi * 220 * t) * np.exp(-t * 20)).astype(np.float32), sr)


def test_rows_from_a_package_layout(tmp_path):
    for rel in ("drums/kick01.ogg", "drums/kick02.ogg", "drums/snare01.ogg",
                "beats/break01.ogg", "instruments/flute01.ogg", "drums/readme.txt"):
        _write(tmp_path / rel) if rel.endswith(".ogg") else (tmp_path / rel).write_text("x")
    rows = packaged_rows("lmms", tmp_path)
    got = {r["path"].split("/", len(str(tmp_path).split("/")))[-1]: r for r in rows}
    assert sorted(got) == ["drums/kick01.ogg", "drums/kick02.ogg", "drums/snare01.ogg",
                           "instruments/flute01.ogg"]
    assert got["drums/kick01.ogg"]["group"] == got["drums/kick02.ogg"]["group"] == "lmms:kick"
    assert got["instruments/flute01.ogg"]["label"] == "flute"
    assert all(r["source"] == "lmms" for r in rows)


def test_exadrums_is_one_kit_and_its_data_is_not_audio(tmp_path):
    for rel in ("BD_Acou_01.wav", "Snr_Acou_01.wav", "RideEdge.wav", "Data/data/sound.wav"):
        _write(tmp_path / rel)
    (tmp_path / "Data" / "data" / "out.raw").write_bytes(b"\0" * 64)
    rows = packaged_rows("exadrums", tmp_path)
    assert sorted(r["label"] for r in rows) == ["cymbal", "kick", "snare"]
    assert {r["group"] for r in rows} == {"exadrums:default"}
    assert {r["detail"] for r in rows} == {"cymbal", "kick", "snare"}
    with pytest.raises(ConfigError, match="apt-get install exadrums"):
        packaged_rows("exadrums", tmp_path / "nope")


def test_chuck_reads_its_two_sets_once_and_kivy_is_one_pack(tmp_path):
    book = "book/digital-artists"
    for rel in ("data/hihat-open.wav", "data/kick.wav", f"{book}/audio/kick_01.wav",
                f"{book}/audio/cowbell_01.wav", f"{book}/chapter4/audio/kick_01.wav",
                f"{book}/audio/click_01.wav"):
        _write(tmp_path / "chuck" / rel)
    rows = packaged_rows("chuck", tmp_path / "chuck")
    got = {r["path"].split("examples/")[-1].split("chuck/")[-1]: r for r in rows}
    assert sorted(got) == [f"{book}/audio/cowbell_01.wav", f"{book}/audio/kick_01.wav",
                           "data/hihat-open.wav", "data/kick.wav"]
    assert got["data/kick.wav"]["group"] == "chuck:data"
    assert got[f"{book}/audio/kick_01.wav"]["group"] == "chuck:book"
    assert got[f"{book}/audio/cowbell_01.wav"]["detail"] == "cowbell"
    for rel in ("12911_sweet_trip_mm_hat_cl.wav", "12923_sweet_trip_mm_metal_clave.wav"):
        _write(tmp_path / "kivy" / rel)
    rows = packaged_rows("kivy", tmp_path / "kivy")
    assert [(r["label"], r["detail"], r["group"]) for r in rows] == [
        ("hihat", "hihat", "kivy:sweet_trip"), ("perc", "claves", "kivy:sweet_trip")]
    with pytest.raises(ConfigError, match="apt-get install chuck-data"):
        packaged_rows("chuck", tmp_path / "nope")
    with pytest.raises(ConfigError, match="apt-get install python-kivy-examples"):
        packaged_rows("kivy", tmp_path / "nope")


def test_unknown_missing_and_reserved_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown sample package"):
        packaged_rows("garageband", tmp_path)
    with pytest.raises(ConfigError, match="apt-get install sonic-pi-samples"):
        packaged_rows("sonic-pi", tmp_path / "nope")
    (tmp_path / "hydrogen").mkdir()
    with pytest.raises(ConfigError, match="reserved"):
        packaged_rows("lmms", tmp_path / "hydrogen")
