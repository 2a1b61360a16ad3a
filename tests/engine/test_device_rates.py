"""44.1, 48 and 96 kHz devices hear the same sound the same way: the engine resamples to
the model's rate, so the embeddings of one performance agree across device rates."""

import numpy as np
import pytest

from tests.engine.helpers import run_file, write_clip

# analytic voices (the same sound in continuous time at every rate; the demo's
# Karplus-Strong pluck and naive-saw brass are not: whole-sample delay lines, aliasing)
NOTES = [(0.2, "organ", 60), (1.0, "organ", 72), (1.8, "marimba", 48), (2.6, "bell", 67)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, one_shot_library):
    out = {}
    for sr in (44100, 48000, 96000):
        clip = write_clip(tmp_path_factory.mktemp(f"sr{sr}") / "clip.wav", NOTES,
                          seconds=3.6, sr=sr)
        col, engine = run_file(clip, one_shot_library)
        assert engine.source.sr == sr
        out[sr] = col.hops
    return out


def test_same_hops_and_matches_at_every_device_rate(runs):
    ref = runs[48000]
    for sr, hops in runs.items():
        assert abs(len(hops) - len(ref)) <= 1, sr
        n = min(len(hops), len(ref))
        loud = [i for i in range(n) if not ref[i].silent and not hops[i].silent]
        assert len(loud) > 40
        a = np.stack([ref[i].vector for i in loud])
        b = np.stack([hops[i].vector for i in loud])
        rel = np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1)
        print(f"{sr} Hz vs 48 kHz: relative embedding difference median "
              f"{np.median(rel):.4f}, max {rel.max():.4f}")
        assert np.median(rel) < 0.005 and rel.max() < 0.02
        same_match = np.mean([ref[i].names[0] == hops[i].names[0] for i in loud])
        assert same_match >= 0.95, (sr, same_match)
