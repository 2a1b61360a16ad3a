import numpy as np
import pytest

from rtsim.errors import ConfigError
from rtsim.features import MelSpec
from rtsim.training.store import StoreItem, StoreUnion, build_store


def _tone(freq, seconds):
    def load(sr):
        t = np.arange(int(seconds * sr)) / sr
        return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return load


def _items(freqs, seconds):
    return [StoreItem(f"T{i}/mix", {"freq": f}, _tone(f, s), f"{f}:{s}")
            for i, (f, s) in enumerate(zip(freqs, seconds, strict=True))]


def test_store_is_cached_and_union_reads_each_store(tmp_path):
    spec = MelSpec()
    a = build_store(_items([220, 440], [1.0, 0.5]), spec=spec, root=tmp_path, progress=False)
    again = build_store(_items([220, 440], [1.0, 0.5]), spec=spec, root=tmp_path, progress=False)
    assert again.root == a.root                      # read back, not recomputed
    b = build_store(_items([880], [0.7]), spec=spec, root=tmp_path, progress=False)
    assert b.root != a.root
    u = StoreUnion([a, b], ["fluid", "muse"])
    assert u.keys == ["fluid/T0/mix", "fluid/T1/mix", "muse/T0/mix"] and len(u) == 3
    assert [lab["freq"] for lab in u.labels] == [220, 440, 880]
    for i, (st, j) in enumerate([(a, 0), (a, 1), (b, 0)]):
        assert u.n_frames(i) == st.n_frames(j)
        np.testing.assert_array_equal(u.window(i, 10, 5), st.window(j, 10, 5))
        np.testing.assert_array_equal(u.hop_db(i), st.hop_db(j))
        np.testing.assert_array_equal(u.item_frames(i), st.item_frames(j))
    # the tones differ, so the union did not read one store for all items
    assert not np.allclose(u.item_frames(0)[10], u.item_frames(2)[10])
    with pytest.raises(IndexError):
        u.window(3, 0, 1)
    with pytest.raises(ConfigError, match="one key prefix per store"):
        StoreUnion([a, b], ["only-one"])
