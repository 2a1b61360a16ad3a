"""Trainer and tasks end to end on tiny corpora: run folder, resume, run folder as embedder."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from rtsim.demo.sounds import render_note
from rtsim.embed import get
from rtsim.errors import ConfigError
from rtsim.training.config import load_train_config
from rtsim.training.tasks import make_task
from rtsim.training.trainer import train
from tests.training.data.conftest import needs_fluidsynth

FAMILIES = {"pluck": "guitar", "organ": "organ", "marimba": "mallet", "bell": "keyboard"}


@pytest.fixture(scope="module")
def tiny_notes(tmp_path_factory):
    """48 synthetic notes in NSynth's layout: 4 programs x 6 pitches x 2 velocities."""
    root = tmp_path_factory.mktemp("tiny-notes")
    (root / "audio").mkdir()
    examples = {}
    for program, (name, family) in enumerate(FAMILIES.items()):
        for pitch in range(48, 72, 4):
            for velocity in (50, 100):
                key = f"{family}_synthetic_{program:03d}-{pitch:03d}-{velocity:03d}"
                x = render_note(name, midi=pitch, seconds=1.5, sr=16000, velocity=velocity / 127)
                sf.write(root / "audio" / f"{key}.wav", x, 16000)
                examples[key] = {"note_str": key, "pitch": pitch, "velocity": velocity,
                                 "instrument_family_str": family, "instrument_str": key[:-8],
                                 "instrument_family": program, "program": program,
                                 "sample_rate": 16000, "qualities": [0] * 10}
    (root / "examples.json").write_text(json.dumps(examples))
    return root


def _config(tmp_path, task_toml: str):
    p = tmp_path / "train.toml"
    p.write_text(task_toml)
    return load_train_config(p)


def _timbre_toml(corpus, mode="windows", mining="batch_hard", schedule="plateau"):
    return f"""
[model]
task = "timbre"
[data]
train = {{ path = "{corpus}" }}
validation_fraction = 0.25
[train]
steps = 12
batch = 8
eval_every = 6
device = "cpu"
threads = 1
optimizer = "adam"
lr = 0.001
lr_schedule = "{schedule}"
[loss]
mode = "{mode}"
mining = "{mining}"
neighbourhoods = ["class", "pitch", "class_pitch", "class_pitch2", "family"]
m = 2
"""


@pytest.mark.parametrize("mode,mining,schedule", [("windows", "batch_hard", "plateau"),
                                                  ("trajectory", "batch_hard", "plateau"),
                                                  ("trajectory", "batch_all", "cosine")])
def test_timbre_run_folder_resume_and_embedder(tiny_notes, tmp_path, monkeypatch, mode,
                                               mining, schedule):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    cfg = _config(tmp_path, _timbre_toml(tiny_notes, mode, mining, schedule))
    task = make_task(cfg, progress=False)
    run = tmp_path / "run"
    result = train(task, cfg, run, progress=False)
    assert result.steps == 12 and result.best_step in (6, 12)
    for name in ("config.toml", "spec.json", "model.json", "best.safetensors", "manifest.json",
                 "checkpoints/last.safetensors", "checkpoints/last.json"):
        assert (run / name).is_file(), name
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [6, 12] and all("program_acc" in r for r in rows)
    for r in rows:  # both asks of the map drive model selection
        assert r["score"] == pytest.approx((r["program_acc"] + r["family_acc_other_programs"]) / 2)
    with pytest.raises(ConfigError, match="not empty"):
        train(task, cfg, run, progress=False)
    longer = load_train_config(tmp_path / "train.toml", overrides={"train": {"steps": 18}})
    again = train(make_task(longer, progress=False), longer, run, resume=True, progress=False)
    assert again.steps == 18
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [6, 12, 18]
    # the logged rate is the one the validation's last step ran with (cosine: annealed)
    assert [r["lr"] for r in rows] == pytest.approx(
        [cfg.train.lr_at(5), cfg.train.lr_at(11), longer.train.lr_at(17)])
    if schedule == "cosine":
        assert rows[0]["lr"] > rows[1]["lr"] > 0 and rows[1]["lr"] < 0.1 * cfg.train.lr
    emb = get(str(run)).load()  # the run folder is an embedder
    out = emb(np.zeros((2, 8, 192), np.float32))
    assert out.shape == (2, 3) and np.isfinite(out).all()
    assert json.loads((run / "manifest.json").read_text())["weights_hash"] == emb.weights_hash


