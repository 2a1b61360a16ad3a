"""The common shape of a listed example: a key, an audio path and its labels."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rtsim.audio.files import load_audio
from rtsim.errors import AudioFileError, ConfigError

__all__ = ["AUDIO_EXTENSIONS", "Item", "load_item", "require_dir", "require_file"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".mp3", ".opus")
"""File suffixes (lower case) the folder loader treats as audio."""


@dataclass(frozen=True)
class Item:
    """One example: ``key`` (unique in its corpus), audio ``path``, ``labels``."""

    key: str
    path: Path
    labels: dict = field(default_factory=dict)


def load_item(item: Item, *, sr: int | None = None) -> np.ndarray:
    """The item's audio as mono float32, shape (n,), at ``sr`` (None: the file's rate)."""
    y, _ = load_audio(item.path, sr=sr)
    return y


def require_file(path: Path, *, what: str) -> Path:
    """``path`` if it is a file, else AudioFileError naming it and ``what`` lists it."""
    if not path.is_file():
        raise AudioFileError(f"{what}: audio file {os.fspath(path)!r} is missing")
    return path


def require_dir(path: Path, *, what: str) -> Path:
    """``path`` if it is a folder, else ConfigError naming it and ``what`` expects it."""
    if not path.is_dir():
        raise ConfigError(f"{what}: folder {os.fspath(path)!r} is missing")
    return path
