"""What control may change in a pipeline: each command a method that checks its value."""

import numpy as np
import pytest

from rtsim.engine.pipeline import Pipeline
from rtsim.errors import WireError
from rtsim.index import Library
from rtsim.index.build import build_library


@pytest.fixture
def pipeline(tmp_path, sample_folder, subspace_embedder):
    build_library(sample_folder / "organ", tmp_path / "lib", plugin=subspace_embedder,
                  progress=False)
    lib = Library.open(tmp_path / "lib")
    return Pipeline(embedder=lib.load_embedder(subspace_embedder), library=lib, k=3,
                    silence_db=-60.0, max_backlog=None)


def test_k_and_enable(pipeline):
    pipeline.set_k(8)
    assert pipeline.k == 8
    for bad in (0, 65, 2.5):
        with pytest.raises(WireError, match=r"k=.* must be an integer in \[1, 64\]"):
            pipeline.set_k(bad)
    assert pipeline.k == 8
    pipeline.set_enabled(False)
    assert pipeline.enabled is False


def test_weights_are_checked_against_the_library(pipeline):
    pipeline.set_weights([1, 0, 0.5, 0])
    np.testing.assert_allclose(pipeline.weights, [1, 0, 0.5, 0])
    for bad, why in (([1, 1], "4 subspaces, got 2"), ([0, 0, 0, 0], "not all zero"),
                     ([1, -1, 0, 0], ">= 0"), ([np.nan, 1, 0, 0], "finite")):
        with pytest.raises(WireError, match=why):
            pipeline.set_weights(bad)
    np.testing.assert_allclose(pipeline.weights, [1, 0, 0.5, 0])  # unchanged


def test_pins_take_a_subspace_from_a_reference(pipeline):
    ref = np.arange(32, dtype=np.float32)
    idx = pipeline.subspace_index("tempo")
    pipeline.pin(idx, ref)
    np.testing.assert_array_equal(pipeline.pins[3], ref[24:32])
    with pytest.raises(WireError, match="no subspace 'colour'.*'genre'"):
        pipeline.subspace_index("colour")
    pipeline.pin(pipeline.subspace_index("genre"), ref)
    pipeline.unpin(idx)
    assert set(pipeline.pins) == {0}
    pipeline.unpin()
    assert pipeline.pins == {}


def test_onsets_wait_for_their_match_with_their_peak(pipeline):
    pipeline.raise_onset_level(-3.0)              # no onset waiting: nothing to raise
    assert pipeline.pending_onset is None
    pipeline.note_onset(12.5, -20.0)
    pipeline.raise_onset_level(-30.0)
    pipeline.raise_onset_level(-6.0)
    assert (pipeline.pending_onset.time, pipeline.pending_onset.level_db) == (12.5, -6.0)
