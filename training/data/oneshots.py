"""One-shot corpora from a soundfont's own samples: every drum kit's hits and pitched notes.

A GM soundfont is a sample library recorded (or synthesised) by its authors; its
percussion kits (bank 128: Standard, Room, Power, Electronic, TR-808, Jazz, Brush…) label
every hit through the GM key map (:data:`DRUM_CLASS`), and its melodic programs label
every note through GM's program table (:data:`~rtsim.training.data.families.PROGRAM_FAMILY`).
:func:`render_oneshots` renders both into a plain folder with a ``labels.csv`` that
``rtsim eval samples`` and the ``sample`` training task read:

========= ==========================================================================
column    meaning
========= ==========================================================================
path      ``audio/<name>.wav`` (16-bit PCM, mono)
label     drum class (kick, snare, hihat, tom, cymbal, clap, perc) or instrument family
kind      ``drum`` or ``note``
group     what a query must not see of itself: its kit (drums) or its GM program (notes)
source    the soundfont (``fluidr3``, ``timgm6mb``…), the unit of leave-one-source-out
detail    a finer label for training: a ``perc`` hit's instrument (conga, cowbell…)
recording the soundfont samples the hit or note plays, ``|``-separated
          (:func:`~rtsim.training.data.sf2.samples_played`): kits of one soundfont
          reuse recordings (the Room kit's kick is often the Standard kit's, retuned),
          so ``rtsim eval samples --hide recording`` hides them from each other
========= ==========================================================================
"""

from __future__ import annotations

import csv
import json
import logging
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from rtsim.errors import ConfigError
from rtsim.training.data.families import PROGRAM_FAMILY
from rtsim.training.data.gm import DRUM_CHANNEL, program_range
from rtsim.training.data.notes_render import NoteJob, render_note_job
from rtsim.training.data.pool import run_jobs
from rtsim.training.data.sf2 import DRUM_BANK, drum_kits, presets, samples_played

__all__ = ["DRUM_CLASS", "DRUM_CLASSES", "PERC_KIND", "COLUMNS", "KIT_EXCLUDE", "KIT_SETS",
           "AVL_KEYS", "plan_oneshots", "plan_kit", "render_oneshots", "read_labels",
           "write_labels", "write_hit", "onset_index", "add_recordings"]

log = logging.getLogger(__name__)

DRUM_CLASSES = ("kick", "snare", "hihat", "tom", "cymbal", "clap", "perc")
"""Drum classes, as a performer names them (GM's key map folded into seven)."""

_KEYS = {
    "kick": (35, 36), "snare": (38, 40), "clap": (39,), "hihat": (42, 44, 46),
    "tom": (41, 43, 45, 47, 48, 50), "cymbal": (49, 51, 52, 53, 55, 57, 59),
}
DRUM_CLASS: dict[int, str] = {k: c for c, keys in _KEYS.items() for k in keys}
"""Class of each GM percussion key 35..81 (side stick, cowbell, congas… are ``perc``)."""
DRUM_CLASS.update({k: "perc" for k in range(35, 82) if k not in DRUM_CLASS})

PERC_KIND: dict[int, str] = {
    37: "rim", 54: "tambourine", 56: "cowbell", 58: "vibraslap", 60: "bongo", 61: "bongo",
    62: "conga", 63: "conga", 64: "conga", 65: "timbale", 66: "timbale", 67: "agogo",
    68: "agogo", 69: "shaker", 70: "shaker", 71: "whistle", 72: "whistle", 73: "guiro",
    74: "guiro", 75: "claves", 76: "woodblock", 77: "woodblock", 78: "cuica", 79: "cuica",
    80: "triangle", 81: "triangle",
}
"""The instrument of each ``perc`` key (the ``detail`` column): "perc" is many sounds."""

KIT_EXCLUDE = ("orchestra", "sfx", "cm-64", "metronome", "marching")
"""Kit names (lower-case substrings) left out: sound effects and orchestral percussion."""

