"""Checkpoints as safetensors (tensors) plus JSON (everything else); no pickle anywhere."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(path: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    rng: np.random.Generator, meta: dict[str, Any]) -> None:
    """Write ``path.safetensors`` and ``path.json`` atomically (each via a temporary file)."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous()
               for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    scalars: dict[str, Any] = {}
    for idx, state in opt["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value):
                tensors[f"opt.{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{idx}.{name}"] = value
    tensors["rng.torch"] = torch.get_rng_state()
    info = {"meta": meta, "param_groups": opt["param_groups"], "opt_scalars": scalars,
            "rng_numpy": rng.bit_generator.state}
    _atomic(path.with_suffix(".safetensors"), lambda p: save_file(tensors, str(p)))
    _atomic(path.with_suffix(".json"), lambda p: p.write_text(json.dumps(info, default=int)))


def load_checkpoint(path: Path, *, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    rng: np.random.Generator) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` wrote; returns its ``meta``."""
    tensors = load_file(str(path.with_suffix(".safetensors")))
    info = json.loads(path.with_suffix(".json").read_text())
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value
    for key, value in info["opt_scalars"].items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    rng.bit_generator.state = info["rng_numpy"]
    return info["meta"]


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
