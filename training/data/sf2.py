"""The presets, zones and sample names a SoundFont declares, without loading its samples.

SoundFont 2 files (and MuseScore's ``.sf3``, the same RIFF layout with compressed
samples) list their presets as 38-byte records: name, program, bank. Percussion kits
are the presets of bank 128 (GM's drum channel); :func:`drum_kits` lists them, so a
corpus can render every kit a soundfont ships (Standard, Room, Power, TR-808, Jazz…).
:func:`samples_played` follows a preset's zones to the recordings one key plays: kits of
one soundfont reuse recordings (the Room kit's kick is often the Standard kit's, retuned),
and an evaluation that hides a query's kit must hide its recording too.
"""

from __future__ import annotations

import os
import struct
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from rtsim.errors import ConfigError

__all__ = ["Preset", "presets", "sample_names", "drum_kits", "samples_played", "DRUM_BANK"]

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
    return _pdta_chunks(path, (chunk,))[0]


def _pdta_chunks(path: str | os.PathLike, chunks: tuple[bytes, ...]) -> list[bytes]:
    """The raw bytes of several ``pdta`` sub-chunks, in the order asked, from one read.

    A GM soundfont is mostly sample data (FluidR3_GM is 140 MB): read it once, not once
    per chunk.

    Raises
    ------
    ConfigError
        As :func:`_pdta`, naming the first chunk missing.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"soundfont {os.fspath(p)!r}: no such file")
    with open(p, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise ConfigError(f"soundfont {os.fspath(p)!r} is not a RIFF sfbk file")
        data = head + f.read()
    found: dict[bytes, bytes] = {}
    for cid, lo, hi in _chunks(data, 12, len(data)):
        if cid == b"LIST" and data[lo:lo + 4] == b"pdta":
            for sub, slo, shi in _chunks(data, lo + 4, hi):
                if sub in chunks:
                    found.setdefault(sub, data[slo:shi])
    for chunk in chunks:
        if chunk not in found:
            raise ConfigError(f"soundfont {os.fspath(p)!r} has no pdta/{chunk.decode()} "
                              "chunk")
    return [found[c] for c in chunks]


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
    return _parse_shdr(_pdta(path, b"shdr"))


def _parse_shdr(raw: bytes) -> list[str]:
    return [raw[46 * k:46 * k + 20].split(b"\0", 1)[0].decode("latin-1").strip()
            for k in range(len(raw) // 46 - 1)]  # the last record is the EOS terminator


def _parse_phdr(raw: bytes) -> list[Preset]:
    out = []
    for k in range(len(raw) // 38 - 1):  # the last record is the EOP terminator
        name, program, bank = struct.unpack_from("<20sHH", raw, 38 * k)
        out.append(Preset(name.split(b"\0", 1)[0].decode("latin-1").strip(), program, bank))
    return out


def drum_kits(path: str | os.PathLike) -> list[Preset]:
    """The percussion kits (bank 128) of a soundfont, by program."""
    return sorted((p for p in presets(path) if p.bank == DRUM_BANK), key=lambda p: p.program)


_INSTRUMENT, _SAMPLE_ID, _KEY_RANGE, _VEL_RANGE = 41, 53, 43, 44  # SF2 generator numbers


def _bags(bag: bytes, gen: bytes) -> list[dict[int, int | tuple[int, int]]]:
    """Each zone's generators (``pbag``/``pgen`` or ``ibag``/``igen``).

    One dict per zone, the terminal one left out: operator -> amount, ranges as (lo, hi).
    """
    starts = [struct.unpack_from("<H", bag, 4 * k)[0] for k in range(len(bag) // 4)]
    zones = []
    for a, b in zip(starts, starts[1:], strict=False):
        z: dict[int, int | tuple[int, int]] = {}
        for g in range(a, min(b, len(gen) // 4)):
            op, lo, hi = struct.unpack_from("<HBB", gen, 4 * g)
            z[op] = (lo, hi) if op in (_KEY_RANGE, _VEL_RANGE) else lo | hi << 8
        zones.append(z)
    return zones


def _covers(zone: dict, key: int, velocity: int) -> bool:
    klo, khi = zone.get(_KEY_RANGE, (0, 127))
    vlo, vhi = zone.get(_VEL_RANGE, (0, 127))
    return klo <= key <= khi and vlo <= velocity <= vhi


@lru_cache(maxsize=8)
def _hydra(path: str) -> tuple[dict, list, list, list[str]]:
    """The zone tables of the soundfont at ``path``, parsed once.

    ({(bank, program): its preset zones}, instrument bag starts, instrument zones, sample
    names), from one read of the file.
    """
    phdr, pbag, pgen, inst, ibag, igen, shdr = _pdta_chunks(
        path, (b"phdr", b"pbag", b"pgen", b"inst", b"ibag", b"igen", b"shdr"))
    pstart = [struct.unpack_from("<H", phdr, 38 * k + 24)[0] for k in range(len(phdr) // 38)]
    istart = [struct.unpack_from("<H", inst, 22 * k + 20)[0] for k in range(len(inst) // 22)]
    pzones = _bags(pbag, pgen)
    by_preset: dict = {}
    for k, p in enumerate(_parse_phdr(phdr)):  # the first of a (bank, program) wins
        by_preset.setdefault((p.bank, p.program), pzones[pstart[k]:pstart[k + 1]])
    return by_preset, istart, _bags(ibag, igen), _parse_shdr(shdr)


def samples_played(path: str | os.PathLike, *, bank: int, program: int, key: int,
                   velocity: int) -> tuple[str, ...]:
    """The names of the recordings the preset (``bank``, ``program``) plays for one note.

    Follows the preset's zones that cover ``key`` and ``velocity`` to their instruments,
    and those instruments' zones that cover them to their samples (stereo pairs give two
    names). Empty when the preset is missing or leaves the key silent.

    Raises
    ------
    ConfigError
        The file is missing or not a soundfont, or lacks one of the zone chunks.
    """
    by_preset, istart, izones, names = _hydra(os.path.abspath(path))
    found: set[str] = set()
    for z in by_preset.get((bank, program), []):
        inst = z.get(_INSTRUMENT)
        if inst is None or inst + 1 >= len(istart) or not _covers(z, key, velocity):
            continue
        for iz in izones[istart[inst]:istart[inst + 1]]:
            sid = iz.get(_SAMPLE_ID)
            if sid is not None and sid < len(names) and _covers(iz, key, velocity):
                found.add(names[sid])
    return tuple(sorted(found))
