"""A library as files other tools read: FluCoMa datasets, CSV, JSON.

One point per item (an item's vectors averaged, then re-normalised for a cosine library),
or its 3-D map position (``what = "xyz"``):

- ``flucoma``: a DataSet (``{"cols": N, "data": {id: [N floats]}}``, the layout
  ``fluid.dataset~ read`` accepts) and beside it a LabelSet of the same ids
  (``{"cols": 1, "data": {id: [label]}}``; the label is the item's folder);
- ``csv``: one row per item: id, name, file, offset_s, length_s, label, x, y, z and, for
  ``vectors``, v0 … v{dim-1};
- ``json``: the same as a list of objects.

Files are written whole or not at all (a temporary file, then a rename).
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np

from rtsim.errors import ConfigError, LibraryError

__all__ = ["FORMATS", "WHAT", "item_points", "flucoma_dataset", "flucoma_labelset",
           "export_library"]

FORMATS = ("flucoma", "csv", "json")
WHAT = ("vectors", "xyz")


def item_points(vectors: np.ndarray, row_item: np.ndarray, count: int, *,
                metric: str) -> np.ndarray:
    """One vector per item: the mean of its rows (unit length again for ``cosine``)."""
    sums = np.zeros((count, vectors.shape[1]), np.float64)
    np.add.at(sums, row_item, vectors)
    n = np.bincount(row_item, minlength=count)[:, None]
    out = (sums / np.maximum(n, 1)).astype(np.float32)
    if metric == "cosine":
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out


def flucoma_dataset(ids: list[str], points: np.ndarray) -> dict:
    """FluCoMa's DataSet layout: ``cols`` and one list of floats per identifier."""
    return {"cols": int(points.shape[1]),
            "data": {i: [float(v) for v in row] for i, row in zip(ids, points, strict=True)}}


def flucoma_labelset(ids: list[str], labels: list[str]) -> dict:
    """FluCoMa's LabelSet layout: a DataSet of one string per identifier."""
    return {"cols": 1, "data": {i: [str(lab)] for i, lab in zip(ids, labels, strict=True)}}


def export_library(library, out: str | os.PathLike, *, fmt: str = "flucoma",
                   what: str = "vectors") -> list[Path]:
    """Write ``library`` to ``out`` in ``fmt``; the paths written.

    Raises
    ------
    ConfigError
        For an unknown format or ``what``.
    LibraryError
        When the library keeps only compressed codes (no vectors to export).
    """
    if fmt not in FORMATS or what not in WHAT:
        raise ConfigError(f"export format={fmt!r} must be one of {FORMATS} and what={what!r} "
                          f"one of {WHAT}")
    points = _points(library, what)
    items = library.all_items()
    root = library.source_root
    ids = [str(i) for i in range(library.count)]
    labels = [it.folder for it in items]
    out = Path(out)
    if fmt == "flucoma":
        labels_path = out.with_name(out.stem + "-labels" + (out.suffix or ".json"))
        _write(out, json.dumps(flucoma_dataset(ids, points), indent=1))
        _write(labels_path, json.dumps(flucoma_labelset(ids, labels), indent=1))
        return [out, labels_path]
    rows = [{"id": i, "name": it.name, "file": str(root / it.file), "offset_s": it.offset_s,
             "length_s": it.length_s, "label": lab,
             **dict(zip("xyz", (float(v) for v in library.xyz[i]), strict=True))}
            for i, (it, lab) in enumerate(zip(items, labels, strict=True))]
    if fmt == "json":
        for r, p in zip(rows, points, strict=True):
            if what == "vectors":
                r["vector"] = [float(v) for v in p]
        _write(out, json.dumps({"embedder": library.manifest.embedder, "what": what,
                                "items": rows}, indent=1))
        return [out]
    buf = io.StringIO()
    extra = [f"v{j}" for j in range(points.shape[1])] if what == "vectors" else []
    w = csv.writer(buf)
    w.writerow([*rows[0], *extra] if rows else ["id"])
    for r, p in zip(rows, points, strict=True):
        w.writerow([*r.values(), *([float(v) for v in p] if extra else [])])
    _write(out, buf.getvalue())
    return [out]


def _points(library, what: str) -> np.ndarray:
    if what == "xyz":
        return np.asarray(library.xyz, np.float32)
    vectors = library.vectors()
    if vectors is None:
        raise LibraryError(f"library {library.path} keeps only compressed codes: export "
                           "what='xyz', or rebuild it with another index kind")
    return item_points(vectors, library.row_item, library.count,
                       metric=library.manifest.metric)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
