"""The sampler in the engine: each trigger's matched sample is heard at its onset."""

import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from rtsim.audio.files import load_audio
from rtsim.errors import ConfigError
from rtsim.index import Library
from rtsim.play.bank import load_bank
from rtsim.play.config import PlayConfig
from rtsim.play.sampler import Sampler
from tests.engine.helpers import run_file, write_clip

NOTES = [(0.3, "organ", 60), (1.4, "pluck", 72), (2.5, "marimba", 48), (3.6, "bell", 60)]
RATE = 44100


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.wav", NOTES, seconds=5.0)


def _render(tmp_path, clip, library, mode):
    out = tmp_path / f"{mode}.wav"
    col, engine = run_file(clip, library, patch={"play": {
        "enabled": True, "to_file": str(out), "input_path": str(clip), "mode": mode,
        "rate": RATE}})
    sampler = next(p for p in engine.publishers if isinstance(p, Sampler))
    sampler.close()
    x, sr = sf.read(out, dtype="float32")
    return col, sampler, x, engine.source.start_time


def _ncc_near(x, ref, at, slack):
    """Best normalised cross-correlation of ``ref`` in ``x`` within ``slack`` of ``at``."""
    best = 0.0
    for i in range(max(0, at - slack), at + slack + 1):
        seg = x[i : i + len(ref)]
        if len(seg) == len(ref):
            best = max(best, float(seg @ ref / np.sqrt((ref @ ref) * (seg @ seg) + 1e-20)))
    return best


def test_each_trigger_plays_its_match_at_its_onset(tmp_path, clip, one_shot_library):
    col, sampler, x, origin = _render(tmp_path, clip, one_shot_library, "trigger")
    assert x.shape[1] == 2 and len(col.triggers) == len(NOTES)
    bank = load_bank(Library.open(one_shot_library), sr=RATE)
    for ev, note in zip(col.triggers, NOTES, strict=True):
        assert abs(ev.capture_time - origin - note[0]) < 0.03  # detected at its onset
        s, n = bank.span(ev.id)
        ref = bank.audio[s + 200 : s + min(n, 200 + RATE // 4)]  # past the fade-in
        onset = int(round((ev.capture_time - origin) * RATE))
        assert _ncc_near(x[:, 1], ref, onset + 200, 32) > 0.9, ev.name  # there, exactly
    assert sampler.stats()["played"] == len(NOTES) and sampler.stats()["xruns"] == 0
    inp, _ = load_audio(clip, sr=RATE)
    np.testing.assert_allclose(x[: len(inp), 0], inp, atol=1e-6)  # the input on channel 0


def test_follow_cross_fades_to_each_new_best_match(tmp_path, clip, one_shot_library):
    col, sampler, x, _ = _render(tmp_path, clip, one_shot_library, "follow")
    changes = sum(1 for a, b in zip(col.hops, col.hops[1:], strict=False)
                  if len(b.ids) and (not len(a.ids) or a.ids[0] != b.ids[0]))
    assert sampler.counters["followed"] >= len(NOTES) and sampler.counters["followed"] <= \
        changes + 1
    assert np.abs(x[int(0.5 * RATE) : int(1.0 * RATE), 1]).max() > 0.05  # the first note's
    assert sampler.stats()["played"] == 0


def test_off_and_mode_checks(tmp_path, clip, one_shot_library):
    col, sampler, x, _ = _render(tmp_path, clip, one_shot_library, "off")
    assert np.all(x[:, 1] == 0) and sampler.stats()["started"] == 0
    with pytest.raises(ConfigError, match="play mode='loud'"):
        PlayConfig(mode="loud")
    with pytest.raises(ConfigError, match=r"\[play\] modes names \['timbre'\]"):
        Sampler(PlayConfig(enabled=True, modes={"timbre": "off"}, to_file=str(tmp_path / "a")),
                [type("P", (), {"name": "pca", "library": Library.open(one_shot_library)})()])


def test_a_library_switch_plays_from_the_new_library(tmp_path, one_shot_library, pca_library):
    class Pipe:
        name, library = "pca", Library.open(one_shot_library)

    pipe = Pipe()
    s = Sampler(PlayConfig(enabled=True, to_file=str(tmp_path / "s.wav")), [pipe])
    first = s._bank("pca")
    pipe.library = Library.open(pca_library[0])
    second = s._bank("pca")
    assert second.count == pipe.library.count != first.count
    assert s.mixer.pools == [s.pools["pca"]]


def test_bank_counts_missing_files(tmp_path, one_shot_library, caplog):
    lib = Library.open(one_shot_library)
    lib.manifest.source["folder"] = str(tmp_path / "moved")
    with caplog.at_level("WARNING"):
        bank = load_bank(lib, sr=22050, cache=tmp_path / "c")
    assert len(bank.missing) == lib.count and bank.length.sum() == 0
    assert "could not be read and will not play" in caplog.text
    assert bank.span(10**6) == (0, 0)


def test_cli_play_to_renders_audible_matches(tmp_path, clip, one_shot_library):
    out = tmp_path / "cli.wav"
    r = subprocess.run([sys.executable, "-m", "rtsim.cli.main", "run", "--input", str(clip),
                        "--library", str(one_shot_library), "--fast", "--no-view", "--no-osc",
                        "--no-zmq", "--play-to", str(out)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    x, sr = sf.read(out, dtype="float32")
    assert sr == RATE and x.shape[1] == 2
    assert np.abs(x[:, 1]).max() > 0.05 and np.abs(x[:, 0]).max() > 0.1


def test_a_mode_change_stops_the_follow_voice_when_it_happens(tmp_path, one_shot_library):
    """In a file render the fade-out lands at the newest event's time, not at the start."""
    class Pipe:
        name, library = "pca", Library.open(one_shot_library)

    class Hop:
        embedder, silent, ids = "pca", False, np.array([3])

        def __init__(self, t):
            self.capture_time = t

    s = Sampler(PlayConfig(enabled=True, mode="follow", to_file=str(tmp_path / "f.wav")),
                [Pipe()])
    s.publish_hop(Hop(100.0))
    s.publish_hop(Hop(100.5))  # same best match: no new voice
    s.set_mode("pca", "off")
    assert [when for when, _ in s.output.requests] == [100.0, 100.5]
    assert s.counters["followed"] == 1 and s.modes["pca"] == "off"


def test_a_clock_output_plays_triggers_without_a_sound_card(one_shot_library):
    """``[play] device = "clock"``: the software-paced output mixes each trigger's match."""
    from rtsim.play.output import ClockedOutput

    class Pipe:
        name, library = "pca", Library.open(one_shot_library)

    class Trigger:
        embedder, id, level_db, capture_time = "pca", 2, -6.0, 1.0

    s = Sampler(PlayConfig(enabled=True, device="clock", rate=RATE, block=128), [Pipe()])
    try:
        assert isinstance(s.output, ClockedOutput) and s.output.latency_s == 128 / RATE
        s.publish_trigger(Trigger())
        pool = s.pools["pca"]
        for _ in range(200):
            if pool.stats()["started"]:
                break
            time.sleep(0.01)
        assert s.stats()["played"] == 1 and pool.stats()["started"] == 1
    finally:
        s.close()
