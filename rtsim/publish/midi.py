"""MIDI out: a note per trigger, on a virtual port (or an existing one), for any DAW.

On each trigger of the chosen embedder(s), a note-on whose pitch stands for the matched
item and whose velocity follows the onset's peak, and its note-off ``note_ms`` later
(sent by the next event after that time, or on close). Item → note:

- ``order``: ``base_note + id``, wrapping above 127 (small libraries: one key per item);
- ``label``: one key per label (the item's folder), in sorted order from ``base_note``;
- ``csv``: a file with a ``note`` column and an ``id`` or ``name`` column; items it does
  not list play nothing.

Velocity: an onset at ``velocity_db`` (dBFS) or louder plays 127; 40 dB quieter plays 1,
linear in dB between. Ports go through mido's python-rtmidi backend (ALSA sequencer on
Linux, CoreMIDI, Windows MIDI).
"""

from __future__ import annotations

import csv
import heapq
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtsim.errors import AudioDeviceError, ConfigError
from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent

__all__ = ["MidiConfig", "MidiPublisher", "MAPPINGS", "order_notes", "label_notes",
           "csv_notes", "velocity"]

log = logging.getLogger(__name__)
MAPPINGS = ("order", "label", "csv")
_RANGE_DB = 40.0


@dataclass(frozen=True, slots=True)
class MidiConfig:
    """The MIDI output.

    Attributes
    ----------
    enabled : bool
    port : str
        Name of the virtual port to create, or (``virtual = false``) a substring of an
        existing output port's name.
    virtual : bool
    channel : int
        MIDI channel, 1..16.
    embedder : str or None
        Whose triggers (None: every embedder's).
    mapping : {"order", "label", "csv"}
    csv : str or None
        The mapping file for ``mapping = "csv"``.
    base_note : int
        The lowest note of ``order`` and ``label``.
    note_ms : float
        Note length.
    velocity_db : float
        Onset peak (dBFS) that plays velocity 127.
    """

    enabled: bool = False
    port: str = "rtsim"
    virtual: bool = True
    channel: int = 1
    embedder: str | None = None
    mapping: str = "order"
    csv: str | None = None
    base_note: int = 36
    note_ms: float = 200.0
    velocity_db: float = -6.0

    def __post_init__(self) -> None:
        if self.mapping not in MAPPINGS:
            raise ConfigError(f"midi mapping={self.mapping!r} must be one of {MAPPINGS}")
        if self.mapping == "csv" and not self.csv:
            raise ConfigError("midi mapping='csv' needs csv = <path of the mapping file>")
        if not 1 <= self.channel <= 16 or not 0 <= self.base_note <= 127:
            raise ConfigError(f"midi channel={self.channel} must be in [1, 16] and "
                              f"base_note={self.base_note} in [0, 127]")
        if not 1 <= self.note_ms <= 60_000:
            raise ConfigError(f"midi note_ms={self.note_ms} must be in [1, 60000]")


def order_notes(count: int, base: int) -> np.ndarray:
    """``base + id``, wrapping back to ``base`` above 127."""
    return (base + np.arange(count) % (128 - base)).astype(np.int16)


def label_notes(labels: list[str], base: int) -> np.ndarray:
    """One note per distinct label, in sorted order from ``base`` (wrapping above 127)."""
    keys = {lab: base + k % (128 - base) for k, lab in enumerate(sorted(set(labels)))}
    return np.array([keys[lab] for lab in labels], np.int16)


