"""A plain folder of audio files, labelled by sub-folder names or by a CSV file.

Sub-folders: ``root/<label>/.../file.wav`` gets ``{label_name: "<label>"}`` (the first
folder under ``root``); files directly in ``root`` are skipped with a warning.

CSV: a header row, then one row per file; the first column is the path (relative to
``root``, or absolute), every other column a label named by its header (empty cells
are None)::

    path,instrument,pitch
    kicks/k1.wav,kick,
    pads/p1.flac,pad,60
"""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path

from rtsim.errors import ConfigError
from rtsim.training.data.loaders.items import (
    AUDIO_EXTENSIONS,
    Item,
    require_dir,
    require_file,
)

__all__ = ["folder_items"]

log = logging.getLogger(__name__)


def _audio_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and p.suffix.lower() in AUDIO_EXTENSIONS
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def _from_folders(root: Path, label_name: str) -> list[Item]:
    items = []
    for p in _audio_files(root):
        rel = p.relative_to(root)
        if len(rel.parts) == 1:
            log.warning("skipping %s: not in a label sub-folder of %s", rel, root)
            continue
        items.append(Item(key=rel.as_posix(), path=p, labels={label_name: rel.parts[0]}))
    return items


def _from_csv(root: Path, table: Path, check_files: bool) -> list[Item]:
    if not table.is_file():
        raise ConfigError(f"label CSV {os.fspath(table)!r}: no such file")
    with open(table, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or len(rows[0]) < 2:
        raise ConfigError(f"label CSV {os.fspath(table)!r}: needs a header row "
                          "'path,<label>,...' with at least one label column")
    header, items = [h.strip() for h in rows[0]], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ConfigError(f"label CSV {os.fspath(table)!r} line {line}: {len(row)} "
                              f"columns, header has {len(header)}")
        path = root / row[0].strip()
        if check_files:
            require_file(path, what=f"label CSV {os.fspath(table)!r} line {line}")
        labels = {h: (c.strip() or None) for h, c in zip(header[1:], row[1:], strict=True)}
        items.append(Item(key=row[0].strip(), path=path, labels=labels))
    return items


def folder_items(root: str | os.PathLike, *, labels_csv: str | os.PathLike | None = None,
                 label_name: str = "label", check_files: bool = True) -> list[Item]:
    """List labelled audio files under ``root``.

    Parameters
    ----------
    root : str or os.PathLike
        The folder.
    labels_csv : str, os.PathLike or None
        CSV of ``path, label columns...``; None labels by sub-folder.
    label_name : str
        Label key for sub-folder labels.
    check_files : bool
        CSV only: check that every listed file exists.

    Raises
    ------
    ConfigError
        ``root`` or the CSV missing, a malformed CSV (file and line named), or no
        labelled audio at all.
    """
    root = require_dir(Path(root), what="audio folder")
    if labels_csv is None:
        items = _from_folders(root, label_name)
    else:
        items = _from_csv(root, Path(labels_csv), check_files)
    if not items:
        where = os.fspath(labels_csv) if labels_csv else f"sub-folders of {os.fspath(root)!r}"
        raise ConfigError(f"no labelled audio files in {where} "
                          f"(extensions: {' '.join(AUDIO_EXTENSIONS)})")
    return items
