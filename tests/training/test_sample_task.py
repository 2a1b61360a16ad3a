"""The ``sample`` task: frames as the live stream sees them, placement, a short run."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from rtsim.demo.sounds import render_note
from rtsim.embed import get
from rtsim.errors import ConfigError
from rtsim.features import make_frontend
from rtsim.models.sample import SPEC
from rtsim.training.config import load_train_config
from rtsim.training.tasks import make_task
from rtsim.training.tasks.sample import window_frames
from rtsim.training.tasks.tables import SampleLoss
from rtsim.training.trainer import train

SR = 22050


def test_window_frames_are_the_live_streams_frames():
    fe = make_frontend(SPEC.frontend)
    p = fe.properties
    x = np.random.default_rng(0).normal(scale=0.1, size=SR).astype(np.float32)
    ref = fe.offline(x, primed=True).numpy()
    primed = np.concatenate([np.zeros(fe.primed_length, np.float32), x])
    span = (SPEC.window - 1) * p.hop_length + p.window_length
    t0 = 10
    row = primed[t0 * p.hop_length : t0 * p.hop_length + span][None]
    got = window_frames(fe, row, SPEC.window)
    np.testing.assert_allclose(got[0], ref[t0 : t0 + SPEC.window], rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def tiny_package(tmp_path_factory):
    """An LMMS-layout folder: drums/<class>NN and instruments/<name>NN, synthetic."""
    root = tmp_path_factory.mktemp("lmms")
    files = {"drums/kick": "kick", "drums/snare": "snare", "drums/hihat_closed": "hat",
             "instruments/piano": "pluck", "instruments/church_organ": "organ",
             "instruments/flute": "flute"}
    for stem, family in files.items():
        for n in range(4):
            path = root / f"{stem}{n:02d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, render_note(family, midi=50 + 3 * n, seconds=0.6, sr=SR, seed=n), SR)
    return root


def _cfg(tmp_path, root, leave_out="", loss="", train=None, model=""):
    p = tmp_path / "train.toml"
    p.write_text(f"""
[model]
task = "sample"
{model}
[model.kwargs]
channels = [4, 8, 8, 8]
hidden = 16
dim = 8
[data]
train = {train or f'[{{ kind = "package", name = "lmms", path = "{root}", source = "tiny" }}]'}
leave_out = "{leave_out}"
validation_fraction = 0.0
[train]
steps = 4
batch = 6
eval_every = 2
device = "cpu"
threads = 1
[loss]
m = 2
temperature = 0.2
max_lag_s = 0.5
{loss}
""")
    return load_train_config(p)


def test_placement_puts_the_onset_lag_samples_before_the_window_end(tiny_package, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    task = make_task(_cfg(tmp_path, tiny_package), progress=False)
    views = task.clips
    clips = views.train_set
    assert len(clips.labels) == 24 and set(clips.labels) >= {"drum:kick", "note:organ"}
    w = views.place(clips, np.array([0, 0]), np.array([1000, 5000]))
    assert w.shape == (2, views.span)
    for row, lag in zip(w, (1000, 5000), strict=True):
        first = int(np.argmax(np.abs(row) > 0))
        assert views.span - lag <= first <= views.span - lag + 120
        np.testing.assert_array_equal(row[views.span - lag:][:200],
                                      clips.audio[0][: min(200, lag)].astype(np.float32))


def test_a_short_run_is_an_embedder(tiny_package, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    cfg = _cfg(tmp_path, tiny_package)
    task = make_task(cfg, progress=False)
    run = tmp_path / "run"
    result = train(task, cfg, run, progress=False)
    assert result.steps == 4
    emb = get(str(run)).load()
    assert emb.spec.name == "sample" and emb.spec.metric == "cosine"
    out = emb(np.zeros((3, 64, 64), np.float32) + np.linspace(0, 3, 64, dtype=np.float32))
    assert out.shape == (3, 8) and np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)


def test_a_frontend_table_trains_and_records_another_rate(tiny_package, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    cfg = _cfg(tmp_path, tiny_package,
               model="frontend = { sr = 44100, n_fft = 2048, hop_length = 512 }")
    task = make_task(cfg, progress=False)
    assert task.clips.sr == 44100 and task.spec.frontend.n_fft == 2048
    # the same 0.74 s window at twice the rate; the clips are read at the new rate
    assert task.clips.span == 63 * 512 + 2048
    assert task.clips.train_set.audio.shape[1] == int(1.5 * 44100)
    run = tmp_path / "run"
    train(task, cfg, run, progress=False)
    spec = json.loads((run / "spec.json").read_text())
    assert spec["frontend"]["sr"] == 44100 and spec["frontend"]["hop_length"] == 512
    emb = get(str(run)).load()
    assert emb.spec.frontend.sr == 44100 and emb.spec.frontend.fmin == SPEC.frontend.fmin
    assert SPEC.frontend.sr == 22050  # the shipped spec is untouched


def test_a_frontend_table_names_its_unknown_fields_and_other_tasks_refuse_it(
        tiny_package, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['rate'\] in \[model\.frontend\]"):
        make_task(_cfg(tmp_path, tiny_package, model="frontend = { rate = 44100 }"),
                  progress=False)
    with pytest.raises(ConfigError, match=r"model\.frontend\.sr='fast' must be"):
        make_task(_cfg(tmp_path, tiny_package, model='frontend = { sr = "fast" }'),
                  progress=False)
    with pytest.raises(ConfigError, match=r"\[model\.frontend\].*n_fft=8"):
        make_task(_cfg(tmp_path, tiny_package, model="frontend = { n_fft = 8 }"),
                  progress=False)
    p = tmp_path / "timbre.toml"
    p.write_text('[model]\ntask = "timbre"\nfrontend = { sr = 44100 }\n')
    with pytest.raises(ConfigError, match="frontend is read by the tasks.*not 'timbre'"):
        load_train_config(p)


def test_leave_out_must_name_a_source(tiny_package, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ConfigError, match="names no source.*tiny"):
        make_task(_cfg(tmp_path, tiny_package, leave_out="fluid"), progress=False)
    with pytest.raises(ConfigError, match="no training clips"):
        make_task(_cfg(tmp_path, tiny_package, leave_out="tiny"), progress=False)


def test_the_timbre_map_trains_on_augmented_one_shot_notes(tiny_package, tmp_path, monkeypatch):
    """``[loss] mode = "clips"``: notes only, instrument + family triplets, a 3-D map."""
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    p = tmp_path / "timbre.toml"
    p.write_text(f"""
