"""Train song2vec: Adversarially Learned Inference on 5-s spectrograms, without labels.

Each trainer step trains one player on a fresh batch of 5-s crops of the training pieces'
mixes (any start frame inside the non-silent segments): one discriminator step, then
``ratio`` (4) encoder/decoder steps, in turn. The discriminator sees encoder pairs
``(x + ε, G_z(x))`` and decoder pairs ``(G_x(z) + ε, z)``, ``z ~ N(0, I)``, with Gaussian
noise ``ε`` annealed over the run, least-squares targets (positive targets drawn in
0.7–0.9: one-sided label smoothing) and an L2 penalty on its convolution kernels; the
encoder and decoder play with the labels swapped (Ross & Ramakrishnan's objectives, see
:mod:`rtsim.training.losses.lsgan`). The trainer's one optimizer steps only the player
whose loss it is given: the other player's outputs are detached (discriminator step) or
its parameters frozen while the graph is built (generator step).

Every validation logs both players' mean losses since the last one, the piece and genre
clustering of the validation segments' codes (genre for monitoring only: no label
chooses the weights), the spread and error of reconstructions, the spread of codes,
and writes ``reconstructions.png`` and ``losses.png`` to the run folder. A collapse is
reported (a warning, and ``collapse`` in ``metrics.jsonl``) when the discriminator's loss
stays near 0 or the reconstructions (or the codes) barely differ across a batch; after
``collapse_patience`` collapsed validations in a row the run stops with that reason
(``manifest.json``), keeping the best weights from before.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.training.corpora import ensure_corpora
from rtsim.training.losses.lsgan import lsgan_discriminator_loss, lsgan_generator_loss
from rtsim.training.tasks.songs import split_segments

__all__ = ["Song2VecTask", "CollapseMonitor", "spread", "noise_std", "kmeans_ami", "COLLAPSED"]

log = logging.getLogger(__name__)

#: The validation score of a collapsed model.
COLLAPSED = -1e9


def noise_std(step: int, *, start: float, end: float, steps: int) -> float:
    """The discriminator's input noise at ``step``: ``start`` to ``end``, linearly."""
    t = min(max(step / max(steps, 1), 0.0), 1.0)
    return start + (end - start) * t


def spread(x: torch.Tensor | np.ndarray) -> float:
    """Mean over features (pixels, dimensions) of the standard deviation across the batch."""
    x = torch.as_tensor(x, dtype=torch.float64).flatten(1)
    return float(x.std(dim=0).mean()) if len(x) > 1 else 0.0


def kmeans_ami(emb: np.ndarray, labels, *, seed: int = 0) -> float:
    """AMI of a k-means clustering (k = number of labels) against ``labels``."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_mutual_info_score

    labels = np.asarray(labels)
    k = len(np.unique(labels))
    pred = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(
        np.asarray(emb, np.float64))
    return float(adjusted_mutual_info_score(labels, pred))


class CollapseMonitor:
    """Detects a collapsed ALI run.

    Parameters
    ----------
    d_loss : float
        The discriminator's adversarial loss counts as "near 0" below this, on average
        over its last ``window`` steps.
    window : int
    min_spread : float
        Reconstructions whose spread across a batch (:func:`spread`) is below this
        fraction of the data's, or codes whose spread is below this fraction of the
        prior's (1), are "constant".
    patience : int
        Collapsed validations in a row before :attr:`stop` (0: never).
    """

    def __init__(self, *, d_loss: float, window: int, min_spread: float,
                 patience: int) -> None:
        self.d_loss, self.min_spread, self.patience = d_loss, min_spread, patience
        self.recent: deque[float] = deque(maxlen=window)
        self.streak = 0

    def add_d_loss(self, value: float) -> None:
        """Record one discriminator step's adversarial loss."""
        self.recent.append(value)

    def check(self, *, recon_spread: float, code_spread: float) -> list[str]:
        """The collapses seen now (empty when healthy); updates :attr:`streak`."""
        found = []
        if len(self.recent) == self.recent.maxlen and np.mean(self.recent) < self.d_loss:
            found.append(f"discriminator loss {np.mean(self.recent):.4f} < {self.d_loss} "
                         f"over its last {len(self.recent)} steps")
        if recon_spread < self.min_spread:
            found.append(f"reconstructions constant (spread {recon_spread:.4f} of the data's)")
        if code_spread < self.min_spread:
            found.append(f"codes constant (spread {code_spread:.4f} of the prior's)")
        self.streak = self.streak + 1 if found else 0
        return found

    @property
    def stop(self) -> bool:
        """Whether the collapse has lasted ``patience`` validations."""
        return bool(self.patience) and self.streak >= self.patience