AVL_KEYS: dict[int, tuple[str, str]] = {
    36: ("kick", "kick"), 37: ("perc", "rim"), 38: ("snare", "snare"), 39: ("clap", "clap"),
    40: ("snare", "snare"), 54: ("perc", "tambourine"), 56: ("perc", "cowbell"),
    64: ("perc", "shaker"),
    **{k: ("tom", "tom") for k in (41, 43, 45, 47)},
    **{k: ("hihat", "hihat") for k in (42, 44, 46, 48)},
    **{k: ("cymbal", "cymbal") for k in (49, 50, 51, 52, 53, 55, 57, 58, 59, 60)},
}
"""(label, detail) of each key of the AVL Drumkits (x42's recorded acoustic kits): not GM's
map (48 is a hi-hat swish, 50 a crash choke, 60 a 22" cymbal), read from the kits' sample
names (``36-Pearl22Kick-1`` …)."""

KIT_SETS: dict[str, tuple[dict[int, tuple[str, str]], tuple[int, ...], tuple[str, ...]]] = {
    "avl": (AVL_KEYS, (13, 39, 64, 90, 115),
            ("/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2",
             "/usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2")),
}
"""Recorded drum kits shipped as soundfonts of one kit each (bank 0), rendered together as
one corpus so that hits the kits share (the AVL kits share their hi-hats, clap and hand
percussion) are dropped as repeats: name → (key map, velocities, files). Each velocity
picks one of the kits' five recorded layers. Debian: ``avldrums.lv2-soundfont``
(GPL-2+, samples CC-BY-SA)."""

COLUMNS = ("path", "label", "kind", "group", "source", "detail", "recording")

_NOT_SOUNDFONTS = ("drumsynth", "stk")
"""``render_oneshots`` names whose hits come from elsewhere than a soundfont (DrumSynth
presets, STK's rawwave files): their rows name no soundfont samples."""

_SILENT_DB = -50.0


def plan_oneshots(soundfont_path: str, *, source: str, pitches_per_program: int = 6,
                  drum_velocities=(70, 115), note_velocity: int = 100) -> list[dict]:
    """The one-shots of a soundfont: rows of :data:`COLUMNS` plus what to play.

    Every kit of bank 128 (less :data:`KIT_EXCLUDE`) plays every GM key 35..81 at each
    of ``drum_velocities``; every program with a family plays ``pitches_per_program``
    pitches spread over its range. ``detail`` is the finer label training uses: the
    instrument of a ``perc`` key (:data:`PERC_KIND`), else the label.
    """
    rows = []
    for kit in drum_kits(soundfont_path):
        if any(x in kit.name.lower() for x in KIT_EXCLUDE):
            continue
        for key in range(35, 82):
            for vel in drum_velocities:
                rows.append({"name": f"{source}-kit{kit.program:03d}-k{key}-v{vel}",
                             "label": DRUM_CLASS[key], "kind": "drum",
                             "detail": PERC_KIND.get(key, DRUM_CLASS[key]),
                             "group": f"{source}:{kit.name}", "source": source,
                             "channel": DRUM_CHANNEL, "bank": DRUM_BANK,
                             "program": kit.program, "pitch": key,
                             "velocity": vel})
    for program, family in enumerate(PROGRAM_FAMILY):
        if family is None:
            continue
        lo, hi = program_range(program)
        for pitch in np.linspace(lo, hi, pitches_per_program + 2)[1:-1].round().astype(int):
            rows.append({"name": f"{source}-p{program:03d}-n{pitch}", "label": family,
                         "kind": "note", "group": f"{source}:program{program}",
                         "detail": family,
                         "source": source, "channel": 0, "bank": 0, "program": program,
                         "pitch": int(pitch), "velocity": note_velocity})
    return rows


def plan_kit(soundfont_path: str, *, source: str, keys: dict[int, tuple[str, str]],
             velocities: tuple[int, ...]) -> list[dict]:
    """The hits of a one-kit soundfont (every preset a kit, bank 0, played on channel 0).

    ``keys`` maps each key to its (label, detail), as :data:`AVL_KEYS`.
    """
    rows = []
    for kit in presets(soundfont_path):
        slug = "".join(c if c.isalnum() else "-" for c in kit.name.lower()).strip("-")
        for key, (label, detail) in sorted(keys.items()):
            for vel in velocities:
                rows.append({"name": f"{source}-{slug}-k{key}-v{vel}", "label": label,
                             "kind": "drum", "detail": detail, "group": f"{source}:{kit.name}",
                             "source": source, "channel": 0, "bank": kit.bank,
                             "program": kit.program,
                             "pitch": key, "velocity": vel, "soundfont": str(soundfont_path)})
    return rows