[model]
task = "timbre"
[model.kwargs]
channels = [4, 4, 4]
hidden = 8
[data]
train = [{{ kind = "package", name = "lmms", path = "{tiny_package}", source = "tiny" }}]
validation_fraction = 0.0
[train]
steps = 3
batch = 6
eval_every = 3
device = "cpu"
threads = 1
[loss]
mode = "clips"
m = 2
margin = 0.5
max_lag_s = 0.5
""")
    cfg = load_train_config(p)
    task = make_task(cfg, progress=False)
    labels = set(task.clips.train_set.labels)
    assert labels == {"note:keyboard", "note:organ", "note:flute"}  # the drums are not notes
    run = tmp_path / "run"
    result = train(task, cfg, run, progress=False)
    assert result.steps == 3
    emb = get(str(run)).load()
    assert emb.spec.name == "timbre" and emb.spec.dim == 3 and emb.spec.metric == "l2"
    assert emb(np.zeros((2, 8, 192), np.float32)).shape == (2, 3)
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"family_acc_other_programs", "program_acc"} <= set(metrics[-1])


DRY = ("augment = { gain_db = [0.0, 0.0], p_eq = 0.0, p_reverb = 0.0, p_noise = 0.0, "
       "p_varispeed = 0.0, p_quantize = 0.0, p_lossy = 0.0, p_invert = 0.0 }")


def test_augment_for_a_kind_changes_only_that_kinds_views(tiny_package, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    cfg = _cfg(tmp_path, tiny_package, loss=DRY + "\naugment_for = { drum = { p_decay = 1.0, "
               "decay_s = [0.01, 0.01] } }")
    views = make_task(cfg, progress=False).clips
    labels = views.train_set.labels
    idx = np.arange(len(labels))
    lags = np.full(len(idx), int(0.4 * SR))
    got = views.augmented(idx, lags, np.random.default_rng(0), "cpu").numpy()
    dry = window_frames(views.fe, views.place(views.train_set, idx, lags), views.spec.window)
    drum = np.char.startswith(labels.astype(str), "drum:")
    assert drum.sum() == 12 and (~drum).sum() == 12
    np.testing.assert_allclose(got[~drum], dry[~drum], atol=1e-5)   # notes: the dry chain
    # drums: damped with a 10 ms time constant, 0.4 s on nothing of the hit is left
    assert np.all(np.abs(got[drum] - dry[drum]).max(axis=(1, 2)) > 0.1)


def test_augment_for_a_class_overrides_its_kind(tiny_package, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    cfg = _cfg(tmp_path, tiny_package, loss=DRY + "\naugment_for = { drum = { p_decay = 1.0, "
               "decay_s = [0.01, 0.01] }, 'drum:hihat' = { p_decay = 0.0 } }")
    views = make_task(cfg, progress=False).clips
    labels = views.train_set.labels.astype(str)
    idx = np.arange(len(labels))
    lags = np.full(len(idx), int(0.4 * SR))
    got = views.augmented(idx, lags, np.random.default_rng(0), "cpu").numpy()
    dry = window_frames(views.fe, views.place(views.train_set, idx, lags), views.spec.window)
    hat = labels == "drum:hihat"
    damped = np.char.startswith(labels, "drum:") & ~hat
    assert hat.sum() == 4 and damped.sum() == 8
    np.testing.assert_allclose(got[~damped], dry[~damped], atol=1e-5)  # hats as notes: dry
    assert np.all(np.abs(got[damped] - dry[damped]).max(axis=(1, 2)) > 0.1)


def test_augment_for_names_only_known_kinds():
    with pytest.raises(ConfigError, match=r"augment_for has unknown kind\(s\) \['perc'\]"):
        SampleLoss(augment_for={"perc": {"p_decay": 0.5}})
    with pytest.raises(ConfigError, match=r"\['drum:', 'perc:conga'\]"):
        SampleLoss(augment_for={"perc:conga": {}, "drum:": {}, "drum:cymbal": {}})
    assert SampleLoss(augment_for={"drum:cymbal": {"p_decay": 0.0}}).augment_for


def test_a_bad_augmentation_field_is_named_before_any_audio_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    missing = tmp_path / "no-such-package"   # reading it would fail with another error
    unknown = r"unknown key\(s\) \['p_decy'\] in \[loss.augment_for.drum\]"
    with pytest.raises(ConfigError, match=unknown):
        make_task(_cfg(tmp_path, missing, loss="augment_for = { drum = { p_decy = 0.3 } }"),
                  progress=False)
    with pytest.raises(ConfigError, match=r"loss.augment.p_eq"):
        make_task(_cfg(tmp_path, missing, loss='augment = { p_eq = "often" }'), progress=False)


def test_class_proxies_train_beside_the_network_and_stay_out_of_the_weights(
        tiny_package, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    cfg = _cfg(tmp_path, tiny_package, loss="proxy = 0.5\nproxy_temperature = 0.1")
    task = make_task(cfg, progress=False)
    assert task.proxy is not None and task.proxy.proxies.shape == (
        len(task.clips.classes), int(task.arch_kwargs["dim"]))
    model = task.build_model()
    groups = task.param_groups(model)
    assert [len(g["params"]) for g in groups] == [len(list(model.parameters())), 1]
    task.loss(model, 0, np.random.default_rng(0), "cpu").backward()
    assert task.proxy.proxies.grad.abs().sum() > 0
    run = tmp_path / "run"
    assert train(task, cfg, run, progress=False).steps == 4
    assert get(str(run)).load().spec.name == "sample"   # the weights: the network alone
    assert make_task(_cfg(tmp_path, tiny_package), progress=False).proxy is None
    with pytest.raises(ConfigError, match="proxy=-1.0 must be >= 0"):
        SampleLoss(proxy=-1.0)


def test_a_source_adversary_trains_beside_the_network_and_stays_out_of_the_weights(
        tiny_package, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    other = tmp_path / "other"
    shutil.copytree(tiny_package, other)
    two = (f'[{{ kind = "package", name = "lmms", path = "{tiny_package}", source = "a" }}, '
           f'{{ kind = "package", name = "lmms", path = "{other}", source = "b" }}]')
    cfg = _cfg(tmp_path, tiny_package, loss="adversary = 1.0", train=two)
    task = make_task(cfg, progress=False)
    assert task.clips.sources == ["a", "b"] and task.adversary is not None
    model = task.build_model()
    groups = task.param_groups(model)
    assert [len(g["params"]) for g in groups] == [len(list(model.parameters())), 4]
    task.loss(model, 0, np.random.default_rng(0), "cpu").backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in task.adversary.parameters())
    run = tmp_path / "run"
    assert train(task, cfg, run, progress=False).steps == 4
    assert get(str(run)).load().spec.name == "sample"   # the weights: the network alone
    # one source left: nothing to tell apart, no adversary
    one = make_task(_cfg(tmp_path, tiny_package, loss="adversary = 1.0", leave_out="b",
                         train=two), progress=False)
    assert one.adversary is None
    with pytest.raises(ConfigError, match="adversary=-1.0 must be >= 0"):
        SampleLoss(adversary=-1.0)
