"""STK's drum rawwaves: the headerless format read right, ten labelled hits rendered."""

import numpy as np
import pytest
import soundfile as sf

from rtsim.errors import ConfigError
from rtsim.training.data.oneshots import read_labels, render_oneshots
from rtsim.training.data.stk import STK_DIR, STK_HITS, plan_stk, read_rawwave, render_stk


def _rawwave(path, y):
    path.write_bytes((np.asarray(y) * 32768).round().astype(">i2").tobytes())


def test_rawwaves_are_16_bit_big_endian(tmp_path):
    y = np.array([0.0, 0.5, -0.25, -1.0, 0.999969482421875])
    _rawwave(tmp_path / "x.raw", y)
    assert (tmp_path / "x.raw").read_bytes()[2:4] == b"\x40\x00"  # 0.5, high byte first
    np.testing.assert_array_equal(read_rawwave(tmp_path / "x.raw"), y.astype(np.float32))
    (tmp_path / "odd.raw").write_bytes(b"\0\0\0")
    with pytest.raises(ConfigError, match="3 bytes"):
        read_rawwave(tmp_path / "odd.raw")


def _kit(root, stems):
    root.mkdir(parents=True, exist_ok=True)
    t = np.arange(2205) / 22050
    for i, stem in enumerate(stems):
        _rawwave(root / f"{stem}.raw", 0.5 * np.sin(2 * np.pi * (100 + 50 * i) * t)
                 * np.exp(-t * 30))
    _rawwave(root / "sinewave.raw", np.sin(2 * np.pi * np.arange(256) / 256))  # a table
    return root


def test_drum_hits_only_one_kit_labelled_by_name(tmp_path):
    root = _kit(tmp_path / "rawwaves", ["bassdrum", "hihatcym", "tambourn"])
    rows = plan_stk(root)
    assert [(r["label"], r["detail"]) for r in rows] == [
        ("kick", "kick"), ("hihat", "hihat"), ("perc", "tambourine")]
    assert {r["group"] for r in rows} == {"stk:drummer"}
    assert set(STK_HITS) >= {"bassdrum", "snardrum", "hihatcym", "crashcym", "ridecymb"}
    with pytest.raises(ConfigError, match="apt-get install stk"):
        plan_stk(tmp_path / "nope")
    with pytest.raises(ConfigError, match="none of"):
        plan_stk(_kit(tmp_path / "empty", []))


def test_render_writes_wav_at_the_corpus_rate_and_drops_silence(tmp_path):
    root = _kit(tmp_path / "rawwaves", ["bassdrum", "snardrum"])
    _rawwave(root / "crashcym.raw", np.zeros(100))
    out = render_stk(tmp_path / "out", root=root, sr=44100)
    rows = read_labels(out / "labels.csv")
    assert [r["label"] for r in rows] == ["kick", "snare"]
    y, sr = sf.read(out / rows[0]["path"])
    assert sr == 44100 and abs(len(y) - 2 * 2205) <= 2
    assert 0.4 < np.abs(y).max() < 0.6
    assert not (out / "audio" / "stk-crashcym.wav").exists()


@pytest.mark.skipif(not (STK_DIR / "bassdrum.raw").is_file(), reason="Debian stk not installed")
def test_the_installed_package(tmp_path):
    out = render_oneshots(tmp_path / "stk", soundfont="stk", source="stk", progress=False)
    rows = read_labels(out / "labels.csv")
    assert len(rows) == 10 and {r["label"] for r in rows} == {
        "kick", "snare", "hihat", "tom", "cymbal", "perc"}
