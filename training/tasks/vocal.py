"""Train a ``vocal/<input>`` embedder: Kumar et al.'s genre classifier, split by singer.

Segments are 3-s windows (50 % overlap, silent ones left out) of the input's audio: the
mix, the vocal stem, the mix without the vocal, or the mix's harmonic constant-Q stack.
Each step draws ``batch`` segments with genres balanced and trains the network's genre
head by cross-entropy; the penultimate layer becomes the embedding. Validation pieces
are whole singers (``[data] validation_fraction`` of the singers, by hash), as the paper
holds out artists: its score is the genre accuracy of their segments, and the singer
retrieval precision at 5 of their pieces is logged beside it.
"""

from __future__ import annotations

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.errors import ConfigError
from rtsim.training.corpora import ensure_corpora
from rtsim.training.eval.metrics import retrieval_precision
from rtsim.training.tasks.songs import SegmentSet, load_segments, split_segments

__all__ = ["VocalTask", "piece_vectors"]


def piece_vectors(seg: SegmentSet, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each piece's mean segment vector (unit length) and the pieces' store items."""
    pieces = np.unique(seg.pieces)
    v = np.stack([z[seg.pieces == p].mean(0) for p in pieces])
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12), pieces


class VocalTask:
    """Cross-entropy genre classification of 3-s segments; see the module notes.

    Config: ``[model] kwargs.input`` (mix, vocal, instrumental or pitch), ``[data] train``
    (songs corpora rendered with ``singers``), ``validation_fraction`` (of the singers,
    default 0.15); ``[loss] label_smoothing`` (0), ``label`` (``"genre"``, the paper's;
    ``"singer"`` classifies the training singers instead, and is then validated by the
    held-out singers' retrieval precision alone).
    """

    def __init__(self, cfg, *, progress: bool = True) -> None:
        from rtsim.models.vocal import GENRES, INPUTS, ROLE_OF, arch_kwargs, spec_for

        name = cfg.kwargs.get("input")
        if name not in INPUTS:
            raise ConfigError(f"[model] kwargs.input={name!r} must be one of {INPUTS}")
        self.spec = spec_for(name)
        self.architecture = "rtsim.models.vocal.net:VocalNet"
        self.arch_kwargs = {**arch_kwargs(name),
                            **{k: v for k, v in cfg.kwargs.items() if k != "input"}}
        corpus = ensure_corpora(cfg.data["train"], progress=progress)
        frac = float(cfg.data.get("validation_fraction", 0.15))
        common = dict(role=ROLE_OF[name], spec=self.spec.frontend, window=self.spec.window,
                      cache=cache_dir() / "features", progress=progress)
        probe = load_segments(corpus, **common)
        singer_of = {key: lab.get("singer") for key, lab in
                     zip(probe.store.keys, probe.labels, strict=True)}
        if not singer_of or None in singer_of.values():
            raise ConfigError("vocal training needs singers: render the corpus with "
                              "singers = [lo, hi]")
        self.train_set, self.val_set = split_segments(
            corpus, fraction=frac, group=singer_of.__getitem__, **common)
        self.label = cfg.loss.label
        self.classes = (GENRES if self.label == "genre" else
                        tuple(sorted({self.train_set.labels[p]["singer"]
                                      for p in np.unique(self.train_set.pieces)})))
        self.arch_kwargs["n_classes"] = len(self.classes)
        self.train_y = self._classes(self.train_set)
        self.val_y = self._classes(self.val_set) if self.label == "genre" else None
        groups = [np.flatnonzero(self.train_y == c) for c in range(len(self.classes))]
        self.by_class = [ix for ix in groups if len(ix)]
        self.smoothing = float(cfg.loss.label_smoothing)

    def _classes(self, seg: SegmentSet) -> np.ndarray:
        item = np.array([self.classes.index(lab[self.label]) if lab[self.label] in
                         self.classes else -1 for lab in seg.labels])
        return item[seg.pieces] if len(seg.pieces) else np.zeros(0, int)

    def build_model(self) -> torch.nn.Module:
        """A fresh vocal network."""
        from rtsim.models.blocks import make_net
        from rtsim.models.vocal.net import VocalNet

        kw = dict(self.arch_kwargs)
        kw["harmonics"] = tuple(kw.get("harmonics", ()))
        return make_net(VocalNet, kw)

    def loss(self, model, batch: int, rng: np.random.Generator, device) -> torch.Tensor:
        """Cross-entropy of ``batch`` segments, classes drawn in turn."""
        groups = rng.permutation(len(self.by_class))
        idx = np.array([rng.choice(self.by_class[groups[i % len(groups)]])
                        for i in range(batch)])
        x = torch.from_numpy(self.train_set.windows(idx)).to(device)
        y = torch.from_numpy(self.train_y[idx]).to(device)
        return torch.nn.functional.cross_entropy(model.logits(x), y,
                                                 label_smoothing=self.smoothing)

    def validate(self, model, device) -> dict[str, float]:
        """Genre accuracy of the held-out singers' segments; their singer P@5.

        The score is the genre accuracy (``label = "genre"``) or the singer P@5.
        """
        idx = np.arange(len(self.val_set.pieces))
        v, pieces = piece_vectors(self.val_set, self.val_set.embed(model, device))
        singers = np.array([self.val_set.labels[p]["singer"] for p in pieces])
        p5 = retrieval_precision(v, singers, k=5)
        out = {"singer_p5": p5["precision"], "singer_random": p5["random"],
               "segments": float(len(idx))}
        if self.val_y is None:
            return {"score": p5["precision"], **out}
        with torch.no_grad():
            logits = torch.cat([model.logits(torch.from_numpy(
                self.val_set.windows(idx[i:i + 128])).to(device)).cpu()
                for i in range(0, len(idx), 128)])
        acc = float((logits.argmax(1).numpy() == self.val_y).mean())
        return {"score": acc, "genre_acc": acc, **out}
