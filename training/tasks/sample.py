"""Train the ``sample`` embedder: supervised contrastive over drum classes and families.

Every step draws ``m`` one-shots of each of 16 classes: the six core drum classes (kick,
snare, hihat, tom, cymbal, clap), two percussion instruments (conga, cowbell…: "perc" is
many sounds) and eight of the eleven instrument families (``[loss] classes``), so the
batch's make-up does not depend on how finely each kind is labelled; with ``[loss] spread =
["source", "group"]`` a class's ``m`` one-shots come from distinct sources, then distinct
kits or programs, so the positives that must meet are other libraries' sounds and the
source with the most kits does not define the class. Each one-shot gives
two views: the sound placed at a random phase of the window (from one frame after its
onset to a second into it) and passed through :func:`~rtsim.training.augment.augment`
(level, EQ, room, noise, varispeed, bit depth) or a lossy-coded copy. Views go through
the live front end and the network; the loss is Khosla et al.'s supervised contrastive
loss, positives = same class. Why this objective: a performer's "same kind of sound"
*is* the class (a kick from another kit), so labels say which sounds must meet; two
augmented views alone (SimCLR) would only teach that a sound equals itself through a
different room.

Config: ``[data] train`` is a list of sources, each a rendered soundfont one-shot corpus
``{kind = "oneshots", soundfont = "fluidr3", source = "fluid"}`` or a package of
recordings ``{kind = "package", name = "sonic-pi"}``; ``[data] leave_out`` names the
sources to leave out (one, or several comma-separated: leave-one-source-out);
``[data] validation_fraction`` holds out kits and programs (by group); ``[loss]
adversary`` (> 0) adds a class-conditional source adversary through gradient reversal
(:class:`~rtsim.training.losses.ConditionalAdversary`, that weight): the network is pushed
to keep no trace, within a class, of which source a sound came from; ``[loss] proxy``
(> 0) adds, at that weight, a normalised softmax over one learned proxy per class
(:class:`~rtsim.training.losses.ProxySoftmaxLoss`, ``proxy_temperature``). Validation score:
mean of 5-NN drum-class accuracy (kick, snare, hihat, tom, cymbal, clap) with the
query's kit excluded and 5-NN family accuracy with its program excluded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from dataclasses import dataclass

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.config import build
from rtsim.errors import ConfigError, FrontEndError
from rtsim.features import make_frontend
from rtsim.training.augment import AugmentConfig, augment, vorbis_roundtrip
from rtsim.training.data.oneshots import DRUM_CLASSES, onset_index
from rtsim.training.eval.metrics import knn_accuracy
from rtsim.training.losses import ConditionalAdversary, ProxySoftmaxLoss, SupConLoss
from rtsim.training.samplers import StratifiedMPerClassSampler
from rtsim.training.tasks.notes import split_keys

__all__ = ["SampleTask", "ClipViews", "Clips", "source_rows", "load_clips", "window_frames",
           "with_frontend"]

log = logging.getLogger(__name__)

CLIP_S = 1.5
"""Seconds of each one-shot kept for training (its attack, body and early decay)."""
KINDS = ("drum", "note")
PRE_ONSET = 110
"""Samples (5 ms) kept before a clip's onset (its first sample within 40 dB of the peak)."""


def source_rows(table: dict, *, progress: bool = True) -> list[dict]:
    """The one-shot rows (absolute ``path``, label, kind, group, source) of one source."""
    kind = table.get("kind")
    if kind == "oneshots":
        from rtsim.training.corpora import ensure_corpus
        from rtsim.training.data.oneshots import read_labels

        folder = ensure_corpus(table, progress=progress)
        rows = read_labels(folder / "labels.csv")
        for r in rows:
            r["path"] = str(folder / r["path"])
    elif kind == "package":
        from rtsim.training.data.loaders.packaged import packaged_rows

        rows = packaged_rows(table.get("name", ""), table.get("path"))
    else:
        raise ConfigError(f"sample source {table}: kind must be 'oneshots' or 'package'")
    source = table.get("source")
    for r in rows:
        r["source"] = source or r["source"]
    return [r for r in rows if r["kind"] in KINDS]


