"""LMMS's DrumSynth presets: the synthesis from a patch's parameters, labels from names."""

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from rtsim.errors import ConfigError
from rtsim.training.data.drumsynth import (
    DRUMSYNTH_DIR,
    FS,
    plan_drumsynth,
    preset_label,
    render_drumsynth,
    render_ds,
)

OFF = "\n".join(f"[{s}]\nOn=0" for s in ("Noise", "Overtones", "NoiseBand", "NoiseBand2",
                                          "Distortion"))


def patch(general: str = "", tone: str = "On=0", rest: str = OFF) -> str:
    """A patch's text: one ``Tone`` and the other sections (all off by default)."""
    return (f"[General]\nVersion=DrumSynth v2.0\n{general}\n[Tone]\n{tone}\n{rest}\n")


def tone(f1: float, f2: float, env: str = "0,100 4410,100 4411,0", droop: float = 0,
         level: int = 100) -> str:
    return f"On=1\nLevel={level}\nF1={f1}\nF2={f2}\nDroop={droop}\nPhase=0\nEnvelope={env}"


def peak_hz(y: np.ndarray, sr: int = FS) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spec)])


def zero_crossing_hz(y: np.ndarray, sr: int = FS) -> float:
    z = np.flatnonzero(np.diff(np.signbit(y).astype(int)) != 0)
    return sr / (2 * np.mean(np.diff(z)))


def test_a_steady_tone_has_its_pitch_level_and_envelope_length():
    y = render_ds(patch(tone=tone(440, 440)))
    # 100 ms (4410 samples at 44.1 kHz) of sound; length 2400 + 1200·⌊4411/1200⌋ samples
    assert len(y) == 2400 + 1200 * 3
    assert peak_hz(y[:4410]) == pytest.approx(440, abs=12)
    assert np.abs(y[:4400]).max() == pytest.approx(100 ** 2 / 32768, rel=2e-3)
    assert np.abs(y[4412:]).max() == 0.0  # the envelope ended


def test_a_linear_sweep_goes_from_f1_to_f2_and_droop_falls_fast_then_holds():
    env = "0,100 44100,100 44101,0"
    lin = render_ds(patch(tone=tone(800, 200, env)))
    assert zero_crossing_hz(lin[:2000]) == pytest.approx(800, rel=0.05)
    assert zero_crossing_hz(lin[42000:44000]) == pytest.approx(800 - 600 * 43000 / 44101, rel=0.03)
    assert zero_crossing_hz(lin[21000:23000]) == pytest.approx(500, rel=0.05)
    drop = render_ds(patch(tone=tone(800, 200, env, droop=40)))
    assert zero_crossing_hz(drop[200:1000]) > 550          # still high at the start
    assert zero_crossing_hz(drop[21000:23000]) == pytest.approx(200, rel=0.05)


def test_stretch_scales_time_and_tuning_scales_pitch():
    base = render_ds(patch(tone=tone(440, 440)))
    slow = render_ds(patch("Stretch=200", tone=tone(440, 440)))
    assert len(base) == 6000 and len(slow) == 2400 + 1200 * 7
    assert np.abs(slow[8000:8800]).max() > 0 and np.abs(slow[8830:]).max() == 0
    up = render_ds(patch("Tuning=12", tone=tone(440, 440)))
    assert peak_hz(up[:4410]) == pytest.approx(880, abs=20)


def test_a_noise_band_sits_at_its_frequency_and_noise_is_broadband():
    band = ("[Noise]\nOn=0\n[Overtones]\nOn=0\n[NoiseBand]\nOn=1\nLevel=100\nF=3000\ndF=20\n"
            "Envelope=0,100 22050,100 22051,0\n[NoiseBand2]\nOn=0\n[Distortion]\nOn=0")
    y = render_ds(patch(rest=band))
    assert peak_hz(y[:22050]) == pytest.approx(3000, rel=0.1)
    noise = ("[Noise]\nOn=1\nLevel=100\nSlope=0\nEnvelope=0,100 22050,100 22051,0\n"
             "[Overtones]\nOn=0\n[NoiseBand]\nOn=0\n[NoiseBand2]\nOn=0\n[Distortion]\nOn=0")
    y = render_ds(patch(rest=noise))
    spec = np.abs(np.fft.rfft(y[:22050])) ** 2
    f = np.fft.rfftfreq(22050, 1 / FS)
    low, high = spec[(f > 200) & (f < 2000)].mean(), spec[(f > 6000) & (f < 12000)].mean()
    assert 0.3 < low / high < 3  # white
    assert render_ds(patch(rest=noise), seed=1)[:100].tolist() != y[:100].tolist()
    assert render_ds(patch(rest=noise), seed=0).tolist() == y.tolist()  # seeded


