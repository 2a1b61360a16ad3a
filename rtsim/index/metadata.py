"""The library's item table in SQLite: one row per vector, ``id`` = FAISS row number."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rtsim.errors import LibraryError

__all__ = ["Item", "ItemFiles", "FileStat", "write_items", "read_items", "read_names",
           "read_item_files", "read_file_stats"]

_SCHEMA = """
CREATE TABLE items (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    file     TEXT NOT NULL,
    offset_s REAL NOT NULL,
    length_s REAL NOT NULL,
    labels   TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE files (
    file     TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL
);
"""

FileStat = tuple[int, int]
"""A source file's ``(size in bytes, modification time in ns)``: what ``--update`` compares."""


@dataclass(frozen=True)
class Item:
    """One library entry.

    Attributes
    ----------
    name : str
        Display name (file stem; ``stem@12.35s`` for a window of a long file).
    file : str
        Path relative to the folder the library was built from.
    offset_s, length_s : float
        Where in the file the entry's sound is (0 and the duration for one-shots).
    labels : dict
        E.g. ``{"folder": "drums/snares"}``.
    """

    name: str
    file: str
    offset_s: float
    length_s: float
    labels: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """The item's folder label, ``"."`` for the library's top folder."""
        return self.labels.get("folder", "") or "."


def write_items(path: Path, items: list[Item],
                files: dict[str, FileStat] | None = None) -> None:
    """Create the tables at ``path``: ``items`` as ids 0..n-1, and ``files`` they came from.

    ``files`` maps each source file's relative path to its (size, mtime_ns).
    """
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)",
            ((i, it.name, it.file, it.offset_s, it.length_s, json.dumps(it.labels))
             for i, it in enumerate(items)),
        )
        con.executemany("INSERT INTO files VALUES (?, ?, ?)",
                        ((f, int(st[0]), int(st[1])) for f, st in (files or {}).items()))
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode=DELETE")  # leave a single self-contained file
    finally:
        con.close()


def read_file_stats(path: Path) -> dict[str, FileStat]:
    """The source files a library was built from (empty for libraries older than the table)."""
    con = _connect(path)
    try:
        return {f: (size, mtime) for f, size, mtime in
                con.execute("SELECT file, size, mtime_ns FROM files")}
    except sqlite3.OperationalError:  # no such table: built before rtsim recorded files
        return {}
    finally:
        con.close()


def read_items(path: Path, ids: list[int] | None = None) -> list[Item]:
    """Items by id (all, in id order, when ``ids`` is None)."""
    con = _connect(path)
    try:
        if ids is None:
            rows = con.execute("SELECT * FROM items ORDER BY id").fetchall()
        else:
            marks = ",".join("?" * len(ids))
            found = {r[0]: r for r in con.execute(f"SELECT * FROM items WHERE id IN ({marks})",
                                                   [int(i) for i in ids])}
            rows = [found[i] for i in ids if i in found]
    finally:
        con.close()
    return [Item(r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]


def read_names(path: Path) -> list[str]:
    """All display names in id order (kept in memory for publishing)."""
    con = _connect(path)
    try:
        rows = con.execute("SELECT id, name FROM items ORDER BY id").fetchall()
    finally:
        con.close()
    if [r[0] for r in rows] != list(range(len(rows))):
        raise LibraryError(f"{path}: item ids are not 0..{len(rows) - 1}")
    return [r[1] for r in rows]


@dataclass(frozen=True)
class ItemFiles:
    """Where every item's sound is, by id: what a receiver needs to play a match.

    Attributes
    ----------
    paths : list of str
        The distinct files, as absolute paths (joined once, not per lookup: the engine
        looks up every match of every hop).
    file_of : np.ndarray, shape (items,), int32
        Index into ``paths`` of each item.
    offset_s, length_s : np.ndarray, shape (items,), float64
        Where in its file each item's sound is.
    """

    paths: list[str]
    file_of: np.ndarray
    offset_s: np.ndarray
    length_s: np.ndarray

    def __len__(self) -> int:
        return len(self.file_of)

    def __getitem__(self, item: int) -> tuple[str, float, float]:
        """``(absolute path, offset_s, length_s)`` of item ``item``."""
        return (self.paths[self.file_of[item]], float(self.offset_s[item]),
                float(self.length_s[item]))


def read_item_files(path: Path, root: Path) -> ItemFiles:
    """Every item's file (under ``root``), offset and length, in id order."""
    con = _connect(path)
    try:
        rows = con.execute("SELECT file, offset_s, length_s FROM items ORDER BY id").fetchall()
    finally:
        con.close()
    files: dict[str, int] = {}
    file_of = np.fromiter((files.setdefault(r[0], len(files)) for r in rows), np.int32, len(rows))
    return ItemFiles([str(Path(root) / f) for f in files], file_of,
                     np.fromiter((r[1] for r in rows), np.float64, len(rows)),
                     np.fromiter((r[2] for r in rows), np.float64, len(rows)))


def _connect(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise LibraryError(f"library metadata missing: {path}")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        con.execute("SELECT count(*) FROM items").fetchone()
        return con
    except sqlite3.DatabaseError as exc:
        raise LibraryError(f"library metadata {path} is unreadable: {exc}") from exc
