"""Kumar et al.'s protocol: singer retrieval vs random, genre tables; the vocal task."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from rtsim.embed import get
from rtsim.errors import ConfigError
from rtsim.training.eval.metrics import oracle_precision, retrieval_precision
from rtsim.training.eval.vocal import evaluate_vocal, genre_table


def test_retrieval_precision_of_a_perfect_and_of_a_blind_space():
    labels = np.repeat(np.arange(5), 4)  # 5 singers x 4 pieces
    perfect = np.eye(5)[labels] + 0.01 * np.random.default_rng(0).normal(size=(20, 5))
    r = retrieval_precision(perfect, labels, k=3)
    assert r["precision"] == 1.0
    assert r["random"] == pytest.approx(3 / 19)
    assert r["vs_random"] == pytest.approx(19 / 3)
    blind = np.random.default_rng(1).normal(size=(20, 8))
    assert retrieval_precision(blind, labels, k=3)["precision"] < 0.6


def test_retrieval_precision_leaves_out_the_query_group():
    labels = np.array([0, 0, 1, 1])
    pieces = np.array([0, 0, 1, 2])  # rows 0 and 1: one piece, so they cannot find each other
    emb = np.array([[1.0, 0], [1.0, 0.01], [0, 1.0], [0.01, 1.0]])
    r = retrieval_precision(emb, labels, k=1, exclude=pieces)
    assert r["queries"] == 2 and r["precision"] == 1.0
    with pytest.raises(ValueError, match="same-label"):
        retrieval_precision(emb, np.arange(4), k=1)


def test_oracle_precision_by_hand():
    # singers a a a b b c (c alone: not a query); genres x x y x y y
    singers, genres = list("aaabbc"), list("xxyxyy")
    r = oracle_precision(singers, genres, k=2)
    # query 0 (a, x): x-part {1 a, 3 b}: 2 picks, 1 hit -> 1/2; same for query 1;
    # query 2 (a, y): y-part {4 b, 5 c}: 0 hits -> 0; query 3 (b, x): x-part {0 a, 1 a} -> 0;
    # query 4 (b, y): y-part {2 a, 5 c} -> 0
    assert r["precision"] == pytest.approx((0.5 + 0.5) / 5)
    assert r["queries"] == 5
    assert r["ceiling"] == pytest.approx((1 + 1 + 1 + 0.5 + 0.5) / 5)
    assert r["random"] == pytest.approx((2 + 2 + 2 + 1 + 1) / 5 / 5)
    # k beyond the known part: the rest are drawn blind from the other part
    # (query 0: 1 hit in the x-part, then 1 pick of {2 a, 4 b, 5 c}; query 2: none in the
    # y-part, then 1 pick of {0 a, 1 a, 3 b}; queries 3 and 4: 1 pick with 1 hit of 3)
    r3 = oracle_precision(singers, genres, k=3)
    assert r3["precision"] == pytest.approx((2 * (1 + 1 / 3) + 2 / 3 + 1 / 3 + 1 / 3) / 3 / 5)


def test_oracle_precision_is_what_a_genre_only_space_scores_on_average():
    rng = np.random.default_rng(0)
    singers = rng.integers(0, 12, size=60)
    genres = np.where(rng.random(60) < 0.6, singers % 4, rng.integers(0, 4, size=60))
    want = oracle_precision(singers, genres, k=5)
    got = [retrieval_precision(np.eye(4)[genres] + 1e-3 * rng.normal(size=(60, 4)), singers,
                               k=5)["precision"] for _ in range(300)]
    assert np.mean(got) == pytest.approx(want["precision"], abs=0.01)
    assert want["random"] == pytest.approx(retrieval_precision(
        rng.normal(size=(60, 4)), singers, k=5)["random"])
    assert want["precision"] < want["ceiling"] <= 1


def test_k_beyond_the_set_counts_the_candidates_not_the_query():
    labels = np.array([0, 0, 1, 1])
    emb = np.array([[1.0, 0], [1.0, 0.01], [0, 1.0], [0.01, 1.0]])
    r = retrieval_precision(emb, labels, k=10)  # 3 candidates each, 1 of them a hit
    assert r["k"] == 3 and r["precision"] == pytest.approx(1 / 3)
    o = oracle_precision(labels, labels, k=10)
    assert o["k"] == 3 and o["precision"] == pytest.approx(1 / 3) == o["ceiling"]


def test_genre_table_is_a_mean_distance_per_pair():
    v = np.array([[1.0, 0], [1.0, 0], [0, 1.0]])
    t = genre_table(v, np.array(["a", "a", "b"]), ["a", "b"])
    assert t[0, 0] == pytest.approx(0.0) and t[0, 1] == pytest.approx(1.0)
    assert np.isnan(t[1, 1])  # one piece of b: no distinct pair


@pytest.fixture(scope="module")
def sung(tmp_path_factory):
    """Six 8-s pieces, three singers (espeak-ng voices), in Slakh's layout."""
    if shutil.which("fluidsynth") is None or shutil.which("espeak-ng") is None:
        pytest.skip("fluidsynth or espeak-ng is not installed")
    from rtsim.training.data.songs import render_songs

    return render_songs(tmp_path_factory.mktemp("sung"), soundfont="timgm6mb", seed=3, size=6,
                        seconds=8.0, workers=1, progress=False, singers=(0, 3))


