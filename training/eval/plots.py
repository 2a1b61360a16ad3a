"""Evaluation figures (PNG): the timbre map, note trajectories, distance matrices."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["timbre_map", "trajectories", "distance_matrices"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def timbre_map(points: np.ndarray, families: list[str], path: Path, *, title: str) -> None:
    """Scatter of 3-D points coloured by family."""
    plt = _plt()
    fig = plt.figure(figsize=(8, 7))
    ax = fig.add_subplot(projection="3d")
    names = sorted(set(families))
    cmap = plt.get_cmap("tab20", len(names))
    fam = np.array(families)
    for i, name in enumerate(names):
        p = points[fam == name]
        ax.scatter(p[:, 0], p[:, 1], p[:, 2], s=6, color=cmap(i), label=name, alpha=0.7)
    ax.set_title(title)
    ax.legend(fontsize=7, markerscale=2, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def trajectories(paths: list[np.ndarray], labels: list[str], path: Path, *, title: str,
                 background: np.ndarray | None = None) -> None:
    """A few notes' paths through the map, from attack (circle) to release (triangle)."""
    plt = _plt()
    fig = plt.figure(figsize=(8, 7))
    ax = fig.add_subplot(projection="3d")
    if background is not None:
        ax.scatter(*background.T, s=2, color="0.8", alpha=0.4)
    cmap = plt.get_cmap("tab10")
    for i, (p, lab) in enumerate(zip(paths, labels, strict=True)):
        c = cmap(i % 10)
        ax.plot(*p.T, color=c, label=lab)
        ax.scatter(*p[0], marker="o", color=c, s=40)
        ax.scatter(*p[-1], marker="^", color=c, s=40)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def distance_matrices(mats: dict[str, np.ndarray], path: Path, *, title: str) -> None:
    """One heat map per metric (pieces × pieces)."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(mats), figsize=(3.2 * len(mats), 3.4))
    for ax, (name, m) in zip(np.atleast_1d(axes), mats.items(), strict=True):
        ax.imshow(m, cmap="viridis_r")
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def dendrograms(tables: dict[str, np.ndarray], names: list[str], path: Path, *,
                title: str) -> None:
    """Per space: its average-linkage dendrogram over its class-to-class distance table.

    Kumar et al.'s Figure 1 (genre to genre), one column per space.
    """
    from scipy.cluster.hierarchy import dendrogram, linkage
    from scipy.spatial.distance import squareform

    plt = _plt()
    fig, axes = plt.subplots(2, len(tables), figsize=(3.4 * len(tables), 6.4), squeeze=False)
    for col, (space, d) in enumerate(tables.items()):
        sym = (d + d.T) / 2
        np.fill_diagonal(sym, 0.0)
        dendrogram(linkage(squareform(np.maximum(sym, 0.0), checks=False), "average"),
                   labels=names, ax=axes[0, col], leaf_rotation=60, leaf_font_size=8)
        axes[0, col].set_title(space, fontsize=9)
        axes[1, col].imshow(d, cmap="viridis_r")
        axes[1, col].set_xticks(range(len(names)), names, rotation=60, fontsize=7)
        axes[1, col].set_yticks(range(len(names)), names, fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
