"""Crash-safe directory writes: build in a temporary sibling, fsync, swap atomically.

On Linux the finished folder is exchanged with the old one in one ``renameat2(...,
RENAME_EXCHANGE)`` call, so at every instant the destination path holds either the
complete old library or the complete new one. Elsewhere the old folder is moved aside
first (a short window without a library at that path, but never a partial one).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import uuid
from pathlib import Path

__all__ = ["temp_sibling", "fsync_tree", "replace_dir", "remove_stale_siblings"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def temp_sibling(dst: Path) -> Path:
    """A fresh, unique temporary folder next to ``dst`` (same file system)."""
    tmp = dst.parent / f".{dst.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    return tmp


def remove_stale_siblings(dst: Path) -> list[Path]:
    """Delete temporary folders next to ``dst`` left by builds that were killed.

    A temporary folder names the process that made it; it is stale when that process is
    gone. Returns what was removed.
    """
    removed = []
    for p in dst.parent.glob(f".{dst.name}.tmp-*"):
        try:
            pid = int(p.name.split(".tmp-")[1].split("-")[0])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fsync_tree(folder: Path) -> None:
    """Call fsync on every file in ``folder`` and the folder itself."""
    for p in folder.iterdir():
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(folder)


def replace_dir(src: Path, dst: Path, *, keep_old: Path | None = None) -> None:
    """Make ``src`` appear at ``dst`` atomically.

    The old ``dst`` (if any) is deleted, or moved to ``keep_old`` when given.
    """
    if not dst.exists():
        os.rename(src, dst)
    elif _exchange(src, dst):
        _retire(src, keep_old)  # src now holds the old library
    else:
        old = dst.parent / f".{dst.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(dst, old)
        os.rename(src, dst)
        _retire(old, keep_old)
    _fsync_dir(dst.parent)


def _retire(old: Path, keep: Path | None) -> None:
    if keep is None:
        shutil.rmtree(old)
    else:
        os.rename(old, keep)


def _exchange(a: Path, b: Path) -> bool:
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
