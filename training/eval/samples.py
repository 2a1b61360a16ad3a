"""``rtsim eval samples``: does an embedder group a labelled folder as people would.

For every file of a labelled folder (a CSV ``path, <label columns>…``), each method gives
one vector: a learned embedder the mean of the windows a library would index for the file
(:func:`rtsim.index.build.file_windows`, unit-normalised for cosine embedders); ``pca``
fitted on the folder's own windows, as it is fitted on any library; MFCC statistics (13
MFCC mean and std, delta mean and std over the loud frames, z-scored), the descriptor
FluCoMa and CataRT users match on. The score is 5-NN label accuracy where a query never
sees items of its own group (its kit, its instrument, its pack): a method that only
recognises the same recording scores nothing.

Bad labels files are refused in one line naming what is wrong (missing column, a file the
CSV lists that is not there, a single group); unreadable audio is skipped and counted.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path

import numpy as np

from rtsim.errors import AudioFileError, ConfigError

__all__ = ["read_table", "evaluate_samples", "confusion"]

log = logging.getLogger(__name__)


def read_table(root: str | os.PathLike, labels_csv: str | os.PathLike, *, label: str,
               group: str, where: dict[str, str] | None = None,
               hide: str | None = None) -> list[dict]:
    """Rows ``{"path", "label", "group"}`` of a labels CSV, checked.

    ``where`` keeps the rows whose columns equal the given values (``{"kind": "drum"}``);
    a value written ``!x`` keeps the rows whose column is not ``x``. Rows whose label or
    group is empty are left out. ``hide`` names a column of ``|``-separated recordings
    (``recording`` of a rendered one-shot corpus): each row gets them as the set
    ``"hide"`` (see :func:`~rtsim.training.eval.metrics.knn_labels`).

    Raises
    ------
    ConfigError
        A named column is missing, the CSV lists a missing file, fewer than two groups or
        two labels remain, or nothing is left after ``where``.
    """
    import csv

    from rtsim.training.data.loaders import folder_items

    with open(_exists(labels_csv), newline="", encoding="utf-8") as f:
        header = [h.strip() for h in next(csv.reader(f), [])]
    for col in [label, group, *(where or {}), *([hide] if hide else [])]:
        if col not in header[1:]:
            raise ConfigError(f"labels file {os.fspath(labels_csv)!r} has no column {col!r} "
                              f"(columns: {', '.join(header[1:]) or 'none'})")
    try:
        items = folder_items(root, labels_csv=labels_csv)
    except AudioFileError as exc:
        raise ConfigError(f"labels file names an unknown file: {exc}") from exc
    rows = [{"path": it.path, "key": it.key, "label": it.labels[label],
             "group": it.labels[group],
             **({"hide": frozenset(v for v in (it.labels.get(hide) or "").split("|") if v)}
                if hide else {})} for it in items
            if all(_matches(it.labels.get(k), v) for k, v in (where or {}).items())
            and it.labels[label] and it.labels[group]]
    if not rows:
        raise ConfigError(f"labels file {os.fspath(labels_csv)!r}: no rows with a {label!r} "
                          f"and a {group!r}" + (f" where {where}" if where else ""))
    for col in ("group", "label"):
        if len({r[col] for r in rows}) < 2:
            name = group if col == "group" else label
            raise ConfigError(f"labels file {os.fspath(labels_csv)!r}: column {name!r} has "
                              f"one value only ({rows[0][col]!r}); need at least two "
                              + ("groups to exclude a query's own" if col == "group"
                                 else "labels to tell apart"))
    return rows


def _matches(value, wanted: str) -> bool:
    return value != wanted[1:] if wanted.startswith("!") else value == wanted


def _exists(p) -> Path:
    if not Path(p).is_file():
        raise ConfigError(f"labels file {os.fspath(p)!r}: no such file")
    return Path(p)


def confusion(true, pred, labels: list[str]) -> np.ndarray:
    """Counts ``[true label, predicted label]`` over ``labels`` (no prediction: not counted)."""
    ix = {lab: i for i, lab in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), np.int64)
    for t, p in zip(true, pred, strict=True):
        if p is not None:
            m[ix[t], ix[p]] += 1
    return m


def _mfcc_vectors(audio: list[np.ndarray], sr: int) -> np.ndarray:
    from rtsim.training.eval.baselines import mfcc_descriptor, zscore

    return zscore(np.array([mfcc_descriptor(x, sr=sr) for x in audio]))


def _windows(spec, audio: list[np.ndarray], device) -> list[np.ndarray]:
    from rtsim.features import make_frontend
    from rtsim.index.build import file_windows

    fe = make_frontend(spec.frontend, device=device)
    return [file_windows(x, frontend=fe, window=spec.window, hop=spec.hop,
                         oneshot_max_s=float("inf"), silence_db=-70.0).windows for x in audio]


def _item_vectors(embedder, windows: list[np.ndarray]) -> np.ndarray:
    """One vector per file: its windows' mean, as a library keeps it with ``oneshot_vectors=0``."""
    from rtsim.index.build import embed_windows, oneshot_vectors

    return np.concatenate([oneshot_vectors(embed_windows(embedder, w, batch=256), n=0,
                                           metric=embedder.spec.metric) for w in windows])