def test_overtones_add_their_oscillators_and_the_808_mode_rings():
    ot = ("[Noise]\nOn=0\n[Overtones]\nOn=1\nLevel=100\nF1=1000\nF2=2500\nMethod=0\n"
          "Param=50\nWave1=0\nWave2=0\nEnvelope1=0,100 22050,100 22051,0\n"
          "Envelope2=0,100 22050,100 22051,0\n[NoiseBand]\nOn=0\n[NoiseBand2]\nOn=0\n"
          "[Distortion]\nOn=0")
    y = render_ds(patch(rest=ot))[:22050]
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    f = np.fft.rfftfreq(len(y), 1 / FS)
    lo, hi = (f > 500) & (f < 1500), (f > 2000) & (f < 3000)
    assert f[lo][np.argmax(spec[lo])] == pytest.approx(1000, abs=5)
    assert f[hi][np.argmax(spec[hi])] == pytest.approx(2500, abs=5)
    assert spec[lo].max() / spec[hi].max() == pytest.approx(1, rel=0.1)  # Param 50: equal
    cym = render_ds(patch(rest=ot.replace("Method=0", "Method=3")))
    assert np.isfinite(cym).all() and np.abs(cym).max() > 0.01


def test_distortion_quantises_and_the_output_is_clipped():
    loud = tone(440, 440, level=255)  # 255² is past 16 bits: clipped at 32700
    y = render_ds(patch("Level=12", tone=loud))
    assert np.abs(y).max() == pytest.approx(32700 / 32768)
    crush = OFF.replace("[Distortion]\nOn=0", "[Distortion]\nOn=1\nBits=5\nRate=3\nClipping=0")
    y = render_ds(patch(tone=tone(440, 440), rest=crush))[:4400]
    steps = y * 32768 / (2 ** 10 / 4)  # 10 bits less, then means of 4: 256-unit steps
    assert np.allclose(steps, np.round(steps)) and len(np.unique(y)) < 100
    assert len(np.unique(render_ds(patch(tone=tone(440, 440)))[:4400])) > 1000  # not crushed
    assert (y[:4396].reshape(-1, 4) == y[:4396].reshape(-1, 4)[:, :1]).all()  # held ×4


def test_the_resonant_filter_takes_the_highs_out():
    noise = ("[Noise]\nOn=1\nLevel=100\nSlope=0\nEnvelope=0,100 22050,100 22051,0\n"
             "[Overtones]\nOn=0\n[NoiseBand]\nOn=0\n[NoiseBand2]\nOn=0\n[Distortion]\nOn=0")
    dry = render_ds(patch(rest=noise))[:22050]
    wet = render_ds(patch("Filter=1\nResonance=0\nFilterEnv=0,20 442000,20", rest=noise))
    hi = np.fft.rfftfreq(22050, 1 / FS) > 6000
    e_dry = (np.abs(np.fft.rfft(dry)) ** 2)[hi].mean()
    e_wet = (np.abs(np.fft.rfft(wet[:22050])) ** 2)[hi].mean()
    assert e_wet < 0.05 * e_dry


def test_a_file_that_is_not_a_patch_is_refused_by_name():
    with pytest.raises(ConfigError, match="Version='Other 1.0'"):
        render_ds("[General]\nVersion=Other 1.0\n")
    with pytest.raises(ConfigError, match="Version=''"):
        render_ds("not an ini file at all")


