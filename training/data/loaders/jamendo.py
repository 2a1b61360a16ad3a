"""MTG-Jamendo's autotagging TSV files.

Each file has a header ``TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION TAGS`` and one line
per track: the five fixed fields, then any number of tags, all tab-separated. A tag is
``<category>---<tag>`` (``genre---rock``, ``mood/theme---happy``,
``instrument---piano``). Each track becomes an :class:`~.items.Item` labelled

``genre``, ``mood``, ``instrument``
    lists of tag names of the categories ``genre``, ``mood/theme``, ``instrument``
``tags``
    every raw tag
``artist``, ``album``, ``duration``
    the fixed fields (duration in seconds)

Several files (e.g. the per-category ``autotagging_genre.tsv``,
``autotagging_moodtheme.tsv``, ``autotagging_instrument.tsv``) are merged by track id.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rtsim.errors import ConfigError
from rtsim.training.data.loaders.items import Item, require_file

__all__ = ["CATEGORIES", "HEADER", "jamendo_items"]

HEADER = ("TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION")
CATEGORIES = {"genre": "genre", "mood/theme": "mood", "instrument": "instrument"}
"""Label key of each tag category."""


def _parse_line(tsv: Path, line_no: int, line: str) -> dict:
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) < len(HEADER):
        raise ConfigError(f"{os.fspath(tsv)!r} line {line_no}: {len(fields)} fields, "
                          f"expected {len(HEADER)} ({' '.join(HEADER)}) then tags")
    try:
        duration = float(fields[4])
    except ValueError:
        raise ConfigError(f"{os.fspath(tsv)!r} line {line_no}: DURATION={fields[4]!r} "
                          "is not a number") from None
    tags = [t.strip() for t in fields[5:] if t.strip()]
    for t in tags:
        if "---" not in t:
            raise ConfigError(f"{os.fspath(tsv)!r} line {line_no}: tag {t!r} is not "
                              "'<category>---<tag>'")
    return {"id": fields[0], "artist": fields[1], "album": fields[2], "path": fields[3],
            "duration": duration, "tags": tags}


def _read(tsv: Path) -> list[dict]:
    if not tsv.is_file():
        raise ConfigError(f"Jamendo TSV {os.fspath(tsv)!r}: no such file")
    lines = tsv.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t") if lines else []
    if tuple(h.strip() for h in head[:5]) != HEADER:
        raise ConfigError(f"Jamendo TSV {os.fspath(tsv)!r}: header must start with "
                          f"{' '.join(HEADER)} (got {' '.join(head[:5]) or 'nothing'})")
    return [_parse_line(tsv, i, ln) for i, ln in enumerate(lines[1:], start=2) if ln.strip()]


def _labels(row: dict) -> dict:
    out = {key: [] for key in CATEGORIES.values()}
    for t in row["tags"]:
        cat, _, name = t.partition("---")
        if cat in CATEGORIES and name not in out[CATEGORIES[cat]]:
            out[CATEGORIES[cat]].append(name)
    return {**out, "tags": list(row["tags"]), "artist": row["artist"], "album": row["album"],
            "duration": row["duration"]}


def jamendo_items(tsv: str | os.PathLike | Sequence[str | os.PathLike], *,
                  audio_root: str | os.PathLike | None = None, low_quality: bool = False,
                  check_files: bool = True) -> list[Item]:
    """List the tracks of one or more MTG-Jamendo TSV files, in first-seen order.

    Parameters
    ----------
    tsv : path or sequence of paths
        Autotagging TSV file(s); tags of a track listed in several are merged.
    audio_root : str, os.PathLike or None
        Folder the ``PATH`` column is relative to (default: the first TSV's folder).
    low_quality : bool
        Use the low-quality audio release (``14/214.mp3`` -> ``14/214.low.mp3``).
    check_files : bool
        Check that every track's audio exists (AudioFileError naming the first missing).
    """
    paths = [Path(tsv)] if isinstance(tsv, str | os.PathLike) else [Path(t) for t in tsv]
    if not paths:
        raise ConfigError("jamendo_items: no TSV file given")
    root = Path(audio_root) if audio_root is not None else paths[0].parent
    rows: dict[str, dict] = {}
    for p in paths:
        for row in _read(p):
            seen = rows.setdefault(row["id"], row)
            if seen is not row:
                seen["tags"] += [t for t in row["tags"] if t not in seen["tags"]]
    items = []
    for tid, row in rows.items():
        rel = row["path"].replace(".mp3", ".low.mp3") if low_quality else row["path"]
        audio = root / rel
        if check_files:
            require_file(audio, what=f"Jamendo track {tid!r}")
        items.append(Item(key=tid, path=audio, labels=_labels(row)))
    return items
