"""Which compute device runs the front ends and models: ``auto``, ``cpu`` or ``cuda``.

Kept in the lowest layer that uses torch, so that a command that only needs the device
(``rtsim eval``, ``rtsim bench``, ``rtsim index build``) does not import the engine.
"""

from __future__ import annotations

from rtsim.errors import ConfigError

__all__ = ["resolve_device", "limit_threads"]


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a CUDA device is present, else ``cpu``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was asked for but no CUDA device is available")
    return device


def limit_threads(n: int) -> None:
    """Cap torch and FAISS (OpenMP) threads."""
    import faiss
    import torch

    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)