@pytest.mark.parametrize("folder,name,expected", [
    ("tr808", "Kick", ("kick", "kick")),
    ("tr808", "Hat_o", ("hihat", "hihat")),
    ("tr909", "TR909_Clap", ("clap", "clap")),
    ("acoustic", "JazzSnr_H", ("snare", "snare")),
    ("electro", "K_8bit", ("kick", "kick")),
    ("electro", "S_Linn", ("snare", "snare")),
    ("r_n_b", "old_kik", ("kick", "kick")),
    ("misc", "airbrush_bd", ("kick", "kick")),
    ("misc", "jarre_bass_drum", ("kick", "kick")),
    ("misc_hats", "dusty_simple_oh", ("hihat", "hihat")),
    ("misc_hats", "heavy_electrihat", ("hihat", "hihat")),
    ("misc_hats", "sleepy_ride_2", ("cymbal", "cymbal")),
    ("jorgensohn", "ramacymlong", ("cymbal", "cymbal")),
    ("linn", "linn_tom3", ("tom", "tom")),
    ("misc_perc", "tommy", ("tom", "tom")),
    ("linn", "linn_cow", ("perc", "cowbell")),
    ("cr78", "Maracas", ("perc", "shaker")),
    ("tr77", "Tr77_cui1", ("perc", "cuica")),
    ("r_n_b", "snare&hat", None),        # two classes
    ("misc", "clappy_snare", None),      # two classes
    ("misc_electro", "what_to_do_at_220", None),
    ("misc", "tomita_clip", None),
    ("misc", "fried_food", None),
    ("electro", "Boom", None),           # says nothing
    ("effects", "Gunshot", None),        # an effects folder
    ("misc_bass", "depth_bass_drum", None),
])
def test_names_give_labels(folder, name, expected):
    assert preset_label(folder, name) == expected


def _write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="latin-1")


def test_a_folder_of_presets_renders_as_a_labelled_corpus(tmp_path):
    root = tmp_path / "drumsynth"
    _write(root, "kitA/Kick.ds", patch(tone=tone(300, 50, droop=60)))
    _write(root, "kitA/Snare.ds", patch(tone=tone(200, 180), rest=OFF.replace(
        "[Noise]\nOn=0", "[Noise]\nOn=1\nLevel=90\nSlope=20\nEnvelope=0,100 3000,0")))
    _write(root, "kitB/Hat_c.ds", patch(rest=OFF.replace(
        "[Noise]\nOn=0", "[Noise]\nOn=1\nLevel=90\nSlope=80\nEnvelope=0,100 1500,0")))
    _write(root, "kitB/Silent_tom.ds", patch())                      # nothing on: silent
    _write(root, "kitB/Broken_snare.ds", "[General]\nVersion=nope\n")  # not a patch
    _write(root, "kitB/Boom.ds", patch(tone=tone(60, 60)))           # no class in its name
    _write(root, "effects/Laser_kick.ds", patch(tone=tone(60, 60)))  # an effects folder
    out = render_drumsynth(tmp_path / "out", root=root, sr=22050, workers=1, progress=False)
    with open(out / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(r["label"], r["group"]) for r in rows} == {
        ("kick", "drumsynth:kitA"), ("snare", "drumsynth:kitA"), ("hihat", "drumsynth:kitB")}
    assert {r["source"] for r in rows} == {"drumsynth"}
    for r in rows:
        y, sr = sf.read(out / r["path"])
        assert sr == 22050 and np.abs(y).max() > 0.01
    assert sorted(p.name for p in (out / "audio").iterdir()) == sorted(
        Path(r["path"]).name for r in rows)  # nothing left of the refused presets
    meta = (out / "render.json").read_text()
    assert '"kept": 3' in meta and '"rendered": 5' in meta


def test_a_missing_preset_folder_names_the_package(tmp_path):
    with pytest.raises(ConfigError, match="lmms-common"):
        plan_drumsynth(tmp_path / "nope")


def test_lmms_presets_cover_every_drum_class():
    if not Path(DRUMSYNTH_DIR).is_dir():
        pytest.skip("lmms-common is not installed")
    rows = plan_drumsynth()
    labels = {r["label"] for r in rows}
    assert labels == {"kick", "snare", "hihat", "tom", "cymbal", "clap", "perc"}
    assert len(rows) > 300 and len({r["group"] for r in rows}) > 10
    kick = render_ds((Path(DRUMSYNTH_DIR) / "tr808" / "Kick.ds").read_text("latin-1"))
    assert zero_crossing_hz(kick[4410:8820]) == pytest.approx(48, rel=0.05)  # its F2
