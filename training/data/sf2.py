"""The presets and sample names a SoundFont declares, without loading its samples.

SoundFont 2 files (and MuseScore's ``.sf3``, the same RIFF layout with compressed
samples) list their presets as 38-byte records: name, program, bank. Percussion kits
are the presets of bank 128 (GM's drum channel); :func:`drum_kits` lists them, so a
corpus can render every kit a soundfont ships (Standard, Room, Power, TR-808, Jazz…).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import NamedTuple

from rtsim.errors import ConfigError

__all__ = ["Preset", "presets", "sample_names", "drum_kits", "DRUM_BANK"]

DRUM_BANK = 128
"""The bank that holds percussion kits in GM soundfonts."""


class Preset(NamedTuple):
    """One preset: its name, program (0..127) and bank."""

    name: str
    program: int
    bank: int


def _chunks(data: bytes, start: int, stop: int):
    pos = start
    while pos + 8 <= stop:
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        yield cid, pos + 8, min(pos + 8 + size, stop)
        pos += 8 + size
        if size & 1 and not data[pos:pos + 4].isalnum():
            pos += 1  # RIFF pads odd chunks; some .sf3 writers do not


def _pdta(path: str | os.PathLike, chunk: bytes) -> bytes:
    """The raw bytes of one ``pdta`` sub-chunk (``phdr``, ``shdr``…) of a soundfont.

    Raises
    ------
    ConfigError
        The file is missing, not a RIFF ``sfbk`` file, or has no ``pdta`` ``chunk``.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"soundfont {os.fspath(p)!r}: no such file")
    with open(p, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise ConfigError(f"soundfont {os.fspath(p)!r} is not a RIFF sfbk file")
        data = head + f.read()
    for cid, lo, hi in _chunks(data, 12, len(data)):
        if cid == b"LIST" and data[lo:lo + 4] == b"pdta":
            for sub, slo, shi in _chunks(data, lo + 4, hi):
                if sub == chunk:
                    return data[slo:shi]
    raise ConfigError(f"soundfont {os.fspath(p)!r} has no pdta/{chunk.decode()} chunk")


def presets(path: str | os.PathLike) -> list[Preset]:
    """Every preset of the soundfont at ``path`` (the terminal ``EOP`` record left out).

    Raises
    ------
    ConfigError
        The file is missing, not a RIFF ``sfbk`` file, or has no ``pdta/phdr`` chunk.
    """
    return _parse_phdr(_pdta(path, b"phdr"))


def sample_names(path: str | os.PathLike) -> list[str]:
    """The names of the samples a soundfont holds (its ``shdr`` records, ``EOS`` left out).

    Sample libraries name their recordings (``36-Pearl22Kick-1``…): the key maps of
    recorded kits are checked against them.
    """
    raw = _pdta(path, b"shdr")
    return [raw[46 * k:46 * k + 20].split(b"\0", 1)[0].decode("latin-1").strip()
            for k in range(len(raw) // 46 - 1)]


def _parse_phdr(raw: bytes) -> list[Preset]:
    out = []
    for k in range(len(raw) // 38 - 1):  # the last record is the EOP terminator
        name, program, bank = struct.unpack_from("<20sHH", raw, 38 * k)
        out.append(Preset(name.split(b"\0", 1)[0].decode("latin-1").strip(), program, bank))
    return out


def drum_kits(path: str | os.PathLike) -> list[Preset]:
    """The percussion kits (bank 128) of a soundfont, by program."""
    return sorted((p for p in presets(path) if p.bank == DRUM_BANK), key=lambda p: p.program)
