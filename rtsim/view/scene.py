"""What the browser view draws of a library: one point per item, and its sound on request.

:func:`library_scene` is the item table the page needs (names, files, labels), as JSON;
:func:`scene_points` the items' 3-D map positions as raw little-endian float32 (x, y, z per
item, in id order), so that 10^5 points travel as 1.2 MB of binary, not as JSON text;
:func:`item_wav` one item's span of its file as a WAV, for the page to audition.
"""

from __future__ import annotations

import io

import numpy as np

from rtsim.errors import LibraryError

__all__ = ["library_scene", "scene_points", "item_wav", "MAX_AUDITION_S"]

#: Longest span sent to the browser for one item (a long file's window is cut here).
MAX_AUDITION_S = 30.0


def library_scene(library) -> dict:
    """The item table of ``library`` for the page.

    Returns
    -------
    dict
        ``embedder``, ``count``, ``labels`` (the distinct labels: each item's folder),
        ``label`` (each item's index into ``labels``), ``names``, ``files`` (relative to
        ``root``), ``offsets`` and ``lengths`` (seconds).
    """
    items = library.all_items()
    labels = [it.folder for it in items]
    distinct = sorted(set(labels))
    index = {lab: i for i, lab in enumerate(distinct)}
    return {
        "embedder": library.manifest.embedder,
        "count": len(items),
        "root": str(library.source_root),
        "labels": distinct,
        "label": [index[lab] for lab in labels],
        "names": [it.name for it in items],
        "files": [it.file for it in items],
        "offsets": [round(float(it.offset_s), 4) for it in items],
        "lengths": [round(float(it.length_s), 4) for it in items],
    }


def scene_points(library) -> bytes:
    """Every item's map position, ``count × 3`` little-endian float32 (NaN sent as 0)."""
    xyz = np.nan_to_num(np.asarray(library.xyz, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    return np.ascontiguousarray(xyz, "<f4").tobytes()


def item_wav(library, item_id: int) -> bytes:
    """Item ``item_id``'s sound (its span of its file, at most :data:`MAX_AUDITION_S`) as WAV.

    Raises
    ------
    LibraryError
        For an id outside the library, or a file that is gone or unreadable (named).
    """
    import soundfile as sf

    if not 0 <= item_id < library.count:
        raise LibraryError(f"item {item_id} is not in the library (0..{library.count - 1})")
    item = library.items([item_id])[0]
    path = library.source_root / item.file
    try:
        info = sf.info(str(path))
        start = int(round(item.offset_s * info.samplerate))
        frames = int(round(min(item.length_s or MAX_AUDITION_S, MAX_AUDITION_S)
                           * info.samplerate))
        audio, sr = sf.read(str(path), start=start, frames=max(frames, 1), dtype="float32",
                            always_2d=True)
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise LibraryError(f"item {item_id}: cannot read {path}: {exc}") from exc
    buf = io.BytesIO()
    sf.write(buf, np.nan_to_num(audio), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()