def _plan(soundfont: str, source: str) -> list[dict]:
    """Every row to render for ``soundfont`` (a GM soundfont or a name of :data:`KIT_SETS`)."""
    from rtsim.training.data.fluid import resolve_soundfont

    if soundfont.lower() not in KIT_SETS:
        sf2 = str(resolve_soundfont(soundfont))
        rows = [{**r, "soundfont": sf2} for r in plan_oneshots(sf2, source=source)]
    else:
        keys, velocities, files = KIT_SETS[soundfont.lower()]
        missing = [f for f in files if not Path(f).is_file()]
        if missing:
            raise ConfigError(f"soundfont={soundfont!r}: missing {', '.join(missing)} "
                              "(on Debian: apt-get install avldrums.lv2-soundfont)")
        rows = [r for f in files
                for r in plan_kit(f, source=source, keys=keys, velocities=velocities)]
    for r in rows:
        r["recording"] = "|".join(samples_played(r["soundfont"], bank=r["bank"],
                                              program=r["program"], key=r["pitch"],
                                              velocity=r["velocity"]))
    return rows


def add_recordings(out: str | os.PathLike, *, soundfont: str, source: str) -> bool:
    """Give a corpus rendered before the ``recording`` column existed that column.

    The column comes from the soundfont's zones, as a fresh render writes it (no audio is
    rendered again); the labels are rewritten atomically. Returns whether it was added
    (False when ``labels.csv`` has it already, or when the corpus is not played from a
    soundfont: ``"drumsynth"``, ``"stk"``).
    """
    if soundfont in _NOT_SOUNDFONTS:
        return False
    path = Path(out) / "labels.csv"
    rows = read_labels(path)
    if not rows or "recording" in rows[0]:
        return False
    recording = {f"audio/{r['name']}.wav": r["recording"] for r in _plan(soundfont, source)}
    write_labels(path, [{**r, "recording": recording.get(r["path"], "")} for r in rows])
    return True


def onset_index(y: np.ndarray, floor_db: float = -40.0) -> int:
    """Index of the first sample within ``floor_db`` of ``y``'s peak (0 for silence)."""
    peak = float(np.abs(y).max()) if len(y) else 0.0
    return int(np.argmax(np.abs(y) >= peak * 10 ** (floor_db / 20))) if peak > 0 else 0


def _head(path: Path, seconds: float = 0.3) -> np.ndarray | None:
    """The first ``seconds`` of a file from its onset, or None when it is silent.

    fluidsynth starts notes on 64-sample block boundaries, so one sample rendered at two
    times differs by a shift: aligning at the onset makes the copies compare equal.
    """
    y, sr = sf.read(path, dtype="float32")
    if _peak_db(y) < _SILENT_DB:
        return None
    first = onset_index(y)
    out = np.zeros(int(seconds * sr), np.float32)
    seg = y[first:first + len(out)]
    out[: len(seg)] = seg
    return out


def _same_sound(a: np.ndarray, b: np.ndarray, *, tol: float = 1e-2,
                max_lag: int = 64) -> bool:
    """Onset-aligned heads equal within ``tol`` relative squared error, at the best lag.

    (Within ``max_lag`` samples: the onset threshold may fire a few samples apart.)
    """
    import scipy.signal

    eb = float(np.dot(b, b))
    if abs(float(np.dot(a, a)) - eb) > 0.1 * max(eb, 1e-12):
        return False
    n = min(len(a), 4096)
    corr = scipy.signal.fftconvolve(a[:n], b[:n][::-1], mode="full")[n - 1 - max_lag:n + max_lag]
    lag = int(np.argmax(corr)) - max_lag
    d = np.roll(a, -lag) - b
    return float(np.dot(d, d)) <= tol * max(eb, 1e-12)


def _peak_db(y: np.ndarray) -> float:
    """Peak level in dBFS (-inf for no samples); below ``_SILENT_DB`` a key is empty."""
    return 20 * np.log10(max(float(np.abs(y).max()), 1e-12)) if y.size else -np.inf