def test_vocal_task_trains_split_by_singer(sung, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    from rtsim.training.config import load_train_config
    from rtsim.training.tasks import make_task
    from rtsim.training.trainer import train

    p = tmp_path / "v.toml"
    p.write_text(f"""
[model]
task = "vocal"
[model.kwargs]
input = "instrumental"
channels = [4, 8, 8, 16]
[data]
train = {{ path = "{sung}" }}
validation_fraction = 0.4
[train]
steps = 4
batch = 6
eval_every = 2
optimizer = "adam"
lr = 0.001
device = "cpu"
threads = 1
""")
    cfg = load_train_config(p)
    task = make_task(cfg, progress=False)
    singers = lambda s: {s.labels[i]["singer"] for i in np.unique(s.pieces)}  # noqa: E731
    assert singers(task.train_set) and singers(task.val_set)
    assert not singers(task.train_set) & singers(task.val_set)  # whole singers held out
    result = train(task, cfg, tmp_path / "run", progress=False)
    assert result.steps == 4
    metrics = [json.loads(line) for line in open(tmp_path / "run" / "metrics.jsonl")]
    assert any("singer_p5" in m for m in metrics)
    emb = get(str(tmp_path / "run")).load()
    assert emb.spec.name == "vocal/instrumental"


def test_vocal_task_needs_singers(tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed")
    from rtsim.training.config import load_train_config
    from rtsim.training.data.songs import render_songs
    from rtsim.training.tasks import make_task

    songs = render_songs(tmp_path / "songs", soundfont="timgm6mb", seed=1, size=2, seconds=5,
                         workers=1, progress=False)
    p = tmp_path / "v.toml"
    p.write_text(f'[model]\ntask = "vocal"\n[model.kwargs]\ninput = "mix"\n'
                 f'[data]\ntrain = {{ path = "{songs}" }}\n[train]\nsteps = 1\n')
    with pytest.raises(ConfigError, match="singers"):
        make_task(load_train_config(p), progress=False)


def test_eval_vocal_reports_every_space_and_the_figure(sung, tmp_path, monkeypatch):
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path / "cache"))
    embs = {n: get(n).load() for n in ("vocal/vocal", "vocal/mix")}
    # a second embedder of one input (a run folder beside the shipped one): its own key,
    # its input from its spec
    embs["vocal/vocal (runs/x)"] = get("vocal/vocal").load()
    r = evaluate_vocal(embs, {"path": str(sung)}, tmp_path / "out", progress=False)
    again, once = r["vocal/vocal (runs/x)"], r["vocal/vocal"]
    assert again["singer_p@5"] == once["singer_p@5"]
    np.testing.assert_allclose(again["genre_table"], once["genre_table"], atol=1e-4)
    assert r["pieces"] == 6 and r["singers"] == 3
    for space in ("vocal/vocal", "vocal/mix", "mfcc_stats/mix", "mfcc_stats/vocal"):
        s = r[space]
        assert 0.0 <= s["singer_p@5"] <= 1.0 and s["random_p@5"] > 0
        assert s["vs_random@5"] == pytest.approx(s["singer_p@5"] / s["random_p@5"])
        n = len(r["genres"])
        assert np.array(s["genre_table"]).shape == (n, n)
    assert (tmp_path / "out" / "genre_dendrograms.png").stat().st_size > 1000
    assert set(r["targets"]) >= {"every_space_ge_10x_random", "vocal_beats_mix_p@5",
                                 "every_space_ge_10x_random@10"}
    for depth in (5, 10):
        lowest = min(r[n][f"vs_random@{depth}"] for n in embs)
        assert r["targets"][f"min_vs_random@{depth}"] == lowest
    assert r["targets"]["every_space_ge_10x_random@10"] == (
        r["targets"]["min_vs_random@10"] >= 10)
    ref = r["singer_references"]  # from the labels alone, on the same random as the spaces
    assert ref["genre_oracle_p@5"] / ref["genre_oracle_vs_random@5"] == pytest.approx(
        r["vocal/vocal"]["random_p@5"])
    assert ref["genre_oracle_p@5"] <= ref["ceiling_p@5"] <= 1
