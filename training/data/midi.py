"""Building Standard MIDI Files with mido from plain note lists.

A note is ``Note(start, length, pitch, velocity)`` with times in beats (quarter notes).
Notes become one track each per instrument; a conductor track carries tempo, time
signature and key signature. Output is byte-for-byte reproducible.
"""

from __future__ import annotations

import io
from typing import NamedTuple

import mido

__all__ = ["TICKS_PER_BEAT", "Note", "conductor_track", "instrument_track", "midi_bytes",
           "trim_overlaps"]

TICKS_PER_BEAT = 480
_CHANNEL_TYPES = {"note_on", "note_off", "program_change", "control_change"}


class Note(NamedTuple):
    """One note: ``start`` and ``length`` in beats, MIDI ``pitch`` and ``velocity``."""

    start: float
    length: float
    pitch: int
    velocity: int


def _ticks(beats: float) -> int:
    return max(0, round(beats * TICKS_PER_BEAT))


def _delta_track(events: list[tuple], name: str) -> mido.MidiTrack:
    """Events ``(tick, order, type, fields)`` at absolute ticks -> a track of delta times."""
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    now = 0
    for tick, _, kind, fields in sorted(events, key=lambda e: (e[0], e[1])):
        cls = mido.Message if kind in _CHANNEL_TYPES else mido.MetaMessage
        track.append(cls(kind, time=tick - now, **fields))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def trim_overlaps(notes: list[Note]) -> list[Note]:
    """Sorted notes, each cut where the next note of the same pitch starts."""
    out = sorted(notes)
    last: dict[int, int] = {}
    for i, n in enumerate(out):
        j = last.get(n.pitch)
        if j is not None and out[j].start + out[j].length > n.start:
            out[j] = out[j]._replace(length=n.start - out[j].start)
        last[n.pitch] = i
    return [n for n in out if n.length > 0]


def conductor_track(*, bpm: float, key: str | None = None, end_beats: float = 0.0,
                    numerator: int = 4) -> mido.MidiTrack:
    """Tempo (``bpm``), ``numerator``/4 time and ``key`` (mido spelling, e.g. ``"Am"``)."""
    events = [(0, 0, "set_tempo", {"tempo": mido.bpm2tempo(bpm)}),
              (0, 1, "time_signature", {"numerator": numerator, "denominator": 4})]
    if key is not None:
        events.append((0, 2, "key_signature", {"key": key}))
    events.append((_ticks(end_beats), 3, "marker", {"text": "end"}))
    return _delta_track(events, "conductor")


def instrument_track(notes: list[Note], *, channel: int, program: int, name: str,
                     end_beats: float | None = None) -> mido.MidiTrack:
    """A track: program change, then the notes (note-offs sort before note-ons).

    ``end_beats`` adds an *all sound off* controller there (cuts release tails).
    """
    events = [(0, 0, "program_change", {"channel": channel, "program": program})]
    for n in trim_overlaps(notes):
        on, off = _ticks(n.start), _ticks(n.start + n.length)
        events.append((on, 2, "note_on", {"channel": channel, "note": n.pitch,
                                          "velocity": n.velocity}))
        events.append((max(off, on + 1), 1, "note_off", {"channel": channel, "note": n.pitch}))
    if end_beats is not None:
        events.append((_ticks(end_beats), 3, "control_change",
                       {"channel": channel, "control": 120, "value": 0}))
    return _delta_track(events, name)


def midi_bytes(mf: mido.MidiFile) -> bytes:
    """The Standard MIDI File bytes of ``mf``."""
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()