def test_weight_average_is_what_is_validated_kept_and_resumed(tiny_notes, tmp_path,
                                                             monkeypatch, caplog):
    from rtsim.embed import load_state

    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    toml = _timbre_toml(tiny_notes).replace("threads = 1", "threads = 1\nema = 0.5")
    cfg = _config(tmp_path, toml)
    run = tmp_path / "run"
    result = train(make_task(cfg, progress=False), cfg, run, progress=False)
    ema = load_state(run / "checkpoints" / "ema.safetensors")
    last = load_state(run / "checkpoints" / "last.safetensors")
    assert json.loads((run / "checkpoints" / "last.json").read_text())["meta"]["ema_updates"] == 12
    key = next(iter(ema))
    assert not torch.equal(ema[key], last[f"model.{key}"])  # the average, not the last step
    if result.best_step == 12:
        best = load_state(run / "best.safetensors")
        assert all(torch.equal(best[k], ema[k]) for k in ema)
    # resumed for 6 more steps, the average goes on from the saved one (a restarted
    # average would count 6 updates)
    longer = load_train_config(tmp_path / "train.toml", overrides={"train": {"steps": 18}})
    train(make_task(longer, progress=False), longer, run, resume=True, progress=False)
    assert json.loads((run / "checkpoints" / "last.json").read_text())["meta"]["ema_updates"] == 18
    # a run begun without an average and resumed with one: the average restarts, said so
    plain = tmp_path / "plain"
    cfg0 = _config(tmp_path, _timbre_toml(tiny_notes))
    train(make_task(cfg0, progress=False), cfg0, plain, progress=False)
    with caplog.at_level("WARNING", logger="rtsim.training.trainer"):
        train(make_task(longer, progress=False), longer, plain, resume=True, progress=False)
    assert "no saved weight average" in caplog.text
    assert json.loads((plain / "checkpoints" / "last.json").read_text())["meta"]["ema_updates"] == 6
    with pytest.raises(ConfigError, match="train.ema"):
        _config(tmp_path, toml.replace("ema = 0.5", "ema = 1.0"))


def test_run_folder_indexes_a_library(tiny_notes, tmp_path, monkeypatch):
    from rtsim.index import Library
    from rtsim.index.build import build_library

    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    cfg = _config(tmp_path, _timbre_toml(tiny_notes))
    run = tmp_path / "run"
    train(make_task(cfg, progress=False), cfg, run, progress=False)
    build_library(tiny_notes / "audio", tmp_path / "lib", plugin=get(str(run)), progress=False)
    lib = Library.open(tmp_path / "lib")
    lib.load_embedder(get(str(run)))  # same weights: accepted
    assert lib.count == 48 and lib.manifest.embedder == "timbre"


@needs_fluidsynth
def test_stem_task_trains_on_rendered_pieces(tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    from rtsim.training.data.songs import render_songs

    songs = render_songs(tmp_path / "songs", soundfont="timgm6mb", seed=1, size=6, seconds=10,
                         workers=1, progress=False)
    cfg = _config(tmp_path, f"""
[model]
task = "stem"
[model.kwargs]
role = "bass"
channels = [4, 8, 8, 16]
[data]
train = {{ path = "{songs}" }}
validation_fraction = 0.3
[train]
steps = 4
batch = 4
eval_every = 2
optimizer = "adam"
lr = 0.001
device = "cpu"
threads = 1
""")
    task = make_task(cfg, progress=False)
    result = train(task, cfg, tmp_path / "run", progress=False)
    assert result.steps == 4
    emb = get(str(tmp_path / "run")).load()
    v = emb(np.zeros((1, 129, 128), np.float32))
    assert v.shape == (1, 128) and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-4)


def test_cosine_schedule():
    from rtsim.training.config import Schedule

    s = Schedule(steps=100, lr=0.01, lr_schedule="cosine", min_lr_ratio=0.1)
    assert s.lr_at(0) == pytest.approx(0.01) and s.lr_at(100) == pytest.approx(0.001)
    assert s.lr_at(50) == pytest.approx(0.0055)  # half way: the mean of the two ends
    lrs = [s.lr_at(i) for i in range(101)]
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))
    assert Schedule(steps=100, lr=0.01).lr_at(99) == 0.01  # plateau: the base rate
    for bad, match in (({"lr_schedule": "step"}, "lr_schedule='step'"),
                       ({"min_lr_ratio": 2.0}, "min_lr_ratio=2.0"),
                       ({"lr_schedule": "cosine", "plateau_patience": 3}, "plateau_patience")):
        with pytest.raises(ConfigError, match=match):
            Schedule(**bad)


