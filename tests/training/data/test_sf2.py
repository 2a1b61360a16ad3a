"""Soundfont preset and sample headers: synthetic RIFF files (padded and unpadded), real ones."""

import struct

import pytest

from rtsim.errors import ConfigError
from rtsim.training.data.sf2 import DRUM_BANK, drum_kits, presets, sample_names


def _chunk(cid: bytes, body: bytes, *, pad: bool = True) -> bytes:
    out = cid + struct.pack("<I", len(body)) + body
    return out + (b"\0" if pad and len(body) % 2 else b"")


def _sf2(records, *, pad: bool = True, odd_sdta: bool = False, samples=()) -> bytes:
    phdr = b"".join(struct.pack("<20sHHHIII", n.encode(), prog, bank, 0, 0, 0, 0)
                    for n, prog, bank in [*records, ("EOP", 0, 0)])
    shdr = b"".join(struct.pack("<20s5IBbHH", n.encode(), 0, 0, 0, 0, 44100, 60, 0, 0, 1)
                    for n in [*samples, "EOS"])
    info = _chunk(b"LIST", b"INFO" + _chunk(b"ifil", b"\x02\x00\x01\x00"))
    sdta = _chunk(b"LIST", b"sdta" + _chunk(b"smpl", b"\1" * (5 if odd_sdta else 4),
                                             pad=pad), pad=pad)
    pdta = _chunk(b"LIST", b"pdta" + _chunk(b"phdr", phdr)
                  + (_chunk(b"shdr", shdr) if samples else b""))
    body = b"sfbk" + info + sdta + pdta
    return b"RIFF" + struct.pack("<I", len(body)) + body


RECORDS = [("Piano", 0, 0), ("Standard", 0, DRUM_BANK), ("TR-808", 25, DRUM_BANK),
           ("Room", 8, DRUM_BANK)]


@pytest.mark.parametrize("pad", [True, False])
def test_presets_and_kits_with_and_without_riff_padding(tmp_path, pad):
    p = tmp_path / "x.sf2"
    p.write_bytes(_sf2(RECORDS, pad=pad, odd_sdta=True))
    assert presets(p) == [(n, prog, bank) for n, prog, bank in RECORDS]  # EOP left out
    assert [k.name for k in drum_kits(p)] == ["Standard", "Room", "TR-808"]  # by program


def test_not_a_soundfont_is_refused(tmp_path):
    (tmp_path / "a.sf2").write_bytes(b"RIFF\0\0\0\0WAVEfmt ")
    with pytest.raises(ConfigError, match="not a RIFF sfbk"):
        presets(tmp_path / "a.sf2")
    with pytest.raises(ConfigError, match="no such file"):
        presets(tmp_path / "missing.sf2")
    body = b"sfbk" + _chunk(b"LIST", b"INFO")
    (tmp_path / "b.sf2").write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    with pytest.raises(ConfigError, match="no pdta/phdr chunk"):
        presets(tmp_path / "b.sf2")
    (tmp_path / "c.sf2").write_bytes(_sf2(RECORDS))
    with pytest.raises(ConfigError, match="no pdta/shdr chunk"):
        sample_names(tmp_path / "c.sf2")


def test_sample_names_are_read_from_the_sample_headers(tmp_path):
    p = tmp_path / "kit.sf2"
    p.write_bytes(_sf2(RECORDS[:1], samples=["36-Kick-1", "38-Snare-1", "x" * 20]))
    assert sample_names(p) == ["36-Kick-1", "38-Snare-1", "x" * 20]  # EOS left out
    assert presets(p) == [RECORDS[0]]


def test_a_real_gm_soundfont_lists_its_kits(soundfont):
    kits = {k.program: k.name for k in drum_kits(soundfont)}
    assert kits[0].startswith("Standard") and 25 in kits and len(kits) >= 7
    assert sum(p.bank == 0 for p in presets(soundfont)) >= 120  # the melodic GM set
