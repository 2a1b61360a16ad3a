"""Ross & Ramakrishnan's song2vec: Adversarially Learned Inference on 5-s spectrograms.

Three small convolutional networks share one "spectrogram image": the 5-s log-mel window
(215 frames × 128 bands) z-scored and average-pooled to 64 bands × 128 time steps (39 ms
each) by :func:`spectrogram_image`. The encoder ``G_z`` maps an image to a 64-d code, the
decoder ``G_x`` maps a code to an image, and the discriminator ``D(x, z)`` scores a pair
with a linear output (LSGAN). Only the encoder runs live (about 4 M multiply-adds per
window); the decoder and the discriminator travel in the same state for reconstructions
and for resuming training.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["spectrogram_image", "Encoder", "Decoder", "Discriminator", "Song2VecALI"]


def spectrogram_image(x: torch.Tensor, *, mean: float, std: float,
                      size: tuple[int, int]) -> torch.Tensor:
    """``(batch, frames, n_mels)`` log-mel -> ``(batch, 1, bands, steps)`` z-scored image.

    Average pooling over adaptive windows (``torch.nn.functional.adaptive_avg_pool2d``), so
    every input frame and band counts; ``size`` is ``(bands, steps)``.
    """
    img = ((x - mean) / std).transpose(1, 2).unsqueeze(1)
    return nn.functional.adaptive_avg_pool2d(img, size)


def _down(c_in: int, c_out: int, *, norm: bool, dropout: float = 0.0) -> list[nn.Module]:
    """A 4×4 stride-2 convolution halving both axes, then (batch norm,) leaky ReLU."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    if dropout:
        layers.append(nn.Dropout(dropout))
    return layers


class Encoder(nn.Module):
    """``G_z``: ``(batch, 1, bands, steps)`` image -> ``(batch, dim)`` code."""

    def __init__(self, *, channels: tuple[int, ...], size: tuple[int, int], dim: int) -> None:
        super().__init__()
        layers, c_in = [], 1
        for c in channels:
            layers += _down(c_in, c, norm=c_in > 1)
            c_in = c
        self.features = nn.Sequential(*layers)
        scale = 2 ** len(channels)
        self.fc = nn.Linear(c_in * (size[0] // scale) * (size[1] // scale), dim)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """Codes of a batch of images."""
        return self.fc(self.features(img).flatten(1))


class Decoder(nn.Module):
    """``G_x``: ``(batch, dim)`` code -> ``(batch, 1, bands, steps)`` image (linear output)."""

    def __init__(self, *, channels: tuple[int, ...], size: tuple[int, int], dim: int) -> None:
        super().__init__()
        scale = 2 ** len(channels)
        self.shape = (channels[-1], size[0] // scale, size[1] // scale)
        self.fc = nn.Sequential(nn.Linear(dim, channels[-1] * self.shape[1] * self.shape[2]),
                                nn.BatchNorm1d(channels[-1] * self.shape[1] * self.shape[2]),
                                nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        outs = (*channels[-2::-1], 1)
        c_in = channels[-1]
        for i, c in enumerate(outs):
            layers.append(nn.ConvTranspose2d(c_in, c, 4, stride=2, padding=1,
                                             bias=i == len(outs) - 1))
            if i < len(outs) - 1:
                layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            c_in = c
        self.features = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images of a batch of codes."""
        return self.features(self.fc(z).view(len(z), *self.shape))


class Discriminator(nn.Module):
    """``D(x, z)``: a joint score of image and code, linear output (LSGAN), no batch norm.

    The image goes through strided convolutions, the code through a small MLP; their
    features are concatenated and mapped to one number. Dropout in every layer, as in
    Dumoulin et al.'s ALI discriminators.
    """

    def __init__(self, *, channels: tuple[int, ...], size: tuple[int, int], dim: int,
                 hidden: int, dropout: float) -> None:
        super().__init__()
        layers, c_in = [], 1
        for c in channels:
            layers += _down(c_in, c, norm=False, dropout=dropout)
            c_in = c
        scale = 2 ** len(channels)
        self.x_net = nn.Sequential(*layers, nn.Flatten(),
                                   nn.Linear(c_in * (size[0] // scale) * (size[1] // scale),
                                             hidden), nn.LeakyReLU(0.2, inplace=True))
        self.z_net = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2, inplace=True),
                                   nn.Dropout(dropout), nn.Linear(hidden, hidden),
                                   nn.LeakyReLU(0.2, inplace=True))
        self.joint = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, hidden),
                                   nn.LeakyReLU(0.2, inplace=True), nn.Dropout(dropout),
                                   nn.Linear(hidden, 1))

    def forward(self, img: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Scores, shape (batch,)."""
        return self.joint(torch.cat([self.x_net(img), self.z_net(z)], dim=1)).squeeze(1)


class Song2VecALI(nn.Module):
    """The whole ALI model; ``forward`` is the embedder (the encoder on a log-mel window).

    Parameters
    ----------
    channels : tuple of int
        Filters of the encoder's and the discriminator's stride-2 convolutions (the
        decoder mirrors them); each halves both axes of the image.
    bands, steps : int
        Image size: mel bands and time steps after pooling (divisible by
        ``2 ** len(channels)``).
    dim : int
        Code dimension (64, as the paper).
    hidden : int
        Width of the discriminator's fully connected layers.
    dropout : float
        The discriminator's dropout.
    mean, std : float
        Input z-scoring of the ``log10(1 + 10·S)`` mel values.

    Shapes: ``forward`` ``(batch, frames, n_mels)`` -> ``(batch, dim)``; :meth:`image` gives
    ``(batch, 1, bands, steps)``; :meth:`decode` ``(batch, dim)`` -> that image shape.
    """

    def __init__(self, *, channels: tuple[int, ...] = (12, 24, 48, 64), bands: int = 64,
                 steps: int = 128, dim: int = 64, hidden: int = 256, dropout: float = 0.1,
                 mean: float = 0.3, std: float = 0.5) -> None:
        super().__init__()
        scale = 2 ** len(channels)
        if bands % scale or steps % scale:
            raise ValueError(f"bands={bands} and steps={steps} must be divisible by "
                             f"2**len(channels)={scale}")
        self.size, self.dim, self.mean, self.std = (bands, steps), dim, mean, std
        self.encoder = Encoder(channels=channels, size=self.size, dim=dim)
        self.decoder = Decoder(channels=channels, size=self.size, dim=dim)
        self.discriminator = Discriminator(channels=channels, size=self.size, dim=dim,
                                           hidden=hidden, dropout=dropout)

    def image(self, x: torch.Tensor) -> torch.Tensor:
        """The spectrogram image the three networks see (:func:`spectrogram_image`)."""
        return spectrogram_image(x, mean=self.mean, std=self.std, size=self.size)

    def encode(self, img: torch.Tensor) -> torch.Tensor:
        """``G_z``: codes of images."""
        return self.encoder(img)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``G_x``: images of codes."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch of log-mel windows."""
        return self.encoder(self.image(x))
