"""Checks on library and audio paths that need nothing heavy (no FAISS, no torch).

Commands run them first, so that a wrong path is reported in a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path

from rtsim.errors import ConfigError, LibraryError
from rtsim.index.manifest import Manifest

__all__ = ["MANIFEST", "EXISTING", "audio_folder", "library_folder", "check_destination"]

MANIFEST = "manifest.json"
EXISTING = ("refuse", "replace", "update", "overwrite")
"""What a build does when its destination is already a library (``overwrite``: replace it
with no backup, for the caches rtsim itself owns, such as the demo's library)."""


def audio_folder(path: str | Path) -> Path:
    """``path`` if it is a folder, else LibraryError naming it."""
    p = Path(path).expanduser()
    if not p.is_dir():
        raise LibraryError(f"audio folder not found: {p}")
    return p


def library_folder(path: str | Path) -> Path:
    """``path`` if it holds a library manifest, else LibraryError saying what it is."""
    p = Path(path).expanduser()
    if not p.is_dir():
        raise LibraryError(f"library not found: {p}")
    if not (p / MANIFEST).is_file():
        raise LibraryError(f"{p} is not an rtsim library (no {MANIFEST})")
    return p


def check_destination(out: str | Path, existing: str) -> bool:
    """Whether ``out`` is a library a build may start from (``existing = "update"``).

    Raises
    ------
    LibraryError
        ``out`` exists and is not a library, or is one and ``existing`` is ``"refuse"``
        (the message says what is there and how to replace or update it).
    """
    if existing not in EXISTING:
        raise ConfigError(f"existing={existing!r} must be one of {EXISTING}")
    out = Path(out)
    if not out.exists():
        return False
    if not (out / MANIFEST).is_file():
        raise LibraryError(f"refusing to write {out}: it exists and is not an rtsim library")
    if existing == "refuse":
        m = Manifest.read(out / MANIFEST)
        raise LibraryError(
            f"{out} is already a library ({m.count} items from "
            f"{m.source.get('files_indexed', '?')} files of {m.source.get('folder', '?')}, "
            f"built {m.built_at}); pass --replace to rebuild it (the old one is kept as "
            f"{out.name}.backup-<time>) or --update to add new and changed files")
    return existing == "update"