def render_oneshots(out: str | os.PathLike, *, soundfont: str, source: str,
                    sr: int = 22050, seconds: float = 1.5, workers: int = 2,
                    progress: bool = True, batch: int = 64) -> Path:
    """Render a soundfont's kits and notes into ``out`` (``audio/``, ``labels.csv``).

    Hits and notes are dry (no reverb or chorus), each ``seconds`` long (held for 75 % of
    it); keys a kit leaves silent are dropped, and so are hits identical to an earlier
    one (kits of one soundfont share many samples). ``soundfont`` is a path or short name
    of a GM soundfont, or a name of :data:`KIT_SETS` (``"avl"``: recorded acoustic kits).
    ``render.json`` records the parameters. ``"drumsynth"`` renders LMMS's DrumSynth
    presets instead (:mod:`~rtsim.training.data.drumsynth`), ``"stk"`` the Synthesis
    ToolKit's recorded drum hits (:mod:`~rtsim.training.data.stk`).
    """
    if soundfont == "stk":
        from rtsim.training.data.stk import render_stk

        return render_stk(out, source=source, sr=sr)
    if soundfont == "drumsynth":
        from rtsim.training.data.drumsynth import render_drumsynth

        return render_drumsynth(out, source=source, sr=sr, workers=workers,
                                progress=progress)
    rows = _plan(soundfont, source)
    out = start_render(out, rows)
    jobs = []
    for sf2, channel in dict.fromkeys((r["soundfont"], r["channel"]) for r in rows):
        part = [r for r in rows if r["channel"] == channel and r["soundfont"] == sf2]
        for i in range(0, len(part), batch):
            b = part[i:i + batch]
            jobs.append(NoteJob(programs=[r["program"] for r in b],
                                pitches=[r["pitch"] for r in b],
                                velocities=[r["velocity"] for r in b],
                                paths=[str(out / r["path"]) for r in b], soundfont=sf2,
                                sr=sr, seconds=seconds, channel=channel))
    run_jobs(render_note_job, jobs, workers=workers, description=f"one-shots {source}",
             progress=progress)
    kept, seen = [], {}
    for r in rows:
        head = _head(out / r["path"])
        same = seen.setdefault((r["channel"], r["pitch"], r["velocity"]), [])
        if head is None or any(_same_sound(head, h) for h in same):
            (out / r["path"]).unlink()  # a silent key, or a kit reusing another kit's hit
        else:
            same.append(head)
            kept.append(r)
    finish_render(out, kept, {"soundfont": sorted({r["soundfont"] for r in rows}),
                              "source": source, "sr": sr, "seconds": seconds,
                              "rendered": len(rows)})
    log.info("wrote %d one-shots (%d silent keys dropped) to %s", len(kept),
             len(rows) - len(kept), out)
    return out


def start_render(out: str | os.PathLike, rows: list[dict]) -> Path:
    """Make ``out/audio`` and give each planned row its ``path`` there (``audio/NAME.wav``)."""
    out = Path(out)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    for r in rows:
        r["path"] = f"audio/{r['name']}.wav"
    return out


def write_hit(path: str | os.PathLike, y: np.ndarray, *, sr_in: int, sr: int,
              floor: float = 1e-3) -> bool:
    """Write one rendered or converted hit as 16-bit WAV at ``sr`` (resampled from ``sr_in``).

    Returns False, writing nothing, when ``y`` is non-finite or silent (peak below
    ``floor``, -60 dBFS): the caller leaves that row out.
    """
    from rtsim.audio.resample import resample

    if sr != sr_in:
        y = resample(y, sr_in=sr_in, sr_out=sr)
    if not np.isfinite(y).all() or np.abs(y).max() < floor:
        return False
    sf.write(path, np.clip(y, -1, 1), sr, subtype="PCM_16")
    return True


def finish_render(out: Path, kept: list[dict], meta: dict) -> None:
    """Write the rendered rows' ``labels.csv`` and ``render.json`` (``meta`` plus counts)."""
    write_labels(out / "labels.csv", kept)
    meta = {"kind": "oneshots", **meta, "kept": len(kept)}
    (out / "render.json").write_text(json.dumps(meta, indent=1) + "\n")


def write_labels(path: str | os.PathLike, rows: list[dict]) -> None:
    """Write rows as a labels CSV of :data:`COLUMNS` (atomically)."""
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow([r.get(c, "") for c in COLUMNS])
    os.replace(tmp, path)


def read_labels(path: str | os.PathLike) -> list[dict]:
    """Rows of a ``labels.csv`` written by this module (or by hand in its layout)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"labels file {os.fspath(p)!r}: no such file")
    with open(p, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
