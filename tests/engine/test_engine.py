"""The whole engine on real files: matches, triggers, silence, bad samples, timing."""

import numpy as np
import pytest
import soundfile as sf

from rtsim.errors import ConfigError, LibraryError
from tests.engine.helpers import SR, run_file, write_clip

NOTES = [(0.3, "organ", 60), (1.5, "pluck", 72), (2.7, "marimba", 48), (3.9, "bell", 60),
         (5.1, "organ", 48), (6.3, "pluck", 60)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.wav", NOTES, seconds=7.5)


@pytest.fixture(scope="module")
def run(clip, one_shot_library):
    return run_file(clip, one_shot_library)


def _clip_time(col, ev):
    """Seconds into the clip (the first hop ends one 50-ms frame after the start)."""
    return ev.capture_time - col.hops[0].capture_time + 0.05


def test_matches_name_the_family_that_plays(run):
    col, _ = run
    checked = correct = 0
    for ev in col.hops:
        t = _clip_time(col, ev)
        playing = [n for n in NOTES if n[0] + 0.1 <= t <= n[0] + 0.6]
        if not playing or ev.silent:
            continue
        checked += 1
        correct += ev.names[0] == f"{playing[0][1]}/{playing[0][1]}_{playing[0][2]}"
    assert checked > 40
    assert correct / checked >= 0.9  # the very sample that plays


def test_every_note_triggers_once_with_its_sample(run):
    col, _ = run
    assert len(col.triggers) == len(NOTES)
    for tr, (onset, _, _) in zip(col.triggers, NOTES, strict=True):
        assert tr.capture_time - col.hops[0].capture_time + 0.05 == pytest.approx(onset, abs=0.02)
        assert -30 < tr.level_db < 0
    assert [tr.name for tr in col.triggers] == [f"{f}/{f}_{m}" for _, f, m in NOTES]


def test_matches_carry_the_file_to_play(run, one_shot_library):
    """Each match names its sound file (absolute, on disk), offset and length: a receiver
    can load and play it; a trigger carries its match's file."""
    from pathlib import Path

    col, _ = run
    searched = [ev for ev in col.hops if not ev.silent]
    assert searched
    for ev in searched:
        assert len(ev.files) == ev.k
        for name, (path, offset, length) in zip(ev.names, ev.files, strict=True):
            p = Path(path)
            assert p.is_absolute() and p.is_file()
            assert f"{p.parent.name}/{p.stem}" == name  # one-shots: the file is the name
            assert offset == 0.0 and 0.5 < length < 2.0
    for tr in col.triggers:
        assert Path(tr.file).stem == tr.name.split("/")[-1] and tr.length_s > 0.5
    silent = [ev for ev in col.hops if ev.silent]
    assert all(ev.files == () for ev in silent)


def test_hops_are_complete_ordered_and_finite(run):
    col, engine = run
    seqs = [ev.seq for ev in col.hops]
    assert seqs == list(range(len(seqs)))
    assert len(seqs) == pytest.approx(7.5 * 20, abs=2)  # one hop per 50-ms frame
    times = np.array([ev.capture_time for ev in col.hops])
    np.testing.assert_allclose(np.diff(times), 0.05, atol=1e-3)
    for ev in col.hops:
        assert np.isfinite(ev.vector).all() and np.isfinite(ev.xyz).all()
        assert ev.vector.shape == (32,) and ev.xyz.shape == (3,)
        if not ev.silent:
            assert ev.k == 3 and (ev.ids >= 0).all() and np.all(np.diff(ev.distances) >= 0)
    status = col.status[-1]
    assert status.hops == len(col.hops) and status.missed_hops == 0
    assert engine.timer.stages["hop"].n > 0 and col.closed is False


def test_silence_skips_the_search_and_says_so(run):
    col, _ = run
    silent = [ev for ev in col.hops if ev.silent]
    assert silent, "the clip has gaps between notes"
    for ev in silent:
        assert ev.k == 0 and ev.names == () and ev.level_db < -60
    assert col.status[-1].counters["silent_hops"] == len(silent)


def test_each_hop_is_gated_by_the_audio_it_ends_on(tmp_path, pca_library):
    """A read that completes several hops (a file, or a late real-time read) gates each by
    its own audio: a click's hop is not silenced by the silence read after it."""
    x = np.zeros(SR * 4, np.float32)
    k = int(0.002 * SR)
    for onset in (0.5, 1.3, 2.1, 2.9):  # 2-ms clicks, 0.8 s apart
        i = int(onset * SR)
        x[i : i + k] = 0.8 * np.random.default_rng(i).uniform(-1, 1, k)
    sf.write(tmp_path / "clicks.wav", x, SR, subtype="FLOAT")
    runs = [run_file(tmp_path / "clicks.wav", pca_library[0],
                     patch={"engine": {"read_block": block}})[0] for block in (256, 16384)]
    small, large = ([(round(ev.capture_time - col.hops[0].capture_time, 4), ev.silent,
                      ev.names, round(ev.level_db, 3)) for ev in col.hops] for col in runs)
    assert large == small
    heard = [h for h in small if not h[1]]
    assert 4 <= len(heard) <= 12 and all(h[3] > -60 for h in heard)  # each click, not more


def test_nan_inf_and_dc_input_never_reach_the_wire(tmp_path, pca_library):
    x = np.zeros(SR * 3, np.float32)
    x[: SR] = 0.4  # DC
    x[SR : 2 * SR] = 0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
    x[SR + 100 : SR + 300] = np.nan
    x[SR + 500] = np.inf
    x[2 * SR :] = -np.inf
    sf.write(tmp_path / "bad.wav", x, SR, subtype="FLOAT")
    # load_audio would repair the file; stream it raw through the file source instead
    col, engine = run_file(tmp_path / "bad.wav", pca_library[0])
    assert engine.status().bad_samples == 200 + 1 + SR
    for ev in col.hops:
        assert np.isfinite(ev.vector).all() and np.isfinite(ev.xyz).all()
        assert np.isfinite(ev.distances).all() and np.isfinite(ev.level_db)


def test_realtime_pacing_and_no_missed_hops(clip, pca_library):
    col, engine = run_file(clip, pca_library[0], overrides=["source.realtime=true"],
                           patch={"source": {"path": str(clip)}})
    s = engine.status()
    assert s.missed_hops == 0 and s.dropped_samples == 0
    assert engine.timer.stages["hop"].percentile(50) < 0.05


def test_bad_configuration_is_refused_with_the_value(tmp_path, clip, pca_library):
    with pytest.raises(ConfigError, match="channel=3"):
        run_file(clip, pca_library[0], patch={"embedder": [
            {"name": "pca", "library": str(pca_library[0]), "channel": 3}]})
    with pytest.raises(LibraryError, match="not found"):
        run_file(clip, tmp_path / "no-library")


def test_update_divisor_gives_more_hops_of_the_same_embeddings(clip, one_shot_library, run):
    """4 embeddings per trained frame; every 4th equals the undivided run's (same frames)."""
    col1, _ = run
    col4, _ = run_file(clip, one_shot_library, patch={"embedder": [
        {"name": "pca", "library": str(one_shot_library), "k": 3, "update_divisor": 4}]})
    assert len(col4.hops) == pytest.approx(4 * len(col1.hops), abs=4)
    # stream time of each hop's newest sample: the first hop ends one (fine) frame in
    t1 = {round(ev.capture_time - col1.hops[0].capture_time + 0.05, 4): ev for ev in col1.hops}
    t4 = {round(ev.capture_time - col4.hops[0].capture_time + 0.0125, 4): ev for ev in col4.hops}
    common = sorted(set(t1) & set(t4))
    assert len(common) > 0.9 * len(col1.hops)
    for t in common:
        np.testing.assert_allclose(t4[t].vector, t1[t].vector, rtol=1e-3, atol=1e-3)
    with pytest.raises(ConfigError, match="update_divisor=3 does not divide"):
        run_file(clip, one_shot_library, patch={"embedder": [
            {"name": "pca", "library": str(one_shot_library), "update_divisor": 3}]})


def test_an_engine_that_has_not_hopped_reports_no_latency(tmp_path, one_shot_library):
    from rtsim.engine.config import load_config
    from rtsim.engine.wiring import build_engine

    cfg = load_config(None, patch={
        "source": {"kind": "synth", "signal": "sine:440"},
        "embedder": [{"name": "pca", "library": str(one_shot_library)}],
        "osc": {"enabled": False}, "zmq": {"enabled": False}, "engine": {"device": "cpu"},
        "control": {"port": 0, "zmq_endpoint": None}})
    engine = build_engine(cfg)
    try:
        assert engine.status().latency_ms == {}
    finally:
        engine.stop()
