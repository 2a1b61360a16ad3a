import pytest

from rtsim.errors import ConfigError
from rtsim.training.data import gm
from rtsim.training.data.families import (
    FAMILIES,
    NSYNTH_PROGRAMS,
    PROGRAM_FAMILY,
    nsynth_example,
    program_source,
)


def test_tables_cover_every_program():
    assert len(gm.PROGRAM_NAMES) == 128 and len(PROGRAM_FAMILY) == 128
    for p in range(128):
        lo, hi = gm.program_range(p)
        assert 0 <= lo < hi <= 127


def test_sensible_ranges():
    assert gm.program_range(58)[1] < 60  # tuba: no high notes
    assert gm.program_range(72)[0] >= 72  # piccolo: no low notes
    assert gm.program_range(0) == (21, 108)


def test_classes_and_families():
    assert gm.slakh_class(33) == "Bass" and gm.slakh_class(50) == "Strings (continued)"
    assert gm.slakh_class(0, is_drum=True) == "Drums"
    assert PROGRAM_FAMILY[58] == "brass" and PROGRAM_FAMILY[73] == "flute"
    assert PROGRAM_FAMILY[90] is None and 90 not in NSYNTH_PROGRAMS
    assert set(PROGRAM_FAMILY) - {None} == set(FAMILIES)
    assert program_source(38) == "synthetic" and program_source(40) == "acoustic"


def test_nsynth_example_layout():
    ex = nsynth_example(note=7, program=58, pitch=40, velocity=100, sr=16000)
    assert ex["note_str"] == "brass_acoustic_058-040-100"
    assert ex["instrument_family"] == FAMILIES.index("brass") == 1
    assert ex["instrument_str"] == "brass_acoustic_058" and ex["program"] == 58


@pytest.mark.parametrize("bad", [-1, 128])
def test_bad_program(bad):
    with pytest.raises(ConfigError, match=str(bad)):
        gm.program_range(bad)
