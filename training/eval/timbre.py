"""Humphrey's evaluation of the timbre map on held-out notes (another soundfont and seed).

Each note is compared through its trajectory: the map's points at fixed times after the
onset (:data:`~rtsim.training.tasks.notes.PHASES_S`), concatenated. Reported: 5-NN
accuracy of the GM program (self excluded) and of the family with every note of the
query's own program removed from the database, ranked retrieval of families, k-means and
GMM clustering of families; the same for MFCC statistics and for the ``pca`` embedder
(fitted on the held-out notes, as it is fitted on any library it indexes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rtsim.cache import cache_dir
from rtsim.training.corpora import ensure_corpus
from rtsim.training.data.loaders import load_item, nsynth_items
from rtsim.training.eval import plots
from rtsim.training.eval.baselines import mfcc_descriptor, zscore
from rtsim.training.eval.metrics import clustering_scores, knn_accuracy, ranked_retrieval
from rtsim.training.tasks.notes import PHASES_S, embed_phases, load_notes

__all__ = ["evaluate_timbre"]


def _scores(desc: np.ndarray, programs, families) -> dict[str, float]:
    return {
        "program_acc": knn_accuracy(desc, programs, k=5),
        "family_acc_other_programs": knn_accuracy(desc, families, k=5, exclude=programs),
        "family_mAP": ranked_retrieval(desc, families)["mAP"],
        **{f"family_{k}": v for k, v in clustering_scores(desc, families).items()},
    }


def evaluate_timbre(embedder, heldout: dict, out: Path, *, progress: bool = True) -> dict:
    """Evaluate a loaded timbre ``Embedder`` on the held-out notes corpus ``heldout``."""
    from rtsim.embed import get

    out.mkdir(parents=True, exist_ok=True)
    spec = embedder.spec
    corpus = ensure_corpus(heldout, progress=progress)
    notes = load_notes(corpus, spec=spec.frontend, cache=cache_dir() / "features",
                       progress=progress)
    programs = [lab["program"] for lab in notes.labels]
    families = [lab["family"] for lab in notes.labels]
    hop_s = spec.frontend.hop_length / spec.frontend.sr
    dev = embedder.device
    with torch.inference_mode():
        desc = embed_phases(embedder.module, notes, window=spec.window, hop_s=hop_s, device=dev)
    results = {"timbre": _scores(desc, programs, families)}
    single = desc.reshape(len(desc), len(PHASES_S), -1)[:, 2]
    results["timbre_single_point"] = {
        "program_acc": knn_accuracy(single, programs, k=5),
        "family_acc_other_programs": knn_accuracy(single, families, k=5, exclude=programs)}
    items = {f"{corpus.name}/{it.key}": it for it in nsynth_items(corpus)}
    stats = [mfcc_descriptor(load_item(items[key], sr=16000), sr=16000)
             for key in (notes.store.keys[i] for i in notes.index)]
    results["mfcc_stats"] = _scores(zscore(np.array(stats)), programs, families)
    results["pca"] = _scores(_pca_descriptors(notes, get("pca"), hop_s), programs, families)
    ratio = results["timbre"]["family_acc_other_programs"] / max(
        results["mfcc_stats"]["family_acc_other_programs"], 1e-9)
    results["targets"] = {"family_acc_vs_mfcc_ratio": ratio, "family_ge_2x_mfcc": ratio >= 2,
                          "program_acc_ge_0.8": results["timbre"]["program_acc"] >= 0.8}
    pts = desc.reshape(len(desc), len(PHASES_S), -1)
    plots.timbre_map(pts[:, 2], families, out / "timbre_map.png",
                     title="timbre map: held-out notes at 0.3 s, by family")
    pick = _pick_notes(notes.labels)
    plots.trajectories([pts[i] for i in pick],
                       [f"{notes.labels[i]['family']} p{notes.labels[i]['program']} "
                        f"{notes.labels[i]['pitch']}" for i in pick],
                       out / "trajectories.png", background=pts[:, 2],
                       title="note trajectories, attack (o) to release (^)")
    results["notes"] = len(desc)
    return results


def _pca_descriptors(notes, plugin, hop_s: float) -> np.ndarray:
    """The ``pca`` embedder, fitted on the held-out notes, at the same phases."""
    spec = plugin.spec
    rng = np.random.default_rng(0)
    sample = np.stack([notes.store.window(int(notes.index[n]), int(rng.choice(notes.loud_ends[n])),
                                          spec.window) for n in range(len(notes.index))
                       for _ in range(4)])
    emb = plugin.load(state=plugin.fit(sample, spec))
    w = notes.phase_windows(spec.window, hop_s)
    return emb(w.reshape(-1, *w.shape[2:])).reshape(len(w), -1)


def _pick_notes(labels, n: int = 6) -> list[int]:
    """A few notes of different families at middle pitches."""
    seen, out = set(), []
    for i, lab in enumerate(labels):
        if lab["family"] not in seen and 55 <= lab["pitch"] <= 67:
            seen.add(lab["family"])
            out.append(i)
        if len(out) == n:
            break
    return out
