"""NSynth's layout: ``examples.json`` (a dict keyed by ``note_str``) and ``audio/<note_str>.wav``.

Each note becomes an :class:`~.items.Item` whose labels are

``family`` / ``family_id``
    instrument family name and index (``instrument_family_str`` / ``instrument_family``)
``source``
    ``acoustic``, ``electronic`` or ``synthetic`` (``instrument_source_str``)
``instrument`` / ``instrument_id``
    ``instrument_str`` / ``instrument``
``pitch``, ``velocity``, ``sample_rate``, ``qualities``
    as in the file (``qualities`` is ``qualities_str``)
``program``
    GM program of notes rendered by rtsim, None for the real NSynth
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rtsim.errors import ConfigError
from rtsim.training.data.loaders.items import Item, require_dir, require_file

__all__ = ["REQUIRED_KEYS", "nsynth_items"]

REQUIRED_KEYS = ("pitch", "velocity", "instrument_str", "instrument_family_str")
"""Keys every ``examples.json`` entry must have."""


def _read_examples(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"NSynth folder {os.fspath(path.parent)!r}: examples.json is missing")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{os.fspath(path)!r}: not valid JSON ({e})") from e
    if not isinstance(doc, dict) or not doc:
        raise ConfigError(f"{os.fspath(path)!r}: expected a non-empty object keyed by note_str")
    return doc


def _labels(path: Path, key: str, ex: object) -> dict:
    missing = [k for k in REQUIRED_KEYS if not isinstance(ex, dict) or k not in ex]
    if missing:
        raise ConfigError(f"{os.fspath(path)!r}: note {key!r} lacks {', '.join(missing)}")
    return {
        "family": ex["instrument_family_str"], "family_id": ex.get("instrument_family"),
        "source": ex.get("instrument_source_str"), "instrument": ex["instrument_str"],
        "instrument_id": ex.get("instrument"), "pitch": int(ex["pitch"]),
        "velocity": int(ex["velocity"]), "sample_rate": ex.get("sample_rate"),
        "qualities": list(ex.get("qualities_str", [])), "program": ex.get("program"),
    }


def nsynth_items(root: str | os.PathLike, *, check_files: bool = True) -> list[Item]:
    """List the notes of an NSynth-layout folder (e.g. ``nsynth-train``), sorted by key.

    Parameters
    ----------
    root : str or os.PathLike
        Folder holding ``examples.json`` and ``audio/``.
    check_files : bool
        Check that every listed wav exists (AudioFileError naming the first missing).

    Raises
    ------
    ConfigError
        ``examples.json`` or ``audio/`` missing, invalid JSON, or an entry lacking
        :data:`REQUIRED_KEYS` (the file and note are named).
    """
    root = Path(root)
    path = root / "examples.json"
    doc = _read_examples(path)
    audio = require_dir(root / "audio", what=f"NSynth folder {os.fspath(root)!r}")
    items = []
    for key in sorted(doc):
        wav = audio / f"{key}.wav"
        if check_files:
            require_file(wav, what=f"{os.fspath(path)!r} note {key!r}")
        items.append(Item(key=key, path=wav, labels=_labels(path, key, doc[key])))
    return items
