"""General MIDI facts: program names, classes, playable ranges, drum kits.

Pure data and look-ups shared by the note and song generators and the loaders.
``program`` is always the 0-based GM program number (0 = Acoustic Grand Piano).
"""

from __future__ import annotations

from rtsim.errors import ConfigError

__all__ = [
    "DRUM_CHANNEL",
    "DRUM_KITS",
    "PROGRAM_NAMES",
    "SLAKH_CLASSES",
    "program_name",
    "program_range",
    "slakh_class",
]

DRUM_CHANNEL = 9
"""0-based MIDI channel of percussion (channel 10 in GM's 1-based numbering)."""

PROGRAM_NAMES = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano",
    "Honky-tonk Piano", "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone", "Marimba", "Xylophone",
    "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ", "Reed Organ",
    "Accordion", "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)",
    "Electric Guitar (clean)", "Electric Guitar (muted)", "Overdriven Guitar",
    "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass", "Tremolo Strings", "Pizzicato Strings",
    "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
    "Choir Aahs", "Voice Oohs", "Synth Voice", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet", "French Horn", "Brass Section",
    "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax", "Oboe", "English Horn",
    "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute", "Blown Bottle", "Shakuhachi", "Whistle",
    "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)",
    "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto", "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock", "Taiko Drum", "Melodic Tom",
    "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet", "Telephone Ring",
    "Helicopter", "Applause", "Gunshot",
)

SLAKH_CLASSES = (
    "Piano", "Chromatic Percussion", "Organ", "Guitar", "Bass", "Strings",
    "Strings (continued)", "Brass", "Reed", "Pipe", "Synth Lead", "Synth Pad",
    "Synth Effects", "Ethnic", "Percussive", "Sound Effects",
)
"""Slakh2100's ``inst_class`` of each block of 8 GM programs (drums are ``"Drums"``)."""

DRUM_KITS = {
    0: "Standard Kit", 8: "Room Kit", 16: "Power Kit", 24: "Electronic Kit",
    25: "TR-808 Kit", 32: "Jazz Kit", 40: "Brush Kit",
}
"""GM2 drum kits (bank 128 presets) that FluidR3_GM provides; others fall back."""

# Playable MIDI pitch range (lowest, highest) of each program: the instrument's usual
# written/sounding range, clipped to the piano's 21..108 where the soundfont has samples.
_RANGES = (
    [(21, 108)] * 4 + [(28, 103)] * 2 + [(29, 89), (36, 96)]
    + [(60, 108), (79, 108), (60, 96), (53, 89), (45, 96), (65, 108), (60, 77), (50, 86)]
    + [(36, 96)] * 3 + [(24, 96), (36, 96), (53, 89), (60, 84), (53, 89)]
    + [(40, 84), (40, 84), (40, 86), (40, 86), (40, 72), (40, 86), (40, 86), (52, 96)]
    + [(28, 55)] + [(28, 60)] * 5 + [(24, 60)] * 2
    + [(55, 96), (48, 84), (36, 76), (28, 55), (36, 96), (36, 89), (24, 103), (40, 57)]
    + [(36, 96)] * 4 + [(48, 79), (48, 79), (48, 84), (48, 84)]
    + [(54, 84), (40, 72), (28, 58), (54, 82), (41, 77), (36, 84), (36, 84), (36, 84)]
    + [(56, 87), (49, 81), (44, 76), (36, 69), (58, 91), (52, 81), (34, 75), (50, 91)]
    + [(74, 108)] + [(60, 96)] * 4 + [(55, 84), (60, 96), (60, 84)]
    + [(36, 96)] * 24
    + [(48, 77), (48, 84), (50, 79), (55, 90), (60, 84), (55, 77), (55, 96), (60, 84)]
    + [(72, 96), (60, 84), (52, 88), (60, 84), (36, 60), (40, 70), (40, 70), (48, 84)]
    + [(48, 84)] * 8
)


def _check(program: int) -> int:
    if not 0 <= int(program) <= 127:
        raise ConfigError(f"GM program={program!r} must be in 0..127")
    return int(program)


def program_name(program: int) -> str:
    """GM name of ``program`` (0..127), e.g. 33 -> ``"Electric Bass (finger)"``."""
    return PROGRAM_NAMES[_check(program)]


def program_range(program: int) -> tuple[int, int]:
    """Playable MIDI pitches ``(lowest, highest)`` of ``program``, both inclusive."""
    return _RANGES[_check(program)]


def slakh_class(program: int, *, is_drum: bool = False) -> str:
    """Slakh2100's ``inst_class`` of ``program`` (``"Drums"`` for a drum track)."""
    return "Drums" if is_drum else SLAKH_CLASSES[_check(program) // 8]
