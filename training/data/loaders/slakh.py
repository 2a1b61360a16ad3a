"""Slakh2100's layout: ``TrackNNNNN/{metadata.yaml, mix.flac, stems/SNN.flac, MIDI/}``.

A root may hold track folders directly or in split folders (``train``, ``validation``,
``test``, ``omitted``). Stems are grouped into roles by ``inst_class``: ``Drums`` (or
``is_drum``) -> drums, ``Bass`` -> bass, ``Piano`` -> piano, ``Guitar`` -> guitar,
``Vocals`` (rtsim's sung stem; Slakh has none) -> vocal, every other class (Organ,
Strings, Chromatic Percussion, ...) -> ``other``. A track may have several stems of a
role; :func:`load_role` mixes them. Stems with ``audio_rendered: false`` are listed but
never loaded. The ``rtsim`` section written by the song renderer (genre, mood,
instruments, tempo, ..., and ``singer``) is the track's ``labels``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from rtsim.audio.files import load_audio
from rtsim.errors import ConfigError
from rtsim.training.data.loaders.items import require_file

__all__ = ["CLASS_ROLES", "ROLES", "SlakhStem", "SlakhTrack", "load_role", "read_track",
           "slakh_tracks"]

CLASS_ROLES = {"Drums": "drums", "Bass": "bass", "Piano": "piano", "Guitar": "guitar",
               "Vocals": "vocal"}
"""Role of each Slakh ``inst_class`` that has one; any other class is ``"other"``."""
ROLES = ("drums", "bass", "piano", "guitar", "vocal", "other")
SPLITS = ("train", "validation", "test", "omitted")
_TRACK = re.compile(r"Track\d+$")


@dataclass(frozen=True)
class SlakhStem:
    """One stem: id (``S00``), audio path, Slakh class, rtsim role, GM program."""

    stem_id: str
    path: Path
    inst_class: str
    role: str
    program: int | None
    is_drum: bool
    program_name: str | None
    rendered: bool


@dataclass(frozen=True)
class SlakhTrack:
    """One track folder with its stems, split (or None) and ``rtsim`` labels."""

    name: str
    folder: Path
    mix_path: Path
    stems: tuple[SlakhStem, ...]
    split: str | None = None
    labels: dict = field(default_factory=dict)

    def role_stems(self, role: str) -> list[SlakhStem]:
        """The rendered stems of ``role``."""
        return [s for s in self.stems if s.role == role and s.rendered]

    @property
    def roles(self) -> set[str]:
        """Roles with at least one rendered stem."""
        return {s.role for s in self.stems if s.rendered}


def _read_meta(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"Slakh track {os.fspath(path.parent)!r}: metadata.yaml is missing")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"{os.fspath(path)!r}: not valid YAML ({e})") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("stems"), dict) or not doc["stems"]:
        raise ConfigError(f"{os.fspath(path)!r}: no 'stems' mapping (S00: {{inst_class: ...}})")
    return doc


def _stem(path: Path, audio: Path, sid: str, meta: object) -> SlakhStem:
    if not isinstance(meta, dict) or "inst_class" not in meta:
        raise ConfigError(f"{os.fspath(path)!r}: stem {sid!r} lacks inst_class")
    drum = bool(meta.get("is_drum", False)) or meta["inst_class"] == "Drums"
    return SlakhStem(stem_id=str(sid), path=audio / f"{sid}.flac", inst_class=meta["inst_class"],
                     role="drums" if drum else CLASS_ROLES.get(meta["inst_class"], "other"),
                     program=meta.get("program_num"), is_drum=drum,
                     program_name=meta.get("midi_program_name"),
                     rendered=bool(meta.get("audio_rendered", True)))


def read_track(folder: Path, *, split: str | None = None,
               require_audio: bool = True) -> SlakhTrack:
    """One track folder (ConfigError / AudioFileError naming what is missing)."""
    path = folder / "metadata.yaml"
    doc = _read_meta(path)
    audio = folder / str(doc.get("audio_dir") or "stems")
    stems = tuple(_stem(path, audio, sid, m) for sid, m in sorted(doc["stems"].items()))
    track = SlakhTrack(name=folder.name, folder=folder, mix_path=folder / "mix.flac",
                       stems=stems, split=split, labels=dict(doc.get("rtsim") or {}))
    if require_audio:
        require_file(track.mix_path, what=f"Slakh track {os.fspath(folder)!r}")
        for s in stems:
            if s.rendered:
                require_file(s.path, what=f"{os.fspath(path)!r} stem {s.stem_id!r}")
    return track


def slakh_tracks(root: str | os.PathLike, *, require_audio: bool = True) -> list[SlakhTrack]:
    """List the tracks under a Slakh2100-layout root, sorted by split then name.

    Parameters
    ----------
    root : str or os.PathLike
        Folder of ``TrackNNNNN`` folders, or of split folders holding them.
    require_audio : bool
        Require ``mix.flac`` and every rendered stem's flac (off for MIDI-only corpora).

    Raises
    ------
    ConfigError
        No track folders, or a track without a readable ``metadata.yaml`` with ``stems``.
    AudioFileError
        ``require_audio`` and an audio file is missing.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"Slakh root {os.fspath(root)!r}: no such folder")
    found = [(None, d) for d in sorted(root.iterdir()) if d.is_dir() and _TRACK.match(d.name)]
    for split in SPLITS:
        if (root / split).is_dir():
            found += [(split, d) for d in sorted((root / split).iterdir())
                      if d.is_dir() and _TRACK.match(d.name)]
    if not found:
        raise ConfigError(f"Slakh root {os.fspath(root)!r}: no TrackNNNNN folders "
                          f"(directly or under {', '.join(SPLITS)})")
    return [read_track(d, split=s, require_audio=require_audio) for s, d in found]


def load_role(track: SlakhTrack, role: str, *, sr: int | None = None) -> np.ndarray:
    """Audio of one role of ``track``: its stems summed, or ``role="mix"`` for mix.flac.

    ``role="instrumental"`` is the mix less its vocal stems (Kumar et al.'s input).

    Returns
    -------
    np.ndarray
        Shape (n,), float32, at ``sr`` (None: the files' rate); stems of different
        lengths are zero-padded to the longest.
    """
    if role == "mix":
        return load_audio(track.mix_path, sr=sr)[0]
    if role == "instrumental":
        mix, vocal = load_role(track, "mix", sr=sr), load_role(track, "vocal", sr=sr)
        n = max(len(mix), len(vocal))
        return np.pad(mix, (0, n - len(mix))) - np.pad(vocal, (0, n - len(vocal)))
    stems = track.role_stems(role)
    if not stems:
        raise ConfigError(f"Slakh track {track.name!r} has no rendered {role!r} stem "
                          f"(roles: {', '.join(sorted(track.roles)) or 'none'})")
    ys = [load_audio(s.path, sr=sr)[0] for s in stems]
    out = np.zeros(max(len(y) for y in ys), np.float32)
    for y in ys:
        out[:len(y)] += y
    return out