def csv_notes(path: str | Path, names: list[str]) -> np.ndarray:
    """Notes from a CSV of ``note`` and ``id`` or ``name``; -1 for items it does not list.

    Raises
    ------
    ConfigError
        Missing file or columns, a note outside 0..127, an unknown id or name (each
        naming the row).
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"midi csv={str(path)!r}: no such file")
    out = np.full(len(names), -1, np.int16)
    by_name = {n: i for i, n in enumerate(names)}
    with open(p, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or ())
        if "note" not in cols or not cols & {"id", "name"}:
            raise ConfigError(f"midi csv {p}: needs a 'note' column and an 'id' or 'name' "
                              f"column (has {sorted(cols)})")
        for row_no, row in enumerate(reader, start=2):
            try:
                note = int(row["note"])
                item = int(row["id"]) if row.get("id") not in (None, "") \
                    else by_name[row["name"]]
            except (ValueError, KeyError):
                raise ConfigError(f"midi csv {p} row {row_no}: {dict(row)} names no item or "
                                  "no integer note") from None
            if not 0 <= note <= 127 or not 0 <= item < len(names):
                raise ConfigError(f"midi csv {p} row {row_no}: note {note} must be 0..127 and "
                                  f"id {item} below {len(names)}")
            out[item] = note
    return out


def velocity(level_db: float, full_db: float) -> int:
    """MIDI velocity of an onset peak: 127 at ``full_db`` and above, 1 at 40 dB below."""
    if not np.isfinite(level_db):
        return 1
    v = 127 + (min(level_db, full_db) - full_db) * 126 / _RANGE_DB
    return int(np.clip(round(v), 1, 127))


class MidiPublisher:
    """Notes for triggers (a :class:`~rtsim.engine.engine.Publisher`).

    Parameters
    ----------
    config : MidiConfig
    pipelines : sequence
        Objects with ``name`` and ``library`` (the engine's pipelines); a library switched
        under one is mapped again at its next trigger.
    port : object, optional
        An open output (``send(msg)``, ``close()``); default: opened from ``config``.
    """

    def __init__(self, config: MidiConfig, *, pipelines, port=None) -> None:
        names = [p.name for p in pipelines]
        if config.embedder is not None and config.embedder not in names:
            raise ConfigError(f"midi embedder={config.embedder!r} is not running "
                              f"({', '.join(names)})")
        self.config = config
        self.pipelines = {p.name: p for p in pipelines if config.embedder in (None, p.name)}
        self.notes = {name: (p.library, self._notes(p.library))
                      for name, p in self.pipelines.items()}
        self.counters = {"notes": 0, "unmapped": 0}
        self._off: list[tuple[float, int]] = []  # (due, note) heap
        self._port = port if port is not None else open_port(config)

    def _notes(self, library) -> np.ndarray:
        cfg = self.config
        if cfg.mapping == "order":
            return order_notes(library.count, cfg.base_note)
        if cfg.mapping == "label":
            return label_notes([it.labels.get("folder", "") for it in library.all_items()],
                               cfg.base_note)
        return csv_notes(cfg.csv, library.names)

    def publish_trigger(self, ev: TriggerEvent) -> None:
        """A note-on for the trigger's match (and its note-off later)."""
        import mido

        if ev.embedder not in self.pipelines or self._port is None:
            return
        self._flush(time.monotonic())
        notes = self._current(ev.embedder)
        note = int(notes[ev.id]) if 0 <= ev.id < len(notes) else -1
        if note < 0:
            self.counters["unmapped"] += 1
            return
        ch = self.config.channel - 1
        self._port.send(mido.Message("note_on", channel=ch, note=note,
                                     velocity=velocity(ev.level_db, self.config.velocity_db)))
        heapq.heappush(self._off, (time.monotonic() + self.config.note_ms / 1000, note))
        self.counters["notes"] += 1

    def _current(self, name: str) -> np.ndarray:
        """The notes of the pipeline's current library (mapped again after a switch)."""
        library = self.pipelines[name].library
        held, notes = self.notes[name]
        if held is not library:
            notes = self._notes(library)
            self.notes[name] = (library, notes)
        return notes

    def publish_hop(self, ev: HopEvent) -> None:
        """Send the note-offs that are due."""
        self._flush(time.monotonic())

    def publish_status(self, ev: StatusEvent) -> None:
        """Send the note-offs that are due."""
        self._flush(time.monotonic())

    def _flush(self, now: float) -> None:
        import mido

        while self._off and self._off[0][0] <= now and self._port is not None:
            _, note = heapq.heappop(self._off)
            self._port.send(mido.Message("note_off", channel=self.config.channel - 1,
                                         note=note))

    def close(self) -> None:
        """Every sounding note off, then close the port (idempotent)."""
        if self._port is None:
            return
        self._flush(float("inf"))
        self._port.close()
        self._port = None


def open_port(config: MidiConfig):
    """The output port ``config`` names (a new virtual port, or an existing one).

    Raises
    ------
    AudioDeviceError
        No MIDI backend (python-rtmidi), no sequencer, or no port matching the name.
    """
    try:
        import mido

        mido.set_backend("mido.backends.rtmidi", load=True)
        if config.virtual:
            return mido.open_output(config.port, virtual=True)
        names = mido.get_output_names()
        found = [n for n in names if config.port.lower() in n.lower()]
        if not found:
            raise AudioDeviceError(f"no MIDI output matches {config.port!r} (outputs: "
                                   f"{', '.join(names) or 'none'})")
        return mido.open_output(found[0])
    except AudioDeviceError:
        raise
    except Exception as exc:  # ImportError, rtmidi's own errors (no ALSA sequencer)
        raise AudioDeviceError(f"MIDI port {config.port!r} cannot be opened: {exc} (pip install "
                               "python-rtmidi; on Linux the ALSA sequencer, snd-seq)") from exc
