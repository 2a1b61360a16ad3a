"""Measurement helpers shared by every benchmark scenario.

Timing rules: warm up first, then many repeats of one call each timed with
``perf_counter``; report percentiles, never a mean alone; compare implementations as
ratios measured side by side in the same run (the machine is shared and noisy).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Timing", "time_calls", "interleaved", "summary", "Report", "machine_info"]


@dataclass
class Timing:
    """Durations (seconds) of repeated calls of one implementation."""

    name: str
    seconds: np.ndarray

    def summary(self) -> dict[str, float]:
        """Percentiles in milliseconds (``p50_ms``, ``p99_ms``, ``p999_ms``, ``n``...)."""
        return summary(self.seconds)


def summary(seconds: np.ndarray) -> dict[str, float]:
    """``p50_ms``, ``p90_ms``, ``p99_ms``, ``p999_ms``, ``mean_ms``, ``max_ms`` and ``n``."""
    s = np.asarray(seconds, np.float64) * 1e3
    if s.size == 0:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "p999_ms": float("nan"), "n": 0}
    out = {f"p{k}_ms": float(np.percentile(s, q))
           for k, q in (("50", 50), ("90", 90), ("99", 99), ("999", 99.9))}
    out.update(mean_ms=float(s.mean()), max_ms=float(s.max()), n=int(s.size))
    return out


def time_calls(fn: Callable[[], Any], *, name: str, warmup: int = 20, repeats: int = 300,
               max_seconds: float = 10.0) -> Timing:
    """Time up to ``repeats`` calls of ``fn`` after ``warmup`` untimed ones.

    Stops early once ``max_seconds`` have passed (slow baselines), keeping what it has.
    """
    for _ in range(warmup):
        fn()
    out = []
    stop = time.perf_counter() + max_seconds
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        out.append(t1 - t0)
        if t1 > stop:
            break
    return Timing(name, np.array(out))


def interleaved(fns: dict[str, Callable[[], Any]], *, warmup: int = 20, repeats: int = 300,
                block: int = 25, max_seconds: float = 30.0) -> dict[str, Timing]:
    """Time several implementations in rotating blocks of ``block`` calls each.

    Rotation spreads the machine's noise over all of them alike; blocks keep each one's
    caches warm, as they are when it runs hop after hop.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    stop = time.perf_counter() + max_seconds
    while min(len(v) for v in times.values()) < repeats and time.perf_counter() < stop:
        for k, fn in fns.items():
            for _ in range(min(block, repeats - len(times[k]))):
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
    return {k: Timing(k, np.array(v)) for k, v in times.items()}


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0],
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "platform": platform.platform()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        import faiss

        info["faiss"] = faiss.__version__
    except ImportError:
        pass
    return info


@dataclass
class Report:
    """What a scenario returns: stages, ratios and scenario-specific rows.

    ``stages`` maps a name to :func:`summary` output; ``ratios`` are "theirs ÷ ours"
    (above 1: ours is faster); ``rows`` hold tables such as the search grid.
    """

    scenario: str
    stages: dict[str, dict[str, float]] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    samples: dict[str, np.ndarray] = field(default_factory=dict)  # for plots, not JSON

    def add(self, timing: Timing) -> dict[str, float]:
        """Record a timing as a stage (and keep its samples for plots); returns its summary."""
        self.stages[timing.name] = s = timing.summary()
        self.samples[timing.name] = timing.seconds
        return s

    def add_samples(self, name: str, seconds: np.ndarray) -> dict[str, float]:
        """Record raw durations (seconds) as a stage."""
        return self.add(Timing(name, np.asarray(seconds, np.float64)))

    def ratio(self, ours: str, theirs: str) -> float:
        """Record ``theirs p50 ÷ ours p50`` as ``ratios["<ours>_vs_<theirs>"]``."""
        r = self.stages[theirs]["p50_ms"] / self.stages[ours]["p50_ms"]
        self.ratios[f"{ours}_vs_{theirs}"] = r
        return r

    def to_dict(self, *, command: str) -> dict[str, Any]:
        """JSON-able form, with the command, the machine and the date."""
        return {"scenario": self.scenario, "command": command,
                "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "machine": machine_info(), "stages": self.stages, "ratios": self.ratios,
                "rows": self.rows, **self.extra, "notes": self.notes}

    def write_json(self, path: str | Path, *, command: str) -> None:
        """Write :meth:`to_dict` to ``path``."""
        Path(path).write_text(json.dumps(self.to_dict(command=command), indent=2,
                                         default=_jsonable) + "\n")


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON-able: {type(x)}")