@contextmanager
def _frozen(module: torch.nn.Module):
    """Build graphs through ``module`` without gradients for its parameters."""
    flags = [p.requires_grad for p in module.parameters()]
    for p in module.parameters():
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags, strict=True):
            p.requires_grad_(flag)


def _kernel_l2(module: torch.nn.Module) -> torch.Tensor:
    return sum(m.weight.pow(2).sum() for m in module.modules()
               if isinstance(m, torch.nn.Conv2d))


def _noisy(img: torch.Tensor, sigma: float) -> torch.Tensor:
    return img + sigma * torch.randn_like(img) if sigma > 0 else img


class Song2VecTask:
    """ALI with LSGAN losses; see the module notes.

    Config: ``[data] train`` (a songs corpus or a list of them), ``validation_fraction``;
    ``[loss]``: :class:`~rtsim.training.tasks.tables.Song2VecLoss`; ``[train] batch``:
    crops per step, ``steps`` counts both players' steps. Validation score (label free):
    minus the mean squared error of validation segments' reconstructions
    ``G_x(G_z(x))``, ALI's own measure of inference (Dumoulin et al.); a collapsed
    validation scores :data:`COLLAPSED`, below any other.
    """

    def __init__(self, cfg, *, progress: bool = True) -> None:
        from rtsim.models.song2vec import ARCH_KWARGS, SPEC

        self.spec = SPEC
        self.architecture = "rtsim.models.song2vec.net:Song2VecALI"
        self.arch_kwargs = {**ARCH_KWARGS, **cfg.kwargs}
        corpus = ensure_corpora(cfg.data["train"], progress=progress)
        frac = float(cfg.data.get("validation_fraction", 0.1))
        common = dict(role="mix", spec=SPEC.frontend, window=SPEC.window,
                      cache=cache_dir() / "features", progress=progress)

        self.train_set, self.val_set = split_segments(corpus, fraction=frac, **common)
        self.n_frames = np.array([self.train_set.store.n_frames(i)
                                  for i in range(len(self.train_set.store))])
        self.cfg = cfg.loss
        self.noise_steps = cfg.loss.noise_steps or cfg.train.steps
        self.monitor = CollapseMonitor(d_loss=cfg.loss.collapse_d_loss,
                                       window=cfg.loss.collapse_window,
                                       min_spread=cfg.loss.collapse_spread,
                                       patience=cfg.loss.collapse_patience)
        n_val = len(self.val_set.pieces)
        self.val_batch = np.unique(np.linspace(0, n_val - 1, min(64, n_val)).astype(int))
        self.calls, self.d_losses, self.g_losses = 0, [], []
        self.out: Path | None = None
        self.stop_reason = ""

    def begin(self, out: Path) -> None:
        """Remember the run folder (figures go there); a resumed run goes on counting."""
        self.out = Path(out)
        metrics = self.out / "metrics.jsonl"
        if metrics.is_file() and metrics.read_text().strip():
            self.calls = json.loads(metrics.read_text().splitlines()[-1])["step"]

    def build_model(self) -> torch.nn.Module:
        """A fresh ALI model."""
        from rtsim.models.blocks import make_net
        from rtsim.models.song2vec.net import Song2VecALI

        return make_net(Song2VecALI, self.arch_kwargs)

    def param_groups(self, model) -> list[dict]:
        """Encoder + decoder, and the discriminator (``d_lr_scale`` × lr); Adam ``beta1``."""
        betas = (self.cfg.beta1, 0.999)
        players = [*model.encoder.parameters(), *model.decoder.parameters()]
        return [{"params": players, "betas": betas},
                {"params": list(model.discriminator.parameters()), "betas": betas,
                 "lr_scale": self.cfg.d_lr_scale}]

    def crops(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` 5-s crops around random non-silent segments, shape (n, window, n_bins)."""
        s, w = self.train_set, self.train_set.window
        seg = rng.integers(len(s.pieces), size=n)
        pieces = s.pieces[seg]
        starts = s.starts[seg] + rng.integers(-(w // 4), w // 4 + 1, size=n)
        starts = np.clip(starts, 0, np.maximum(self.n_frames[pieces] - w, 0))
        return np.stack([s.store.window(int(p), int(st) + w - 1, w)
                         for p, st in zip(pieces, starts, strict=True)])

    def loss(self, model, batch: int, rng: np.random.Generator, device) -> torch.Tensor:
        """One player's loss: the discriminator's every ``ratio + 1`` steps, else theirs."""
        step, self.calls = self.calls, self.calls + 1
        img = model.image(torch.from_numpy(self.crops(batch, rng)).to(device))
        z = torch.randn(len(img), model.dim, device=device)
        sigma = noise_std(step, start=self.cfg.noise_start, end=self.cfg.noise_end,
                          steps=self.noise_steps)
        if step % (self.cfg.ratio + 1) == 0:
            return self._discriminator_loss(model, img, z, sigma)
        return self._generator_loss(model, img, z, sigma)

    def _discriminator_loss(self, model, img, z, sigma) -> torch.Tensor:
        with torch.no_grad():
            z_hat, x_hat = model.encode(img), model.decode(z)
        d = model.discriminator
        target = torch.empty(len(z), device=z.device).uniform_(self.cfg.smooth_low,
                                                               self.cfg.smooth_high)
        adv = lsgan_discriminator_loss(d(_noisy(img, sigma), z_hat), d(_noisy(x_hat, sigma), z),
                                       target)
        self.d_losses.append(float(adv.detach()))
        self.monitor.add_d_loss(self.d_losses[-1])
        return adv + self.cfg.kernel_l2 * _kernel_l2(d)

    def _generator_loss(self, model, img, z, sigma) -> torch.Tensor:
        d = model.discriminator
        with _frozen(d):
            loss = lsgan_generator_loss(d(_noisy(img, sigma), model.encode(img)),
                                        d(_noisy(model.decode(z), sigma), z))
        self.g_losses.append(float(loss.detach()))
        return loss

    @torch.no_grad()
    def validate(self, model, device) -> dict:
        """Losses, clustering of validation codes, spreads, collapse; writes the figures."""
        val = self.val_set
        codes = val.embed(model, device)
        genres = [val.labels[p].get("genre") for p in val.pieces]
        img = model.image(torch.from_numpy(val.windows(self.val_batch)).to(device))
        recon = model.decode(model.encode(img))
        g = torch.Generator().manual_seed(0)
        samples = model.decode(torch.randn(8, model.dim, generator=g).to(device))
        row = {"d_loss": _mean(self.d_losses), "g_loss": _mean(self.g_losses),
               "piece_ami": kmeans_ami(codes, val.pieces),
               "genre_ami": kmeans_ami(codes, genres) if len(set(genres)) > 1 else 0.0,
               "recon_spread": spread(recon) / max(spread(img), 1e-12),
               "code_spread": spread(codes), "sample_spread": spread(samples),
               "recon_mse": float((recon - img).pow(2).mean()),
               "noise_std": noise_std(self.calls, start=self.cfg.noise_start,
                                      end=self.cfg.noise_end, steps=self.noise_steps)}
        found = self.monitor.check(recon_spread=row["recon_spread"],
                                   code_spread=row["code_spread"])
        row["collapse"] = "; ".join(found)
        if found:
            log.warning("song2vec: collapse at step %d (%d validation(s) in a row): %s",
                        self.calls, self.monitor.streak, row["collapse"])
        if self.monitor.stop:
            self.stop_reason = f"collapse: {row['collapse']}"
        row["score"] = COLLAPSED if found else -row["recon_mse"]
        self.d_losses, self.g_losses = [], []
        if self.out is not None:
            _figures(self.out, self.calls, img, recon, samples, row)
        return row


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _figures(out: Path, step: int, img, recon, samples, row: dict) -> None:
    from rtsim.training.eval.plots import _plt

    plt = _plt()
    n = min(4, len(img))
    pick = np.linspace(0, len(img) - 1, n).astype(int)  # segments of different pieces
    fig, axes = plt.subplots(3, n, figsize=(3.2 * n, 6.5), squeeze=False)
    rows = [("data", img[pick]), ("reconstruction G_x(G_z(x))", recon[pick]),
            ("sample G_x(z)", samples[:n])]
    lo, hi = float(img.min()), float(img.max())
    for r, (title, ims) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            if c < len(ims):
                ax.imshow(ims[c, 0].cpu().numpy(), origin="lower", aspect="auto",
                          vmin=lo, vmax=hi, cmap="magma")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(title, fontsize=8)
    fig.suptitle(f"song2vec step {step}: recon spread {row['recon_spread']:.2f}, "
                 f"code spread {row['code_spread']:.2f}" +
                 (f"\nCOLLAPSE: {row['collapse']}" if row["collapse"] else ""), fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "reconstructions.png", dpi=80)
    plt.close(fig)
    _loss_figure(out, step, row)


def _loss_figure(out: Path, step: int, row: dict) -> None:
    from rtsim.training.eval.plots import _plt

    path = out / "metrics.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() \
        else []
    rows.append({"step": step, **row})  # the trainer appends this one after validate
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    steps = [r["step"] for r in rows]
    for key, label in (("d_loss", "discriminator"), ("g_loss", "encoder + decoder")):
        ax.plot(steps, [np.nan if r.get(key) is None else r[key] for r in rows], label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("LSGAN loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "losses.png", dpi=80)
    plt.close(fig)