def test_bad_training_configs(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[model]\ntask = 'timbre'\n[train]\nstep = 3\n")
    with pytest.raises(ConfigError,
                       match=r"bad.toml: unknown key\(s\) \['step'\] in \[training config.train\]"):
        load_train_config(p)
    p.write_text("[model]\ntask = 'tempo'\n")
    with pytest.raises(ConfigError, match="unknown task 'tempo'"):
        make_task(load_train_config(p))
    # [loss] keys written after the [eval] heading belong to [eval]: refused, not ignored
    p.write_text("[model]\ntask = 'timbre'\n[eval]\nheldout = { size = 3 }\n"
                 "mode = 'trajectory'\n")
    with pytest.raises(ConfigError,
                       match=r"unknown key\(s\) \['mode'\] in \[training config.eval\]"):
        load_train_config(p)
    # [loss] is typed by its task (and timbre's mode): a typo, a wrong type or an unknown
    # option names itself when the file is read, before any data is loaded
    p.write_text("[model]\ntask = 'timbre'\n[loss]\nmining = 'batch_all'\nfamily_wieght = 1\n")
    with pytest.raises(ConfigError, match=r"bad.toml: unknown key\(s\) \['family_wieght'\] "
                       r"in \[loss\]; known: \['family_weight'"):
        load_train_config(p)
    p.write_text("[model]\ntask = 'timbre'\n[loss]\nmode = 'clips'\nmargin_pos = 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['margin_pos'\] in \[loss\]"):
        load_train_config(p)  # a key of the notes modes, not of clips
    p.write_text("[model]\ntask = 'sample'\n[loss]\nm = 'four'\nclasses = { hat = 2 }\n")
    with pytest.raises(ConfigError, match=r"loss.m='four' must be int"):
        load_train_config(p)
    p.write_text("[model]\ntask = 'disentangled'\n[loss]\nmining = 'hardest'\n")
    with pytest.raises(ConfigError, match=r"\[loss\] mining='hardest' must be one of"):
        load_train_config(p)
    p.write_text("[model]\ntask = 'sample'\n[loss]\nclasses = { hat = 2 }\n")
    with pytest.raises(ConfigError, match=r"classes has unknown group\(s\) \['hat'\]"):
        load_train_config(p)
    p.write_text("[model]\ntask = 'timbre'\n[train]\nsteps = 'many'\nlr = nan\n[extra]\n")
    with pytest.raises(ConfigError) as err:  # every error at once, each naming its key
        load_train_config(p)
    assert "['extra']" in str(err.value) and "train.steps='many'" in str(err.value)
    assert "train.lr=nan must be a finite number" in str(err.value)


@pytest.mark.parametrize("path", sorted(Path(__file__).parents[2].glob("models/*/*.toml")))
def test_shipped_training_configs_are_valid(path):
    from rtsim.training.tasks.tables import TABLES

    cfg = load_train_config(path)
    assert isinstance(cfg.loss, TABLES[cfg.task])
    if "leave_out" in cfg.data:  # evaluated leave-one-source-out, each fold's source held out
        assert (path.parent / "loso.sh").is_file() and cfg.data.get("leave_out") == ""
    else:
        assert "heldout" in cfg.eval


@needs_fluidsynth
@pytest.mark.parametrize("mining", ["sampled", "batch_all"])
def test_disentangled_task_trains_and_validates(tmp_path, monkeypatch, mining):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    from rtsim.training.data.songs import render_songs

    songs = [render_songs(tmp_path / f"songs{seed}", soundfont="timgm6mb", seed=seed, size=6,
                          seconds=8, workers=1, progress=False) for seed in (2, 3)]
    train_list = ", ".join(f'{{ path = "{p}" }}' for p in songs)
    cfg = _config(tmp_path, f"""
[model]
task = "disentangled"
[model.kwargs]
stem = 8
channels = [8, 8, 8, 16, 16, 16]
[data]
train = [{train_list}]
validation_fraction = 0.4
[train]
steps = 4
batch = 4
eval_every = 2
optimizer = "adam"
lr = 0.01
plateau_patience = 1
max_reductions = 1
device = "cpu"
threads = 1
[loss]
mining = "{mining}"
""")
    task = make_task(cfg, progress=False)
    # both corpora feed training and validation; pieces of one name stay apart
    corpora = {k.split("/")[0] for k in task.train_set.store.keys}
    assert corpora == {"songs2", "songs3"}
    assert len(np.unique(task.train_set.pieces)) + len(np.unique(task.val_set.pieces)) == 12
    loss = task.loss(task.build_model(), 4, np.random.default_rng(0), torch.device("cpu"))
    assert loss.requires_grad and float(loss.detach()) > 0
    result = train(task, cfg, tmp_path / "run", progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text()
            .splitlines()]
    assert "overall_subspace" in rows[0]
    dims = [k[: -len("_subspace")] for k in rows[0] if k.endswith("_subspace")
            and k != "overall_subspace"]
    assert dims and all(f"{d}_whole" in rows[0] for d in dims)
    assert result.steps <= 4
    emb = get(str(tmp_path / "run")).load()
    v = emb(np.zeros((1, 129, 128), np.float32))[0]
    for lo in range(0, 256, 64):  # four unit subspaces
        assert np.linalg.norm(v[lo : lo + 64]) == pytest.approx(1.0, abs=1e-4)


def test_disentangled_similarity_relation():
    from rtsim.training.tasks.disentangled import piece_labels, similarity_matrix

    labs = [piece_labels({"genre": g, "mood": "calm", "instruments": ins, "tempo_bpm": t})
            for g, ins, t in [("rock", ["Bass", "Piano"], 100), ("jazz", ["Piano"], 104),
                              ("rock", ["Flute"], 110)]]
    assert similarity_matrix(labs, "genre").tolist() == [[True, False, True],
                                                        [False, True, False],
                                                        [True, False, True]]
    assert similarity_matrix(labs, "instrument")[0].tolist() == [True, True, False]
    assert similarity_matrix(labs, "tempo")[1].tolist() == [True, True, False]
    assert similarity_matrix(labs, "mood").all()