@dataclass
class Clips:
    """One-shots in memory: dry audio, a lossy-coded copy, labels and groups."""

    audio: np.ndarray      # (n, CLIP_S·sr) float32, onset at sample 0
    lossy: np.ndarray      # the same, through Ogg Vorbis at low quality
    lengths: np.ndarray    # samples of sound in each clip (<= CLIP_S·sr)
    labels: np.ndarray     # "drum:kick", "note:string", ...
    groups: np.ndarray     # kit or program (what a query must not see of itself)
    sources: np.ndarray

    @staticmethod
    def concat(parts: list[Clips]) -> Clips:
        """The clips of several sets, in order."""
        return Clips(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def subset(self, mask: np.ndarray) -> Clips:
        """The clips where ``mask`` is true."""
        return Clips(*(getattr(self, f)[mask] for f in _FIELDS))


_FIELDS = ("audio", "lossy", "lengths", "labels", "groups", "sources")


def _names(value) -> list[str]:
    """``leave_out`` as a list: "" or None -> [], "a" -> ["a"], "a,b" or a list -> both."""
    if not value:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def load_clips(rows: list[dict], *, sr: int, progress: bool = True) -> Clips:
    """Read (or take from the cache) the first :data:`CLIP_S` s of each row's audio.

    A file that cannot be read (LMMS ships a ``kick04.ogg`` that is a broken WAV) is
    left out with a warning naming it; the rest are kept.
    """
    from rtsim.audio.files import load_audio
    from rtsim.errors import AudioFileError
    from rtsim.progress import progress_bar, track

    key = hashlib.sha256(json.dumps([sr, CLIP_S] + [[r["path"], r["label"], r["group"]]
                                                      for r in rows]).encode()).hexdigest()[:20]
    path = cache_dir() / "features" / f"sample-clips-{key}.npz"
    n = int(CLIP_S * sr)
    if not path.is_file():
        audio, lossy, lengths = np.zeros((len(rows), n), np.float32), [], []
        ok = np.ones(len(rows), bool)
        with progress_bar(progress) as bar:
            for i, r in enumerate(track(rows, total=len(rows), description="clips", bar=bar)):
                try:
                    y, _ = load_audio(r["path"], sr=sr)
                except AudioFileError as exc:
                    log.warning("leaving out %s: %s", r["path"], exc)
                    ok[i] = False
                    y = np.zeros(0, np.float32)
                y = y[max(0, onset_index(y) - PRE_ONSET):][:n]
                audio[i, : len(y)] = y
                lengths.append(len(y))
                lossy.append(vorbis_roundtrip(audio[i], sr))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")  # runs may fill it at once
        np.savez(tmp, audio=audio.astype(np.float16), lossy=np.stack(lossy).astype(np.float16),
                 lengths=np.array(lengths), ok=ok)
        tmp.replace(path)
    z = np.load(path)
    ok = z["ok"]
    rows = [r for r, keep in zip(rows, ok, strict=True) if keep]
    return Clips(z["audio"][ok], z["lossy"][ok], z["lengths"][ok],
                 np.array([f"{r['kind']}:{r.get('detail') or r['label']}" for r in rows]),
                 np.array([r["group"] for r in rows]), np.array([r["source"] for r in rows]))


def augment_chains(base: dict, overrides: dict) -> dict:
    """The augmentation of each kind (``"drum"``) and class (``"drum:cymbal"``) overridden.

    A kind's chain is ``base`` with its fields replaced; a class's is its kind's (or
    ``base``) with its own replaced on top. Every chain is checked (a bad field names its
    table, e.g. ``[loss.augment_for.drum:cymbal]``).
    """
    chains = {}
    for key, over in overrides.items():
        kind = key.split(":", 1)[0]
        inherited = overrides.get(kind, {}) if kind != key else {}
        chains[key] = build(AugmentConfig, {**base, **inherited, **over},
                            f"loss.augment_for.{key}")
    return chains


def with_frontend(spec, overrides: dict):
    """``spec`` with the front-end fields of ``overrides`` (``[model] frontend``) changed.

    The front end is rebuilt by the config loader's :func:`~rtsim.config.build`, so an
    unknown field or a value of the wrong type is named as in any other table.

    Raises
    ------
    ConfigError
        A field the front end does not have, or a value it refuses.
    """
    if not overrides:
        return spec
    table = {**dataclasses.asdict(spec.frontend), **overrides}
    try:
        frontend = build(type(spec.frontend), table, "model.frontend")
    except FrontEndError as exc:
        raise ConfigError(f"[model.frontend] {overrides}: {exc}") from None
    return dataclasses.replace(spec, frontend=frontend)


def window_frames(frontend, x: np.ndarray, window: int) -> np.ndarray:
    """Front-end frames of audio windows ``x`` (b, (window-1)·hop + n_fft): (b, window, bins).

    Frame ``t`` of a row is the live stream's frame whose newest sample is
    ``(t + 1)·hop - 1`` samples after the row's start less ``n_fft - hop``: the same
    frames a live stream shows when the row's last sample arrives.
    """
    p = frontend.properties
    view = np.lib.stride_tricks.sliding_window_view(x, p.window_length, axis=1)
    view = view[:, :: p.hop_length][:, :window]
    b = x.shape[0]
    flat = np.ascontiguousarray(view.reshape(b * window, p.window_length), np.float32)
    return frontend.frames(flat).cpu().numpy().reshape(b, window, -1)


class ClipViews:
    """One-shot clips of a list of sources, seen as windows of an embedder's live front end.

    Shared by every task that learns from one-shots (``sample``, the timbre map's
    ``clips`` mode): reads the sources (:func:`source_rows`, :func:`load_clips`), leaves
    out ``leave_out``, holds out ``validation_fraction`` of the groups (kits, programs),
    and places and augments windows as the live stream sees them.

    Parameters
    ----------
    tables : list of dict
        ``[data] train``.
    spec : EmbedderSpec
        The embedder's front end and window.
    leave_out : str or list
        Sources left out (leave-one-source-out).
    validation_fraction : float
    kinds : tuple of str
        Which rows to keep (``"drum"``, ``"note"``).
    augment : dict
        :class:`~rtsim.training.augment.AugmentConfig` fields.
    augment_for : dict
        Per kind of one-shot (``"drum"``, ``"note"``), fields overriding ``augment`` for
        its rows (e.g. damping and drive for drum hits only); per class (``"drum:cymbal"``),
        fields overriding its kind's on top. Empty: one chain for all rows.
    max_lag_s : float
        Latest onset-to-window-end lag of a view.
    seed : int
    """

    def __init__(self, tables, *, spec, leave_out="", validation_fraction: float = 0.15,
                 kinds: tuple[str, ...] = KINDS, augment: dict | None = None,
                 augment_for: dict | None = None, max_lag_s: float = 1.0, seed: int = 0,
                 progress: bool = True) -> None:
        if not isinstance(tables, list) or not tables:
            raise ConfigError("[data] train must be a list of sample sources")
        # checked before any audio is read: an unknown field or a bad value names itself
        self.aug = build(AugmentConfig, augment or {}, "loss.augment")
        self.aug_for = augment_chains(augment or {}, augment_for or {})
        leave_out = _names(leave_out)
        per_table = [[r for r in source_rows(t, progress=progress) if r["kind"] in kinds]
                     for t in tables]
        self.sources = sorted({r["source"] for rows in per_table for r in rows})
        if set(leave_out) - set(self.sources):
            raise ConfigError(f"[data] leave_out={sorted(set(leave_out) - set(self.sources))} "
                              f"names no source; sources: {self.sources}")
        self.spec, self.fe, self.sr = spec, make_frontend(spec.frontend), spec.frontend.sr
        parts = [load_clips(rows, sr=self.sr, progress=progress) for rows in per_table if rows]
        clips = Clips.concat([c.subset(~np.isin(c.sources, leave_out)) for c in parts])
        val = split_keys(clips.groups, fraction=float(validation_fraction))
        self.train_set, self.val_set = clips.subset(~val), clips.subset(val)
        if len(self.train_set.labels) == 0:
            raise ConfigError(f"no training clips left after leave_out={leave_out}")
        self.gen = torch.Generator().manual_seed(seed)
        p = self.fe.properties
        self.span = (spec.window - 1) * p.hop_length + p.window_length  # samples per window
        self.max_lag = int(float(max_lag_s) * self.sr)
        self.classes = sorted(set(clips.labels))
        log.info("%d train clips, %d validation, sources %s (left out: %s)",
                 len(self.train_set.labels), len(self.val_set.labels), self.sources, leave_out)

    def place(self, clips: Clips, idx: np.ndarray, lags: np.ndarray,
              lossy: np.ndarray | None = None) -> np.ndarray:
        """Windows whose last sample lies ``lags`` samples after each clip's onset."""
        out = np.zeros((len(idx), self.span), np.float32)
        for j, (i, lag) in enumerate(zip(idx, lags, strict=True)):
            src = clips.lossy[i] if lossy is not None and lossy[j] else clips.audio[i]
            lag = int(min(lag, clips.lengths[i] + self.span // 4))
            start = max(0, lag - self.span)            # first clip sample in the window
            seg = src[start:lag]
            out[j, self.span - len(seg):] = seg
        return out

    def random_lags(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` onset-to-window-end lags, from one hop to ``max_lag_s``."""
        return rng.integers(self.fe.properties.hop_length, self.max_lag, n)

    def augmented(self, idx: np.ndarray, lags: np.ndarray, rng: np.random.Generator,
                  device) -> torch.Tensor:
        """Front-end windows of training clips ``idx`` at ``lags``, each augmented."""
        lossy = rng.random(len(idx)) < self.aug.p_lossy
        x = torch.from_numpy(self.place(self.train_set, idx, lags, lossy))
        onsets = torch.from_numpy(self.span - np.asarray(lags) + PRE_ONSET)
        if not self.aug_for:
            x = augment(x, self.sr, self.gen, self.aug, onsets=onsets).numpy()
        else:   # one chain per class or kind of one-shot, in a fixed order of keys
            keys = np.array([c if c in self.aug_for else c.split(":", 1)[0]
                             for c in self.train_set.labels[idx]])
            out = np.empty(x.shape, np.float32)
            for key in sorted(set(keys)):
                rows = np.flatnonzero(keys == key)
                out[rows] = augment(x[rows], self.sr, self.gen, self.aug_for.get(key, self.aug),
                                    onsets=onsets[rows]).numpy()
            x = out
        return torch.from_numpy(window_frames(self.fe, x, self.spec.window)).to(device)

    def embed(self, model, clips: Clips, lag_s: float, device) -> np.ndarray:
        """Embeddings of every clip of ``clips``, dry, its window ``lag_s`` after the onset."""
        lags = np.full(len(clips.labels), int(lag_s * self.sr))
        emb = []
        for i in range(0, len(lags), 256):
            idx = np.arange(i, min(i + 256, len(lags)))
            f = window_frames(self.fe, self.place(clips, idx, lags[idx]), self.spec.window)
            emb.append(model(torch.from_numpy(f).to(device)).cpu().numpy())
        return np.concatenate(emb) if emb else np.zeros((0, self.spec.dim), np.float32)

    def validation(self) -> Clips:
        """The held-out clips, or the training clips when none are held out."""
        return self.val_set if len(self.val_set.labels) else self.train_set


class SampleTask:
    """Supervised contrastive training of ``sample`` (see the module notes)."""

    def __init__(self, cfg, *, progress: bool = True) -> None:
        from rtsim.models.sample import ARCH_KWARGS, SPEC

        self.spec = with_frontend(SPEC, cfg.frontend)
        self.architecture = "rtsim.models.sample.net:SampleNet"
        self.arch_kwargs = {**ARCH_KWARGS, **cfg.kwargs}
        self.clips = ClipViews(cfg.data.get("train"), spec=self.spec,
                               leave_out=cfg.data.get("leave_out"),
                               validation_fraction=cfg.data.get("validation_fraction", 0.15),
                               augment=cfg.loss.augment, augment_for=cfg.loss.augment_for,
                               max_lag_s=cfg.loss.max_lag_s, seed=cfg.train.seed,
                               progress=progress)
        mix = cfg.loss.classes
        core = {f"drum:{c}" for c in DRUM_CLASSES}
        self.sampler = StratifiedMPerClassSampler(
            self.clips.train_set.labels,
            [(lambda c: c in core, mix.get("drum", 6)),
             (lambda c: c.startswith("drum:"), mix.get("perc", 2)),
             (lambda c: c.startswith("note:"), mix.get("note", 8))],
            m=cfg.loss.m, seed=cfg.train.seed,
            spread=[getattr(self.clips.train_set, f"{k}s") for k in cfg.loss.spread] or None)
        self.loss_fn = SupConLoss(temperature=cfg.loss.temperature)
        self._class_ids = {c: i for i, c in enumerate(self.clips.classes)}
        self._source_ids = {s: i for i, s in enumerate(self.clips.sources)}
        trained = set(self.clips.train_set.sources)
        self.adversary = (ConditionalAdversary(
            int(self.arch_kwargs["dim"]), len(self.clips.classes), len(self.clips.sources),
            weight=cfg.loss.adversary) if cfg.loss.adversary > 0 and len(trained) > 1
            else None)
        self.proxy_weight = float(cfg.loss.proxy)
        self.proxy = (ProxySoftmaxLoss(int(self.arch_kwargs["dim"]), len(self.clips.classes),
                                       temperature=cfg.loss.proxy_temperature,
                                       seed=cfg.train.seed)
                      if self.proxy_weight > 0 else None)

    def build_model(self) -> torch.nn.Module:
        """A fresh network."""
        from rtsim.models.blocks import make_net
        from rtsim.models.sample.net import SampleNet

        return make_net(SampleNet, self.arch_kwargs)

    def param_groups(self, model) -> list[dict]:
        """The network's parameters, then the source adversary's and the class proxies'.

        Those two (each only when configured) live in the task, not in the weights: they
        are training devices only (a resumed run starts them afresh).
        """
        groups = [{"params": list(model.parameters())}]
        for extra in (self.adversary, self.proxy):
            if extra is not None:
                extra.to(next(model.parameters()).device)
                groups.append({"params": list(extra.parameters())})
        return groups

    def loss(self, model, batch: int, rng: np.random.Generator, device) -> torch.Tensor:
        """Supervised contrastive loss of two augmented views of a batch of one-shots.

        The batch's make-up is the sampler's (``[loss] classes`` × ``m``); ``batch`` is
        not used.
        """
        idx = self.sampler.batch()
        idx = np.concatenate([idx, idx])
        frames = self.clips.augmented(idx, self.clips.random_lags(len(idx), rng), rng, device)
        labels = torch.tensor([self._class_ids[c] for c in self.clips.train_set.labels[idx]],
                              device=device)
        z = model(frames)
        loss = self.loss_fn(z, labels)
        if self.adversary is not None:
            sources = torch.tensor([self._source_ids[s] for s in
                                    self.clips.train_set.sources[idx]], device=device)
            loss = loss + self.adversary(z, labels, sources)
        if self.proxy is not None:
            loss = loss + self.proxy_weight * self.proxy(z, labels)
        return loss

    def validate(self, model, device) -> dict[str, float]:
        """5-NN accuracies on held-out kits and programs (dry, window 0.25 s after onset).

        With no held-out clips (``validation_fraction = 0``) the training clips are scored.
        """
        vs = self.clips.validation()
        emb = self.clips.embed(model, vs, 0.25, device)
        out = {}
        for kind in KINDS:
            m = np.char.startswith(vs.labels.astype(str), kind + ":")
            if kind == "drum":  # the six classes a drum kit is made of (perc is many sounds)
                m &= np.isin(vs.labels, [f"drum:{c}" for c in DRUM_CLASSES if c != "perc"])
            if m.sum() > 5 and len(set(vs.groups[m])) > 1:
                out[f"{kind}_acc"] = knn_accuracy(emb[m], vs.labels[m], k=5,
                                                  exclude=vs.groups[m])
        out["score"] = float(np.mean(list(out.values()))) if out else 0.0
        return out
