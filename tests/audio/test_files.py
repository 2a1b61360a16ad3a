from __future__ import annotations

import logging
import time

import numpy as np
import pytest
import soundfile as sf

from rtsim.audio.files import FileSource, load_audio
from rtsim.audio.open import open_source
from rtsim.audio.resample import Resampler
from rtsim.audio.ring import RingBuffer
from rtsim.audio.sources import SourceConfig
from rtsim.audio.synth import synth_signal
from rtsim.errors import AudioFileError
from tests.audio.helpers import drain

SR = 16000


def stereo(n: int) -> np.ndarray:
    left = synth_signal("sine:440", sr=SR, n=n, amplitude=0.5)
    right = synth_signal("noise", sr=SR, n=n, amplitude=0.25)
    return np.stack([left, right], axis=1)


def write(path, data, sr=SR, **kw):
    sf.write(path, data, sr, **kw)
    return str(path)


@pytest.mark.parametrize(
    ("ext", "subtype", "atol"),
    [("wav", "FLOAT", 0), ("flac", "PCM_16", 1 / 32768), ("ogg", None, None)],
)
def test_load_audio_formats(tmp_path, ext, subtype, atol):
    data = stereo(SR // 2)
    path = write(tmp_path / f"a.{ext}", data, subtype=subtype)
    y, sr = load_audio(path, mono=False)
    assert sr == SR and y.dtype == np.float32 and y.shape == (2, SR // 2)
    if atol is None:  # lossy: the tone survives
        assert np.corrcoef(y[0], data[:, 0])[0, 1] > 0.99
    else:
        np.testing.assert_allclose(y, data.T, atol=atol)
    mono, _ = load_audio(path)
    assert mono.shape == (SR // 2,)
    np.testing.assert_allclose(mono, y.mean(axis=0), atol=1e-6)


def test_load_audio_resamples_aligned(tmp_path):
    path = write(tmp_path / "a.wav", synth_signal("sine:440", sr=48000, n=24000), sr=48000,
                 subtype="FLOAT")  # fmt: skip
    y, sr = load_audio(path, sr=SR)
    assert sr == SR and len(y) == 8000
    ref = synth_signal("sine:440", sr=SR, n=8000)
    np.testing.assert_allclose(y[100:-100], ref[100:-100], atol=2e-3)


def bad_files(tmp_path):
    (tmp_path / "random.wav").write_bytes(np.random.default_rng(0).bytes(4000))
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not audio at all\n" * 20)
    (tmp_path / "adir.wav").mkdir()
    write(tmp_path / "zero.wav", np.zeros((0, 1), np.float32))
    return {
        "random.wav": "unreadable",
        "empty.wav": "empty file",
        "notes.txt": "unreadable",
        "missing.wav": "no such file",
        "adir.wav": "not a regular file",
        "zero.wav": "no samples",
    }


def test_bad_files_name_the_path_and_reason(tmp_path):
    for name, reason in bad_files(tmp_path).items():
        path = str(tmp_path / name)
        with pytest.raises(AudioFileError, match=reason) as err:
            load_audio(path)
        assert repr(path) in str(err.value)
        with pytest.raises(AudioFileError, match=reason):
            open_source(SourceConfig(kind="file", path=path))


def test_nonfinite_samples_are_zeroed_counted_and_logged(tmp_path, caplog):
    data = np.full(1000, 0.25, np.float32)
    data[[3, 10, 500]] = [np.nan, np.inf, -np.inf]
    path = write(tmp_path / "bad.wav", data, subtype="FLOAT")
    with caplog.at_level(logging.WARNING, logger="rtsim.audio.files"):
        loaded = load_audio(path)
    y, sr = loaded
    assert loaded.nonfinite == 3 and np.all(np.isfinite(y))
    assert y[3] == y[10] == y[500] == 0 and y[4] == np.float32(0.25)
    assert path in caplog.text and "3 NaN/Inf" in caplog.text
    src = open_source(SourceConfig(kind="file", path=path, realtime=False))
    ring = RingBuffer(2000, 1, sr=SR)
    src.start(ring)
    got, _ = drain(ring, n=1000)
    src.stop()
    np.testing.assert_array_equal(got[:, 0], y)
    assert src.stats()["nonfinite"] == 3


def test_file_source_loses_nothing_into_a_small_ring(tmp_path):
    data = np.concatenate([stereo(5000), -stereo(5000)[:, :1]], axis=1)  # 3 channels
    path = write(tmp_path / "a.wav", data, subtype="FLOAT")
    cfg = SourceConfig(kind="file", path=path, channels=(2, 0), block=333, realtime=False)
    src = open_source(cfg)
    assert isinstance(src, FileSource) and (src.sr, src.channels) == (SR, 2)
    ring = RingBuffer(256, 2, sr=SR, policy="drop_oldest")  # smaller than a block
    src.start(ring)
    got, _ = drain(ring, n=10_000, chunk=100, done=lambda: src.finished)
    src.stop()
    np.testing.assert_array_equal(got, data[:, [2, 0]])
    assert src.finished and ring.dropped == 0 and src.stats()["frames"] == 5000


def test_file_source_rejects_a_missing_channel(tmp_path):
    path = write(tmp_path / "a.wav", stereo(100))
    with pytest.raises(AudioFileError, match="channel 2 requested, file has 2") as err:
        open_source(SourceConfig(kind="file", path=path, channels=(0, 2)))
    assert repr(path) in str(err.value)


def test_realtime_pacing_of_half_a_second(tmp_path):
    path = write(tmp_path / "a.flac", stereo(SR // 2))
    src = open_source(SourceConfig(kind="file", path=path, block=256))
    ring = RingBuffer(SR, 1, sr=SR)
    t0 = time.monotonic()
    src.start(ring)
    got, _ = drain(ring, n=SR, done=lambda: src.finished)
    elapsed = time.monotonic() - t0
    src.stop()
    assert len(got) == SR // 2
    assert 0.45 <= elapsed <= 0.9, f"took {elapsed:.3f} s"


def test_loop_repeats_the_file(tmp_path):
    data = stereo(1000)
    path = write(tmp_path / "a.wav", data, subtype="FLOAT")
    src = open_source(SourceConfig(kind="file", path=path, loop=True, realtime=False, block=300))
    ring = RingBuffer(512, 1, sr=SR)
    src.start(ring)
    got, _ = drain(ring, n=3500)
    src.stop()
    np.testing.assert_array_equal(got[:, 0], np.tile(data[:, 0], 4)[:3500])
    assert not src.finished and src.stats()["loops"] >= 3


def test_file_source_resamples_like_the_offline_resampler(tmp_path):
    x = synth_signal("sweep:100-20000:0.5", sr=48000, n=24000)
    path = write(tmp_path / "a.wav", x, sr=48000, subtype="FLOAT")
    src = open_source(SourceConfig(kind="file", path=path, rate=SR, realtime=False, block=777))
    assert src.sr == SR
    ring = RingBuffer(SR, 1, sr=SR)
    src.start(ring)
    got, _ = drain(ring, n=8000, done=lambda: src.finished)
    src.stop()
    np.testing.assert_array_equal(got[:, 0], Resampler(sr_in=48000, sr_out=SR).offline(x))
