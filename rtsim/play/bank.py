"""A library's samples decoded once, at the output rate, into one memory-mapped array.

:func:`load_bank` decodes every item of a library (its file, from its offset, for its
length) to mono float32 at the output rate and stores them end to end in a cache file
keyed by the library's manifest and the rate, written atomically; later runs map that
file (``np.memmap``), so a library of 10^5 items costs address space, not memory, and
starts at once. Items whose file is missing or unreadable become empty (counted and
named in a warning): they play nothing, the others play.

The output callback must never wait on the disk: :meth:`SampleBank.prefetch`, called on
the engine thread when a voice is asked for, touches every page of the item first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtsim.errors import RtsimError

__all__ = ["SampleBank", "load_bank"]

log = logging.getLogger(__name__)

PAGE_FLOATS = 1024  # float32 values per 4-KiB page


@dataclass
class SampleBank:
    """Every item's samples, end to end.

    Attributes
    ----------
    audio : np.ndarray, shape (total,), float32
        Often a read-only ``np.memmap``.
    start, length : np.ndarray, shape (n_items,), int64
        Where item ``i`` lies in ``audio``.
    sr : int
    missing : list of str
        Files that could not be read (their items are empty).
    """

    audio: np.ndarray
    start: np.ndarray
    length: np.ndarray
    sr: int
    missing: list[str]

    @property
    def count(self) -> int:
        """Number of items."""
        return len(self.start)

    def span(self, item: int) -> tuple[int, int]:
        """``(start, length)`` of ``item`` in :attr:`audio` (length 0 for a bad id)."""
        if not 0 <= item < len(self.start):
            return 0, 0
        return int(self.start[item]), int(self.length[item])

    def prefetch(self, item: int) -> None:
        """Read one value per page of ``item`` so that playing it never waits on the disk."""
        s, n = self.span(item)
        if n:
            float(self.audio[s : s + n : PAGE_FLOATS].sum())


def _key(library, sr: int) -> str:
    m = library.manifest
    blob = json.dumps({"files": m.files, "built_at": m.built_at, "sr": sr}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def load_bank(library, *, sr: int, cache: Path | None = None) -> SampleBank:
    """The :class:`SampleBank` of ``library`` at ``sr`` (decoded once, then mapped).

    Parameters
    ----------
    library : rtsim.index.Library
    sr : int
        Output rate (Hz).
    cache : Path, optional
        Folder of bank files (default ``cache_dir()/play``).
    """
    from rtsim.cache import cache_dir

    folder = Path(cache) if cache is not None else cache_dir() / "play"
    folder.mkdir(parents=True, exist_ok=True)
    key = _key(library, sr)
    data, meta = folder / f"{key}.f32", folder / f"{key}.json"
    if not (data.is_file() and meta.is_file()):
        _decode(library, sr, data, meta)
    info = json.loads(meta.read_text())
    start = np.asarray(info["start"], np.int64)
    length = np.asarray(info["length"], np.int64)
    total = int(start[-1] + length[-1]) if len(start) else 0
    audio = np.memmap(data, np.float32, "r", shape=(total,)) if total else \
        np.zeros(1, np.float32)  # np.memmap cannot map an empty file
    if info["missing"]:
        log.warning("play: %d file(s) of %s could not be read and will not play, e.g. %s",
                    len(info["missing"]), library.path, info["missing"][0])
    return SampleBank(audio, start, length, sr, info["missing"])


def _decode(library, sr: int, data: Path, meta: Path) -> None:
    """Decode every item to ``data`` (raw float32) and its layout to ``meta``, atomically."""
    folder = library.source_root
    items = library.all_items()
    starts, lengths, missing = [], [], []
    tmp = data.with_suffix(f".tmp{os.getpid()}")
    try:
        _write_items(items, folder, sr, tmp, starts, lengths, missing)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, data)
    meta_tmp = meta.with_suffix(f".tmp{os.getpid()}")
    meta_tmp.write_text(json.dumps({"start": starts, "length": lengths, "missing": missing}))
    os.replace(meta_tmp, meta)


def _write_items(items, folder: Path, sr: int, out: Path, starts: list, lengths: list,
                 missing: list) -> None:
    from rtsim.audio.files import load_audio

    cache: dict[str, np.ndarray | None] = {}
    pos = 0
    with open(out, "wb") as f:
        for item in items:
            if item.file not in cache:
                cache.clear()  # consecutive items share a file (windows of a long one)
                try:
                    cache[item.file] = load_audio(folder / item.file, sr=sr)[0]
                except RtsimError as exc:
                    cache[item.file] = None
                    missing.append(f"{item.file} ({exc})")
            y = cache[item.file]
            seg = np.zeros(0, np.float32) if y is None else \
                y[int(round(item.offset_s * sr)) : int(round((item.offset_s + item.length_s) * sr))]
            np.ascontiguousarray(seg, "<f4").tofile(f)
            starts.append(pos)
            lengths.append(len(seg))
            pos += len(seg)
