"""song2vec: ALI training on tiny rendered pieces, collapse detection, the eval protocol."""

import json

import numpy as np
import pytest
import torch

from rtsim.embed import Embedder, get
from rtsim.models.song2vec import SPEC
from rtsim.models.song2vec.net import Song2VecALI
from rtsim.training.config import load_train_config
from rtsim.training.losses.lsgan import lsgan_discriminator_loss, lsgan_generator_loss
from rtsim.training.tasks import make_task
from rtsim.training.tasks.song2vec import COLLAPSED, CollapseMonitor, noise_std, spread
from rtsim.training.trainer import train
from tests.commands import run
from tests.training.data.conftest import needs_fluidsynth

TINY = {"channels": [4, 8, 8, 8], "hidden": 16}


@pytest.fixture(scope="module")
def tiny_songs(tmp_path_factory):
    """Eight 8-s pieces (two 5-s segments each), TimGM6mb."""
    from rtsim.training.data.songs import render_songs

    return render_songs(tmp_path_factory.mktemp("songs"), soundfont="timgm6mb", seed=4,
                        size=8, seconds=8, workers=1, progress=False)


def _toml(songs, patience=0):
    return f"""
[model]
task = "song2vec"
[model.kwargs]
channels = {TINY["channels"]}
hidden = {TINY["hidden"]}
[data]
train = {{ path = "{songs}" }}
validation_fraction = 0.4
[train]
steps = 10
batch = 4
eval_every = 5
optimizer = "adam"
lr = 0.0002
device = "cpu"
threads = 1
[loss]
collapse_window = 2
collapse_patience = {patience}
[eval]
heldout = {{ path = "{songs}" }}
"""


@pytest.fixture
def cfg(tiny_songs, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    p = tmp_path / "train.toml"
    p.write_text(_toml(tiny_songs))
    return load_train_config(p)


def test_lsgan_losses_match_the_objectives():
    d_enc, d_dec = torch.tensor([0.0, 0.5]), torch.tensor([1.0, 0.2])
    # discriminator: encoder pairs -> 0, decoder pairs -> the (smoothed) positive target
    want = 0.5 * (np.mean([0, 0.25]) + np.mean([(1 - 0.8) ** 2, (0.2 - 0.8) ** 2]))
    assert float(lsgan_discriminator_loss(d_enc, d_dec, 0.8)) == pytest.approx(want)
    want = 0.5 * (np.mean([1, 0.25]) + np.mean([1, 0.04]))  # the labels swapped
    assert float(lsgan_generator_loss(d_enc, d_dec)) == pytest.approx(want)


def test_noise_is_annealed():
    assert noise_std(0, start=1.0, end=0.1, steps=100) == 1.0
    assert noise_std(50, start=1.0, end=0.1, steps=100) == pytest.approx(0.55)
    assert noise_std(500, start=1.0, end=0.1, steps=100) == pytest.approx(0.1)


def test_collapse_detector_fires_on_collapse_only():
    rng = np.random.default_rng(0)
    data = torch.from_numpy(rng.normal(size=(32, 1, 16, 16)))
    good = data + 0.3 * torch.randn_like(data)          # reconstructions that vary
    flat = data.mean(0, keepdim=True).expand_as(data)    # one image for every input
    codes = rng.normal(size=(32, 64))
    healthy = CollapseMonitor(d_loss=0.01, window=10, min_spread=0.05, patience=2)
    for _ in range(10):
        healthy.add_d_loss(0.2)
    assert healthy.check(recon_spread=spread(good) / spread(data),
                         code_spread=spread(codes)) == []
    assert not healthy.stop
    sick = CollapseMonitor(d_loss=0.01, window=10, min_spread=0.05, patience=2)
    for _ in range(10):
        sick.add_d_loss(0.001)                           # the discriminator always right
    found = sick.check(recon_spread=spread(flat) / spread(data), code_spread=spread(codes))
    assert any("discriminator loss" in f for f in found)
    assert any("reconstructions constant" in f for f in found) and not sick.stop
    found = sick.check(recon_spread=1.0, code_spread=spread(codes[:1].repeat(32, 0)))
    assert any("codes constant" in f for f in found) and sick.stop  # two in a row


@needs_fluidsynth
def test_task_trains_logs_losses_and_figures(cfg, tmp_path):
    task = make_task(cfg, progress=False)
    model = task.build_model()
    rng = np.random.default_rng(0)
    d_params = {id(p) for p in model.discriminator.parameters()}
    for k in range(5):  # 1 discriminator step, then 4 encoder/decoder steps
        model.zero_grad(set_to_none=True)
        task.loss(model, 4, rng, torch.device("cpu")).backward()
        got = {id(p) for p in model.parameters() if p.grad is not None}
        assert (got == d_params) if k == 0 else (got and not got & d_params)
    task.calls = 0
    run_dir = tmp_path / "run"
    result = train(task, cfg, run_dir, progress=False)
    assert result.steps == 10
    opt = json.loads((run_dir / "checkpoints" / "last.json").read_text())["param_groups"]
    assert [g["lr"] for g in opt] == [0.0002, 0.0008]  # the discriminator's d_lr_scale = 4
    assert all(g["betas"] == [0.5, 0.999] for g in opt)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["d_loss"] > 0 and r["g_loss"] > 0 for r in rows)
    assert {"piece_ami", "genre_ami", "recon_spread", "code_spread", "collapse"} <= set(rows[0])
    assert (run_dir / "reconstructions.png").stat().st_size > 1000
    assert (run_dir / "losses.png").stat().st_size > 1000
    emb = get(str(run_dir)).load()
    assert emb(np.zeros((1, 215, 128), np.float32)).shape == (1, 64)


