"""The ``song2vec`` network and the shipped embedder: shapes, weights, live streaming."""

import numpy as np
import pytest
import torch

from rtsim.demo.sounds import render_note
from rtsim.embed import WindowStream, frame_windows, get, load_state, state_hash
from rtsim.models.song2vec.net import Song2VecALI, spectrogram_image


def test_net_shapes():
    net = Song2VecALI(channels=(4, 8, 8, 16)).eval()
    x = torch.rand(3, 215, 128)
    img = net.image(x)
    assert img.shape == (3, 1, 64, 128)
    z = net(x)
    assert z.shape == (3, 64) and torch.equal(z, net.encode(img))
    assert net.decode(z).shape == img.shape
    assert net.discriminator(img, z).shape == (3,)
    with pytest.raises(ValueError, match="divisible"):
        Song2VecALI(bands=60)


def test_image_is_the_pooled_z_scored_window():
    bands = torch.rand(2, 1, 128)
    x = bands.expand(2, 215, 128)  # steady in time: each image row is a band pair's mean
    img = spectrogram_image(x, mean=0.3, std=0.5, size=(64, 128))
    want = ((bands[:, 0] - 0.3) / 0.5).reshape(2, 64, 2).mean(2)
    torch.testing.assert_close(img[:, 0], want[:, :, None].expand(2, 64, 128))


@pytest.fixture(scope="module")
def song2vec():
    return get("song2vec").load()


def test_declaration_weights_and_card(song2vec):
    plugin = get("song2vec")
    spec = song2vec.spec
    assert (spec.dim, spec.window, spec.metric) == (64, 215, "l2")
    assert spec.frontend == get("disentangled").spec.frontend  # the shared mel front end
    assert plugin.weights.suffix == ".safetensors"
    assert song2vec.weights_hash == state_hash(load_state(plugin.weights))
    card = plugin.card.read_text()
    assert song2vec.weights_hash[:16] in card and "PCA-64" in card
    out = song2vec(np.random.default_rng(0).random((4, 215, 128), np.float32))
    assert out.shape == (4, 64) and np.isfinite(out).all()
    assert out.std(0).mean() > 1e-3  # different windows, different codes


def test_streams_like_offline(song2vec):
    """Audio in awkward chunks through the front end and the window stream, as live."""
    spec = song2vec.spec
    x = np.concatenate([render_note(n, seconds=1.5, sr=spec.frontend.sr)
                        for n in ("pluck", "organ", "kick", "bell", "marimba")])
    fe = song2vec.frontend()
    ref = song2vec(np.ascontiguousarray(
        frame_windows(fe.offline(x).numpy(), window=spec.window, hop=spec.hop)))
    assert len(ref) >= 2
    for chunk in (512, 1000, 4097):
        fe_state, ws = fe.init_state(), WindowStream(window=spec.window, hop=spec.hop,
                                                     n_bins=spec.n_bins)
        w_state, got = ws.init_state(), []
        for i in range(0, len(x), chunk):
            frames, fe_state = fe.stream(x[i : i + chunk], fe_state)
            windows, w_state = ws.stream(frames, w_state)
            got += [song2vec(w[None])[0] for w in windows]
        np.testing.assert_allclose(np.array(got), ref, atol=1e-4, rtol=1e-4)
