import numpy as np
import pytest
import torch

from rtsim.embed import WindowStream, frame_windows


@pytest.mark.parametrize("window,hop", [(4, 1), (4, 3), (129, 64), (2, 5)])
@pytest.mark.parametrize("chunk", [1, 2, 7, 100])
def test_streamed_windows_equal_offline(window, hop, chunk):
    frames = np.random.default_rng(0).standard_normal((300, 6)).astype(np.float32)
    ref = frame_windows(frames, window=window, hop=hop)
    ws = WindowStream(window=window, hop=hop, n_bins=6)
    state, got = ws.init_state(), []
    for i in range(0, len(frames), chunk):
        out, state = ws.stream(frames[i : i + chunk], state)
        got.append(out)
    got = np.concatenate(got)
    assert got.shape == ref.shape and len(ref) == (300 - window) // hop + 1
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(ref[1], frames[hop : hop + window])


def test_torch_and_numpy_windows_agree():
    frames = np.arange(60, dtype=np.float32).reshape(20, 3)
    a = frame_windows(frames, window=4, hop=2)
    b = frame_windows(torch.from_numpy(frames), window=4, hop=2)
    np.testing.assert_array_equal(a, b.numpy())


def test_too_few_frames_give_no_window():
    assert frame_windows(np.zeros((3, 5), np.float32), window=4, hop=1).shape == (0, 4, 5)
