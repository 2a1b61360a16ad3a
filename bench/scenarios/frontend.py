"""``rtsim bench frontend``: one streaming hop of our CQT and mel against the alternatives.

Side by side, interleaved, single-threaded:

- ``cqt_stream_hop``: rtsim's streaming CQT, one hop (800 samples in, one frame out);
- ``nnaudio_cqt_one_frame``: nnAudio's ``CQT1992v2(center=False)`` on exactly the samples
  one frame needs (its dense product over the 32768-sample kernel matrix);
- ``nnaudio_cqt_window``: nnAudio recomputing every frame of a model window of audio;
- ``librosa_cqt_window``: librosa's (multirate) CQT of the same window;
- and the same for the mel front end (``mel_stream_hop`` vs nnAudio / librosa);
- on CUDA also ``cqt_stream_hop_graph`` / ``mel_stream_hop_graph``: the same hop with the
  frame's device work replayed from a CUDA graph (:meth:`FrontEnd.use_graphs`).
"""

from __future__ import annotations

import numpy as np
import torch

from rtsim.bench.core import Report, interleaved
from rtsim.features import CQTSpec, MelSpec, make_frontend

WINDOW_FRAMES = 20  # a 1-s window at 20 Hz, the size peers recompute per update


def _signal(sr: int, seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(sr * seconds)) / sr
    return (0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)).astype(
        np.float32)


class _Hops:
    """Feed a stream one hop at a time, cycling through a long signal."""

    def __init__(self, fe, x: np.ndarray) -> None:
        self.fe, self.x, self.hop = fe, x, fe.properties.hop_length
        self.state = fe.init_state()
        self.pos = 0
        while self.fe.properties.frame_end(self.state.next_frame) > self.state.n_seen + self.hop:
            self()  # fill the history: from here on every hop yields one frame

    def __call__(self):
        if self.pos + self.hop > len(self.x):
            self.pos = 0
        out, self.state = self.fe.stream(self.x[self.pos : self.pos + self.hop], self.state)
        self.pos += self.hop
        return out


def _graphed(spec, dev: str):
    """A front end replaying its frames from a CUDA graph, or None (CPU, failed capture)."""
    fe = make_frontend(spec, device=dev)
    return fe if fe.use_graphs() else None


def run(args) -> Report:
    """Measure and compare; ``args.quick`` shrinks the repeats."""
    import librosa
    from nnAudio.features import CQT1992v2, MelSpectrogram

    dev = args.device
    repeats = args.repeats or (20 if args.quick else 300)
    rep = Report("frontend")
    cqt_spec, mel_spec = CQTSpec(), MelSpec()

    cqt = make_frontend(cqt_spec, device=dev)
    x16 = _signal(16000, 20.0)
    nna = CQT1992v2(sr=16000, hop_length=800, fmin=27.5, n_bins=192, bins_per_octave=24,
                    center=False, verbose=False).to(dev)
    n_kernel = nna.kernel_width
    one = torch.from_numpy(x16[:n_kernel]).to(dev)
    win_samples = n_kernel + (WINDOW_FRAMES - 1) * 800
    window = torch.from_numpy(x16[:win_samples]).to(dev)
    window_np = x16[:win_samples]
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)

    def timed(fn):
        def call():
            out = fn()
            sync()
            return out
        return call

    cqt_graph = _graphed(cqt_spec, dev)
    with torch.inference_mode():
        cqt_times = interleaved({
            "cqt_stream_hop": timed(_Hops(cqt, x16)),
            **({"cqt_stream_hop_graph": timed(_Hops(cqt_graph, x16))} if cqt_graph else {}),
            "nnaudio_cqt_one_frame": timed(lambda: nna(one)),
            "nnaudio_cqt_window": timed(lambda: nna(window)),
            "librosa_cqt_window": lambda: librosa.cqt(window_np, sr=16000, hop_length=800,
                                                      fmin=27.5, n_bins=192,
                                                      bins_per_octave=24),
        }, warmup=3 if args.quick else 10, repeats=repeats, max_seconds=60)
        for t in cqt_times.values():
            rep.add(t)
        mel = make_frontend(mel_spec, device=dev)
        x22 = _signal(22050, 10.0)
        nnm = MelSpectrogram(sr=22050, n_fft=1024, hop_length=512, n_mels=128, center=False,
                             verbose=False).to(dev)
        one_m = torch.from_numpy(x22[:1024]).to(dev)
        win_m = x22[: 1024 + (129 - 1) * 512]  # Lee et al.'s 3-s window (129 frames)
        win_mt = torch.from_numpy(win_m).to(dev)
        mel_graph = _graphed(mel_spec, dev)
        mel_times = interleaved({
            "mel_stream_hop": timed(_Hops(mel, x22)),
            **({"mel_stream_hop_graph": timed(_Hops(mel_graph, x22))} if mel_graph else {}),
            "nnaudio_mel_one_frame": timed(lambda: nnm(one_m)),
            "nnaudio_mel_window": timed(lambda: nnm(win_mt)),
            "librosa_mel_window": lambda: librosa.feature.melspectrogram(
                y=win_m, sr=22050, n_fft=1024, hop_length=512, n_mels=128, center=False),
        }, warmup=3 if args.quick else 10, repeats=repeats, max_seconds=60)
        for t in mel_times.values():
            rep.add(t)
    ours = {}
    for kind in ("cqt", "mel"):
        mine = [s for s in (f"{kind}_stream_hop", f"{kind}_stream_hop_graph") if s in rep.stages]
        for stage in mine:
            for theirs in (f"nnaudio_{kind}_one_frame", f"nnaudio_{kind}_window",
                           f"librosa_{kind}_window"):
                rep.ratio(stage, theirs)
        ours[kind] = min(mine, key=lambda s: rep.stages[s]["p50_ms"])
    p = cqt.properties
    rep.extra["targets"] = {
        "cqt_stream_hop_p50_le_0.5ms": rep.stages[ours["cqt"]]["p50_ms"] <= 0.5,
        "cqt_ge_10x_nnaudio_one_frame":
            rep.ratios[f"{ours['cqt']}_vs_nnaudio_cqt_one_frame"] >= 10,
        "mel_stream_hop_p50_le_0.1ms": rep.stages[ours["mel"]]["p50_ms"] <= 0.1,
    }
    rep.extra["fastest"] = ours
    rep.extra["cqt"] = {"receptive_field_s": p.receptive_field_s, "fft_blocks": [
        b.n_fft for b in cqt.kernel.blocks], "kernel_nnz": int(cqt.kernel.matrix.nnz),
        "nnaudio_kernel_width": int(n_kernel)}
    rep.extra["device"] = dev
    return rep
