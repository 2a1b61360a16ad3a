"""Soundfont preset and sample headers: synthetic RIFF files (padded and unpadded), real ones."""

import struct

import pytest

from rtsim.errors import ConfigError
from rtsim.training.data.sf2 import DRUM_BANK, drum_kits, presets, sample_names, samples_played


def _chunk(cid: bytes, body: bytes, *, pad: bool = True) -> bytes:
    out = cid + struct.pack("<I", len(body)) + body
    return out + (b"\0" if pad and len(body) % 2 else b"")


KEYS, VELS, INST, SAMPLE = 43, 44, 41, 53  # generator numbers


def _zones(zones) -> tuple[bytes, bytes]:
    """``bag`` and ``gen`` chunks of zones given as lists of (operator, amount) pairs."""
    bag, gen = b"", b""
    for z in zones:
        bag += struct.pack("<HH", len(gen) // 4, 0)
        for op, amount in z:
            gen += struct.pack("<HBB", op, *amount) if op in (KEYS, VELS) else \
                struct.pack("<HH", op, amount)
    return bag + struct.pack("<HH", len(gen) // 4, 0), gen + b"\0" * 4


def _sf2(records, *, pad: bool = True, odd_sdta: bool = False, samples=(),
         zones=None) -> bytes:
    """A soundfont of ``records``; ``zones`` = (preset zones per record, instrument zones
    per instrument) adds the zone chunks that lead from a key to its samples."""
    pz, iz = zones or ([[] for _ in records], [])
    starts = [sum(len(z) for z in pz[:k]) for k in range(len(records) + 1)]
    phdr = b"".join(struct.pack("<20sHHHIII", n.encode(), prog, bank, bag, 0, 0, 0)
                    for (n, prog, bank), bag in zip([*records, ("EOP", 0, 0)], starts,
                                                           strict=True))
    shdr = b"".join(struct.pack("<20s5IBbHH", n.encode(), 0, 0, 0, 0, 44100, 60, 0, 0, 1)
                    for n in [*samples, "EOS"])
    info = _chunk(b"LIST", b"INFO" + _chunk(b"ifil", b"\x02\x00\x01\x00"))
    sdta = _chunk(b"LIST", b"sdta" + _chunk(b"smpl", b"\1" * (5 if odd_sdta else 4),
                                             pad=pad), pad=pad)
    hydra = b""
    if zones:
        istarts = [sum(len(z) for z in iz[:k]) for k in range(len(iz) + 1)]
        inst = b"".join(struct.pack("<20sH", f"inst{k}".encode(), b)
                        for k, b in enumerate(istarts))
        pbag, pgen = _zones([z for zs in pz for z in zs])
        ibag, igen = _zones([z for zs in iz for z in zs])
        hydra = b"".join(_chunk(c, b) for c, b in ((b"pbag", pbag), (b"pgen", pgen),
                                                    (b"inst", inst), (b"ibag", ibag),
                                                    (b"igen", igen)))
    pdta = _chunk(b"LIST", b"pdta" + _chunk(b"phdr", phdr) + hydra
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


def test_samples_played_follows_zones_to_recordings(tmp_path):
    samples = ["Kick soft", "Kick hard", "Snare L", "Snare R", "Click"]
    insts = [[[(VELS, (0, 63)), (SAMPLE, 0)], [(VELS, (64, 127)), (SAMPLE, 1)]],  # kick
             [[(SAMPLE, 2)], [(SAMPLE, 3)]],  # a stereo snare
             [[(KEYS, (38, 38)), (SAMPLE, 4)]]]  # a click on key 38 only
    presets_zones = [
        [[(KEYS, (30, 40))], [(KEYS, (35, 36)), (INST, 0)], [(KEYS, (38, 38)), (INST, 1)]],
        [[(KEYS, (36, 36)), (INST, 0)], [(KEYS, (38, 38)), (INST, 1)],
         [(KEYS, (36, 38)), (INST, 2)]],
    ]
    p = tmp_path / "kits.sf2"
    p.write_bytes(_sf2([("Standard", 0, DRUM_BANK), ("Room", 8, DRUM_BANK)],
                       samples=samples, zones=(presets_zones, insts)))

    def played(program, key, velocity=100):
        return samples_played(p, bank=DRUM_BANK, program=program, key=key, velocity=velocity)

    assert played(0, 35) == ("Kick hard",) and played(0, 36, 40) == ("Kick soft",)
    assert played(0, 38) == ("Snare L", "Snare R")
    assert played(0, 37) == () and played(0, 50) == ()  # a key the kit leaves silent
    assert played(8, 36) == ("Kick hard",)  # the Room kit reuses the Standard kick
    assert played(8, 38) == ("Click", "Snare L", "Snare R")  # layered with the click
    assert played(8, 35) == ()
    assert samples_played(p, bank=0, program=0, key=60, velocity=100) == ()  # no such preset


def test_a_real_gm_soundfont_reuses_recordings_across_kits(soundfont):
    kicks = {k.name: samples_played(soundfont, bank=DRUM_BANK, program=k.program, key=36,
                                    velocity=100) for k in drum_kits(soundfont)}
    assert all(kicks.values()) and len(set(kicks.values())) < len(kicks)
    assert samples_played(soundfont, bank=0, program=0, key=60, velocity=100)  # a piano note
