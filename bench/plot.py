"""PNG figures of a report: bars for side-by-side scenarios, CDFs for latency ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rtsim.errors import ConfigError

__all__ = ["plot_report"]


def plot_report(report, path: str | Path) -> None:
    """Write ``report`` as a PNG figure.

    Latency CDFs of every stage when the report asks for them (``extra["cdf"]``),
    otherwise p50 bars with p99 whiskers.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError("--plot needs matplotlib: pip install 'rtsim[plot]'") from exc
    fig, ax = plt.subplots(figsize=(9, 0.45 * max(4, len(report.stages)) + 1.5))
    if report.extra.get("cdf"):
        for name, s in report.samples.items():
            x = np.sort(np.asarray(s) * 1e3)
            ax.plot(x, np.arange(1, x.size + 1) / x.size, label=name)
        ax.set_xscale("log")
        ax.set_xlabel("ms")
        ax.set_ylabel("fraction of hops")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
    else:
        names = list(report.stages)
        p50 = np.array([report.stages[n]["p50_ms"] for n in names])
        p99 = np.array([report.stages[n]["p99_ms"] for n in names])
        y = np.arange(len(names))
        ax.barh(y, p50, xerr=[np.zeros_like(p50), np.maximum(p99 - p50, 0)], color="#4a7ab0",
                capsize=3)
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("ms per call (bar: p50, whisker: p99)")
        ax.grid(alpha=0.3, axis="x", which="both")
    ax.set_title(f"rtsim bench {report.scenario}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