def _load(rows: list[dict], sr: int) -> tuple[list[np.ndarray], list[int]]:
    from rtsim.audio.files import load_audio

    audio, ok = [], []
    for i, r in enumerate(rows):
        try:
            x, _ = load_audio(r["path"], sr=sr)
        except AudioFileError as exc:
            log.warning("skipping %s: %s", r["key"], exc)
            continue
        if not len(x) or not np.isfinite(x).all() or not np.abs(x).max() > 0:
            log.warning("skipping %s: empty, silent or non-finite audio", r["key"])
            continue
        audio.append(x)
        ok.append(i)
    return audio, ok


def evaluate_samples(rows: list[dict], embedders: dict, out: Path, *, k: int = 5,
                     device: str = "cpu", pca: bool = True, figures: bool = True) -> dict:
    """Leave-own-group-out k-NN label accuracy of each method over ``rows``.

    Parameters
    ----------
    rows : list of dict
        From :func:`read_table`.
    embedders : dict
        Name -> loaded :class:`~rtsim.embed.Embedder`.
    out : Path
        Folder for ``confusion_<method>.png``.
    pca : bool
        Also score ``pca`` fitted on the folder's windows.

    Returns
    -------
    dict
        ``items``, ``skipped``, ``groups``, ``labels`` (counts), ``chance`` (majority
        label share), ``hidden_recordings`` (whether the rows carry ``hide`` sets),
        ``answerable`` (queries with an example of their label left visible: no method
        can answer the others), and per method ``accuracy``, ``per_label`` recall,
        ``confusion`` and ``vs_mfcc`` (accuracy ratio).
    """
    from rtsim.embed import get
    from rtsim.training.eval.metrics import answerable, knn_labels

    sr = 22050
    audio22, ok = _load(rows, sr)
    kept = [rows[i] for i in ok]
    if len({r["group"] for r in kept}) < 2 or len(kept) < k + 2:
        raise ConfigError(f"only {len(kept)} readable files in {len({r['group'] for r in kept})}"
                          " group(s): too few to evaluate")
    labels = np.array([r["label"] for r in kept])
    groups = np.array([r["group"] for r in kept])
    hide = [r["hide"] for r in kept] if kept and "hide" in kept[0] else None
    names = sorted(set(labels.tolist()))
    vectors = {"mfcc_stats": _mfcc_vectors(audio22, sr)}
    by_sr = {sr: audio22}
    for name, emb in embedders.items():
        audio = _resampled(kept, emb.spec.frontend.sr, by_sr)
        vectors[name] = _item_vectors(emb, _windows(emb.spec, audio, device))
    if pca:
        plugin = get("pca")
        wins = _windows(plugin.spec, _resampled(kept, plugin.spec.frontend.sr, by_sr), device)
        fitted = plugin.load(state=plugin.fit(np.concatenate(wins), plugin.spec))
        vectors["pca"] = _item_vectors(fitted, wins)
    results: dict = {"items": len(kept), "skipped": len(rows) - len(kept),
                     "groups": len(set(groups.tolist())),
                     "labels": dict(Counter(labels.tolist())),
                     "chance": max(Counter(labels.tolist()).values()) / len(labels), "k": k,
                     "hidden_recordings": hide is not None,
                     "answerable": int(answerable(labels, exclude=groups, hide=hide).sum())}
    metrics = {m: "cosine" if m in embedders and embedders[m].spec.metric == "cosine" else "l2"
               for m in vectors}
    for method, v in vectors.items():
        pred = np.array(knn_labels(_as_metric(v, metrics[method]), labels, k=k, exclude=groups,
                                   hide=hide), dtype=object)
        cm = confusion(labels, pred, names)
        results[method] = {
            "accuracy": float(np.mean(pred == labels)),
            "per_label": {n: float(cm[i, i] / max(np.sum(labels == n), 1))
                          for i, n in enumerate(names)},
            "confusion": cm.tolist()}
        if figures:
            _plot_confusion(cm, names, out / f"confusion_{method.replace('/', '_')}.png",
                            title=f"{method}: {results[method]['accuracy']:.3f}")
    base = max(results["mfcc_stats"]["accuracy"], 1e-9)
    for method in vectors:
        results[method]["vs_mfcc"] = results[method]["accuracy"] / base
    return results


def _resampled(rows, sr, by_sr):
    """The rows' audio at ``sr``, read once per rate (kept in ``by_sr``)."""
    if sr not in by_sr:
        by_sr[sr] = _load(rows, sr)[0]
    return by_sr[sr]


def _as_metric(v: np.ndarray, metric: str) -> np.ndarray:
    """Unit rows for cosine (so Euclidean k-NN ranks by cosine), as they are."""
    if metric == "cosine":
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return v


def _plot_confusion(cm: np.ndarray, names: list[str], path: Path, *, title: str) -> None:
    from rtsim.training.eval.plots import _plt

    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(names), 0.8 + 0.5 * len(names)))
    rows = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for i in range(len(names)):
        for j in range(len(names)):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if rows[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted (5-NN, own group excluded)")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
