"""Stable matches: a held note keeps its published best match; raw ranks stay available."""

import numpy as np
import pytest
import soundfile as sf

from rtsim.embed import get
from rtsim.engine.stability import hold_best
from rtsim.errors import ConfigError
from rtsim.index.build import build_library
from tests.engine.helpers import run_file

IDS = np.array([7, 3, 9])


def test_the_held_item_keeps_rank_0_until_a_challenger_is_clearly_closer():
    d = np.array([0.19, 0.20, 0.5], np.float32)
    ids, dist, held = hold_best(IDS, d, 3, 0.1)           # 0.19 is not < 0.9 * 0.20
    assert ids.tolist() == [3, 7, 9] and dist.tolist() == pytest.approx([0.2, 0.19, 0.5])
    assert held == 3
    ids, _, held = hold_best(IDS, np.array([0.1, 0.2, 0.5]), 3, 0.1)  # clearly closer
    assert ids.tolist() == [7, 3, 9] and held == 7
    ids, _, held = hold_best(IDS, d, 42, 0.1)             # the held item left the top k
    assert ids.tolist() == [7, 3, 9] and held == 7
    ids, _, held = hold_best(IDS, d, 3, 0.0)              # off: the search's order
    assert ids.tolist() == [7, 3, 9] and held == 7
    ids, _, held = hold_best(IDS[:0], d[:0], 3, 0.1)      # silence forgets
    assert len(ids) == 0 and held is None


def test_stability_must_be_a_fraction():
    from rtsim.engine.config import EmbedderConfig

    for bad in (-0.1, 1.0):
        with pytest.raises(ConfigError, match="stability"):
            EmbedderConfig(library="x", stability=bad)


def _changes(hops):
    best = [int(h.ids[0]) for h in hops if not h.silent and len(h.ids)]
    return sum(a != b for a, b in zip(best, best[1:], strict=False)), len(best)


def test_a_held_note_keeps_its_match(tmp_path):
    """Near-duplicate samples (one note, different noise) trade places hop by hop."""
    sr = 16000
    rng = np.random.default_rng(0)
    t = np.arange(int(0.8 * sr)) / sr
    note = 0.3 * np.sin(2 * np.pi * 220 * t) * np.minimum(1, t / 0.01)
    lib_dir = tmp_path / "samples"
    lib_dir.mkdir()
    for i in range(6):
        sf.write(lib_dir / f"take{i}.wav",
                 (note + 0.02 * rng.normal(size=note.size)).astype(np.float32), sr)
    build_library(lib_dir, tmp_path / "lib", plugin=get("pca"), progress=False)
    held = np.tile(note, 6)[: 4 * sr] * (1 + 0.1 * np.sin(2 * np.pi * 5 * np.arange(4 * sr) / sr))
    sf.write(tmp_path / "held.wav", (held + 0.02 * rng.normal(size=held.size)).astype(np.float32),
             sr)
    raw, _ = run_file(tmp_path / "held.wav", tmp_path / "lib")
    stable, _ = run_file(tmp_path / "held.wav", tmp_path / "lib",
                         overrides=["embedder.0.stability=0.3"])
    raw_changes, n = _changes(raw.hops)
    stable_changes, _ = _changes(stable.hops)
    assert n > 50 and raw_changes > 10            # the flicker this is about
    assert stable_changes <= raw_changes / 3
    flipped = [h for h in stable.hops if h.raw_ids is not None]
    assert flipped and all(sorted(h.raw_ids.tolist()) == sorted(h.ids.tolist())
                           and h.raw_ids[0] != h.ids[0] for h in flipped)
