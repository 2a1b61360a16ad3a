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


@pytest.mark.parametrize("device_history", [False, True])
def test_a_single_window_can_be_a_view_until_the_next_call(device_history):
    """copy=False: the live case (one window per call) reads the history in place."""
    frames = np.random.default_rng(1).standard_normal((40, 3)).astype(np.float32)
    ref = frame_windows(frames, window=4, hop=2)
    ws = WindowStream(window=4, hop=2, n_bins=3)
    state = ws.init_state("cpu" if device_history else None)
    got = []
    for f in frames:
        out, state = ws.stream(f[None], state, copy=False)
        got += [np.array(out[i].tolist(), np.float32) for i in range(len(out))]  # read now
    np.testing.assert_array_equal(np.stack(got), ref)
    many, _ = ws.stream(frames[:9], ws.init_state(), copy=False)  # several: still copies
    np.testing.assert_array_equal(many, ref[:3])