@needs_fluidsynth
def test_a_collapsed_decoder_is_reported_and_stops_the_run(cfg, tmp_path):
    task = make_task(cfg, progress=False)
    task.monitor.patience = 1
    model = task.build_model().eval()
    last = model.decoder.features[-1]
    torch.nn.init.zeros_(last.weight)  # every code decodes to the same image
    row = task.validate(model, torch.device("cpu"))
    assert "reconstructions constant" in row["collapse"] and row["score"] == COLLAPSED
    assert task.stop_reason.startswith("collapse: reconstructions constant")


@needs_fluidsynth
def test_eval_protocol_table_has_every_method(tiny_songs, tmp_path, monkeypatch):
    from rtsim.training.eval.song2vec import evaluate_song2vec

    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    torch.manual_seed(0)
    emb = Embedder(SPEC, Song2VecALI(**TINY), weights_hash="tiny")
    res = evaluate_song2vec(emb, {"path": str(tiny_songs)}, tmp_path / "ev", seeds=(0,),
                            progress=False)
    assert res["segments"] == 16 and res["pieces"] == 8
    for target in ("genre", "piece"):
        for method in ("song2vec", "pca", "raw"):
            r = res[target][method]
            assert 0 <= r["kmeans_v_measure"] <= 1 and 0 <= r["gmm_v_measure"] <= 1
            assert -1 <= r["kmeans_ami"] <= 1 and -1 <= r["gmm_ami"] <= 1
    assert res["raw_dim"] == 64 * 128 and set(res["targets"]) == {
        "song2vec_above_pca_kmeans_ami_genre", "song2vec_above_pca_gmm_ami_genre"}
    table = (tmp_path / "ev" / "table.md").read_text()
    assert table.count("| genre |") == 3 and table.count("| piece |") == 3


@needs_fluidsynth
def test_cli_runs_the_protocol_on_a_run_folder(tiny_songs, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    p = tmp_path / "train.toml"
    p.write_text(_toml(tiny_songs).replace("steps = 10", "steps = 5"))
    cfg = load_train_config(p)
    train(make_task(cfg, progress=False), cfg, tmp_path / "run", progress=False)
    out = tmp_path / "ev"
    done = run("rtsim", "eval", "song2vec", "--config", p, "--embedder", tmp_path / "run",
               "--out", out, "--device", "cpu", "--no-progress", timeout=300,
               env={"RTSIM_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert "| genre | song2vec |" in done.stdout and "| piece | pca |" in done.stdout
    res = json.loads((out / "results.json").read_text())
    assert {"song2vec", "pca", "raw"} == set(res["genre"]) == set(res["piece"])
