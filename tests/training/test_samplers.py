"""Samplers: every drawn example satisfies its definition; seeds reproduce."""

import numpy as np
import pytest

from rtsim.errors import ConfigError
from rtsim.training.samplers import MPerClassSampler, NeighbourhoodSampler, TrackTripletSampler
from rtsim.training.samplers.neighbourhood import same


def _notes():
    """Four programs, an octave of pitches, two velocities (so class_pitch has partners)."""
    return [{"program": pr, "pitch": pi, "velocity": v, "family": f"f{pr // 30}"}
            for pr in (0, 24, 40, 56) for pi in range(48, 61) for v in (64, 100)]


def test_neighbourhood_triplets_obey_their_partition():
    labels = _notes()
    s = NeighbourhoodSampler(labels, seed=1)
    a, p, n, k = s.sample(2000)
    for ai, pi, ni, ki in zip(a, p, n, k, strict=True):
        kind = s.kinds[ki]
        assert ai != pi
        assert same(kind, labels[ai], labels[pi])
        assert not same(kind, labels[ai], labels[ni])
    assert set(np.unique(k)) == set(range(len(s.kinds)))
    # plus or minus two semitones really admits neighbours that are not the same pitch
    kinds = np.array([s.kinds[i] for i in k])
    sel = kinds == "class_pitch2"
    assert any(labels[x]["pitch"] != labels[y]["pitch"] for x, y in zip(a[sel], p[sel],
                                                                          strict=True))


def test_neighbourhood_seed_reproduces_and_weights_apply():
    labels = _notes()
    one = NeighbourhoodSampler(labels, seed=3).sample(50)
    two = NeighbourhoodSampler(labels, seed=3).sample(50)
    assert all(np.array_equal(x, y) for x, y in zip(one, two, strict=True))
    only_pitch = NeighbourhoodSampler(labels, neighbourhoods=["class", "pitch"],
                                      weights=[0, 1], seed=0)
    assert set(only_pitch.sample(100)[3]) == {1}


def test_neighbourhood_errors():
    with pytest.raises(ConfigError, match="neighbourhood='timbre'"):
        NeighbourhoodSampler(_notes(), neighbourhoods=["timbre"])
    with pytest.raises(ConfigError, match="weights"):
        NeighbourhoodSampler(_notes(), weights=[1, 2])


def test_track_triplets_respect_overlap_and_pieces():
    window = 10
    pieces, starts = [], []
    for piece in range(6):
        for st in range(0, 60, 5):  # 50 % overlap grid
            pieces.append(piece)
            starts.append(st)
    s = TrackTripletSampler(pieces, starts, window=window, max_overlap=0.5, seed=0)
    a, p, n = s.sample(3000)
    pieces, starts = np.array(pieces), np.array(starts)
    assert np.all(pieces[a] == pieces[p]) and np.all(pieces[a] != pieces[n])
    overlap = np.maximum(0, window - np.abs(starts[a] - starts[p])) / window
    assert overlap.max() <= 0.5 and np.any(overlap == 0.5)


def test_track_pairs_two_segments_of_each_piece():
    window = 10
    pieces = [0] * 12 + [1] * 12 + [2]                  # piece 2 has a single segment
    starts = list(range(0, 60, 5)) * 2 + [0]
    s = TrackTripletSampler(pieces, starts, window=window, max_overlap=0.5, seed=1)
    assert sorted(s.anchors_of) == [0, 1]
    first, second = s.pairs([1, 0, 1] * 200)
    pieces, starts = np.array(pieces), np.array(starts)
    assert list(pieces[first][:3]) == [1, 0, 1] and np.all(pieces[first] == pieces[second])
    overlap = np.maximum(0, window - np.abs(starts[first] - starts[second])) / window
    assert overlap.max() <= 0.5 and len(set(first.tolist())) > 12   # not always the same
    with pytest.raises(ConfigError, match="piece 2"):
        s.pairs([2])


def test_track_triplet_errors():
    with pytest.raises(ConfigError, match="two pieces"):
        TrackTripletSampler([0, 0, 0], [0, 10, 20], window=10)
    with pytest.raises(ConfigError, match="frames apart"):
        TrackTripletSampler([0, 1], [0, 0], window=10)


def test_m_per_class_batches():
    labels = np.repeat(np.arange(10), 7)
    s = MPerClassSampler(labels, m=4, seed=0)
    b = s.batch(32)
    classes, counts = np.unique(labels[b], return_counts=True)
    assert len(b) == 32 and len(classes) == 8 and set(counts) == {4}


def test_stratified_batches_hold_each_strata_share():
    from rtsim.training.samplers import StratifiedMPerClassSampler

    labels = ["d:kick"] * 5 + ["d:snare"] * 5 + [f"d:perc{i}" for i in range(6)] * 2 + \
        [f"n:fam{i}" for i in range(5)] * 3
    s = StratifiedMPerClassSampler(
        labels, [(lambda c: c in {"d:kick", "d:snare"}, 2), (lambda c: c.startswith("d:"), 1),
                 (lambda c: c.startswith("n:"), 3)], m=2, seed=1)
    assert s.batch_size == 12
    lab = np.asarray(labels)
    for _ in range(20):
        b = lab[s.batch()]
        assert len(b) == 12
        assert (b == "d:kick").sum() == 2 and (b == "d:snare").sum() == 2
        percs = [x for x in b if x.startswith("d:perc")]
        assert len(percs) == 2 and len(set(percs)) == 1
        assert sum(x.startswith("n:") for x in b) == 6 and len({x for x in b if x[0] == "n"}) == 3
    with pytest.raises(ConfigError, match="strata"):
        StratifiedMPerClassSampler(labels, [(lambda c: c == "d:kick", 3)], m=2)


def test_spread_draws_positives_from_distinct_sources_then_kits():
    from rtsim.training.samplers import StratifiedMPerClassSampler

    # kick: source "big" has 40 hits in 10 kits, "small" 2 hits in one kit, "rec" 3 in 3
    labels = np.array(["kick"] * 45 + ["snare"] * 8)
    sources = np.array(["big"] * 40 + ["small"] * 2 + ["rec"] * 3 + ["big"] * 4 + ["rec"] * 4)
    kits = np.array([f"k{i % 10}" for i in range(40)] + ["s"] * 2 + ["r0", "r1", "r2"]
                    + ["k0"] * 4 + ["r0", "r1", "r2", "r3"])
    s = StratifiedMPerClassSampler(labels, [(lambda c: True, 2)], m=3, seed=0,
                                   spread=[sources, kits])
    for _ in range(50):
        b = s.batch()
        kick = b[labels[b] == "kick"]
        assert len(kick) == 3 and set(sources[kick]) == {"big", "small", "rec"}
        snare = b[labels[b] == "snare"]
        assert len(snare) == 3
        rec = snare[sources[snare] == "rec"]
        assert len(set(kits[rec])) == len(rec)  # distinct kits within a source
    plain = StratifiedMPerClassSampler(labels, [(lambda c: True, 2)], m=3, seed=0)
    share = np.mean([sources[i] == "big" for _ in range(200) for i in plain.batch()
                     if labels[i] == "kick"])
    assert share > 0.75  # uniform over members: the big source dominates without spread
    with pytest.raises(ConfigError, match="one entry per example"):
        StratifiedMPerClassSampler(labels, [(lambda c: True, 2)], m=3, spread=[sources[:3]])
