"""LMMS's DrumSynth presets rendered as labelled one-shots: 700+ designed drum sounds.

``lmms-common`` ships ``samples/drumsynth/``: Paul Kellett's DrumSynth 2 patch files
(``.ds``, an INI text format), grouped in folders that are kits or styles (``tr808``,
``tr909``, ``tr606``, ``cr78``, ``linn``, ``acoustic``, ``electro``, ``misc_hats``…).
They are not audio: each is a recipe for one hit (a swept tone, filtered noise, two
overtone oscillators, two noise bands, a resonant filter, bit crushing), and LMMS
renders them when a patch is loaded. :func:`render_ds` is that synthesis, written here
from the format's parameters (the same sections, envelopes and units: envelope times in
samples at 44.1 kHz, levels in per cent, frequencies in Hz), so the presets become what
their authors designed them as: drum-machine emulations (TR-808, TR-909, TR-606, CR-78,
CR-8000, LinnDrum…) and modelled acoustic hits.

Labels come from each patch's file name (:func:`preset_label`: ``Kick``, ``Hat_o``,
``JazzSnr``, ``linn_tom3``, ``bright_808_hat``…); names that say nothing about the class
(``Boom``, ``fatness``), or say two (``snare&hat``, ``clappy_snare``), and the effect,
bass and instrument folders are left out. Group: the folder (a kit or a style), so a
query never sees its own kit. Source: ``drumsynth``, its own unit of
leave-one-source-out (LMMS's recorded ``samples/drums`` are the ``lmms`` source).
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from pathlib import Path

import numpy as np

from rtsim.errors import ConfigError

__all__ = ["DRUMSYNTH_DIR", "SKIP_FOLDERS", "parse_ds", "render_ds", "preset_label",
           "plan_drumsynth", "render_drumsynth"]

log = logging.getLogger(__name__)

DRUMSYNTH_DIR = "/usr/share/lmms/samples/drumsynth"
"""Where Debian's ``lmms-common`` puts the presets."""

SKIP_FOLDERS = ("effects", "instrument", "magnetboy", "misc_synth", "misc_fx", "misc_bass",
                "ferraro")
"""Folders of sound effects, pitched instruments and basses (no drum classes)."""

FS = 44100
"""DrumSynth's own rate: envelope times are samples at 44.1 kHz."""

# file-name tokens -> (label, detail); a name must name exactly one label
_PERC = {"cowbell": "cowbell", "cow": "cowbell", "clave": "claves", "clav": "claves",
         "conga": "conga", "cga": "conga", "cgam": "conga", "bongo": "bongo",
         "rim": "rim", "rimshot": "rim", "stk": "rim", "tamb": "tambourine",
         "maracas": "shaker", "shaker": "shaker", "shaaka": "shaker", "shake": "shaker",
         "cab": "shaker", "triangle": "triangle", "guiro": "guiro", "timbale": "timbale",
         "cui": "cuica", "wood": "woodblock", "tabla": "tabla"}


def _token_label(tok: str, first: bool) -> str | None:
    """The drum class one lower-case name token says, if any."""
    if tok in ("kick", "kik", "bd") or tok.startswith("kick") or tok.endswith("kick") \
            or (first and tok == "k"):
        return "kick"
    if "snare" in tok or "snr" in tok or tok == "sn" or (first and tok == "s"):
        return "snare"
    if "clap" in tok or tok == "clp":
        return "clap"
    if "hihat" in tok or tok in ("hh", "hhh", "oh") or tok.startswith("hat") or (
            tok.endswith("hat") and tok not in ("what", "that")):
        return "hihat"
    if "cym" in tok or tok.startswith("ride") or tok.startswith("crash"):
        return "cymbal"
    if re.fullmatch(r"(syn)?tom\d*|tommy", tok):
        return "tom"
    base = re.sub(r"\d+$", "", tok)
    return "perc" if base in _PERC else None


def preset_label(folder: str, name: str) -> tuple[str, str] | None:
    """``(label, detail)`` of a preset from its folder and file stem, or None.

    >>> preset_label("tr808", "Hat_o"), preset_label("misc", "airbrush_bd")
    (('hihat', 'hihat'), ('kick', 'kick'))
    >>> preset_label("r_n_b", "snare&hat") is None, preset_label("linn", "linn_cow")
    (True, ('perc', 'cowbell'))
    """
    if folder in SKIP_FOLDERS:
        return None
    text = name.lower().replace("bass_drum", "bd")
    toks = [t for t in re.split(r"[^a-z0-9]+", text) if t]
    toks = [t for i, t in enumerate(toks) if not (i == 0 and re.fullmatch(r"tr\d+", t))]
    found = {}
    for i, t in enumerate(toks):
        label = _token_label(t, first=i == 0)
        if label:
            found[label] = _PERC.get(re.sub(r"\d+$", "", t), label) if label == "perc" \
                else label
    if len(found) != 1:
        return None
    (label, detail), = found.items()
    return label, detail


# --- the .ds format ---------------------------------------------------------------------

def parse_ds(text: str) -> dict[str, dict[str, str]]:
    """A ``.ds`` file's sections as ``{section: {key: value}}`` (names lower-case)."""
    out: dict[str, dict[str, str]] = {}
    sec = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and "]" in line:
            sec = out.setdefault(line[1:line.index("]")].strip().lower(), {})
        elif sec is not None and "=" in line:
            k, _, v = line.partition("=")
            sec[k.strip().lower()] = v.strip()
    return out


class _Patch:
    """Typed access to a parsed patch, with DrumSynth's defaults (envelopes parsed once)."""

    def __init__(self, sections: dict[str, dict[str, str]]) -> None:
        self.s = sections
        self._envs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def num(self, sec: str, key: str, default: float) -> float:
        raw = self.s.get(sec, {}).get(key, "")
        m = re.match(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", raw)
        return float(m.group(0)) if m else float(default)

    def on(self, sec: str) -> bool:
        return int(self.num(sec, "on", 0)) == 1

    def env(self, sec: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Envelope points: (times in 44.1-kHz samples, levels 0..1); read-only arrays."""
        if (sec, key) not in self._envs:
            self._envs[sec, key] = self._parse_env(sec, key)
        return self._envs[sec, key]

    def _parse_env(self, sec: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        raw = self.s.get(sec, {}).get(key) or "0,0 100,0"
        pts = []
        for pair in raw.split():
            t, _, v = pair.partition(",")
            try:
                pts.append((float(t), float(v or 0) * 0.01))
            except ValueError:
                continue
        if not pts:
            pts = [(0.0, 0.0), (100.0, 0.0)]
        a = np.array(pts, np.float64)
        a.flags.writeable = False
        return a[:, 0], a[:, 1]


def _envelope(times: np.ndarray, levels: np.ndarray, n: int, stretch: float,
              *, cut: bool = False) -> np.ndarray:
    """Piecewise-linear envelope over ``n`` samples.

    Held at its last level after its last point, or zero there with ``cut`` (a section
    stops when its envelope ends).
    """
    t = np.arange(n, dtype=np.float64)
    tt = times * stretch
    e = np.interp(t, tt, levels)
    if cut:
        e[t >= tt[-1]] = 0.0
    return e


def _wave(ph: np.ndarray, form: int) -> np.ndarray:
    """DrumSynth's oscillator shapes: sine, |sine| (rectified), triangle, saw, square."""
    if form == 0:
        return np.sin(ph)
    if form == 1:
        return np.abs(2.0 * np.sin(0.5 * ph)) - 1.0
    saw01 = np.mod(ph / (2 * np.pi), 1.0)
    if form == 2:
        return 1.0 - 4.0 * np.abs(saw01 - 0.5)
    if form == 3:
        return 2.0 * saw01 - 1.0
    return np.where(saw01 < 0.5, 1.0, -1.0)


def _section_end(p: _Patch, sec: str, key: str, stretch: float) -> float:
    return float(p.env(sec, key)[0][-1]) * stretch


def render_ds(text: str, *, seed: int = 0, max_seconds: float = 4.0) -> np.ndarray:
    """Synthesise one DrumSynth patch (the ``.ds`` file's text) at 44.1 kHz, in [-1, 1].

    Sections: ``Tone`` (a sine swept from F1 to F2, linearly or with an exponential
    ``Droop``), ``Noise`` (white noise through a one-pole/two-zero ``Slope`` filter),
    ``Overtones`` (two oscillators added, FM-ed, ring-modulated, or an 808-style bank of
    six square pulses into a swept band-pass), ``NoiseBand`` and ``NoiseBand2`` (a sine
    whose phase random-walks: band-limited noise around F, ``dF`` wide), the resonant
    low-pass ``Filter`` on overtones or on everything (its cutoff the ``FilterEnv``),
    and ``Distortion`` (bit depth, sample-rate reduction, clipping). Levels are squared
    slider values in 16-bit units, as DrumSynth's; the result is divided by 32768.

    Raises
    ------
    ConfigError
        If the text is not a DrumSynth v1/v2 patch.
    """
    p = _Patch(parse_ds(text))
    ver = p.s.get("general", {}).get("version", "")
    if not re.match(r"drumsynth v[12]", ver.lower()):
        raise ConfigError(f"not a DrumSynth v1/v2 patch (Version={ver!r})")
    rng = np.random.default_rng(seed)
    stretch = min(10.0, max(0.2, 0.01 * p.num("general", "stretch", 100.0)))
    gain = 10 ** (0.05 * p.num("general", "level", 0.0))
    tune = 1.0594631 ** p.num("general", "tuning", 0.0)
    main_filter = 2 * int(p.num("general", "filter", 0))
    res = np.sqrt(0.0101 * p.num("general", "resonance", 0.0))
    highpass = int(p.num("general", "highpass", 0))
    w = 2 * np.pi / FS * tune  # Hz -> radians per sample

    on = {s: p.on(s) for s in ("tone", "noise", "overtones", "noiseband", "noiseband2",
                               "distortion")}
    ends = {"tone": [_section_end(p, "tone", "envelope", stretch)],
            "noise": [_section_end(p, "noise", "envelope", stretch)],
            "overtones": [_section_end(p, "overtones", k, stretch)
                          for k in ("envelope1", "envelope2")],
            "noiseband": [_section_end(p, "noiseband", "envelope", stretch)],
            "noiseband2": [_section_end(p, "noiseband2", "envelope", stretch)]}
    longest = max([e for s, es in ends.items() if on[s] for e in es], default=0.0)
    n = min(2400 + 1200 * int(longest / 1200), int(max_seconds * FS))
    n = max(n, 1200)
    t = np.arange(n, dtype=np.float64)
    out = np.zeros(n)

    if on["noise"]:
        slope = p.num("noise", "slope", 0)
        level = p.num("noise", "level", 0) ** 2
        if slope < 0:
            b, a_fb, g = [1 + slope / 105, 0, 0], -slope / 105, (1 + 5e-4 * slope ** 2) * level
        else:
            b, a_fb, g = [1, -slope / 50, abs(slope) / 100], 0.0, level
        from scipy.signal import lfilter

        x = rng.uniform(-1, 1, n)
        tt = lfilter(b, [1, -a_fb], x)
        out += tt * g * _envelope(*p.env("noise", "envelope"), n, stretch, cut=True)

    f1 = w * p.num("tone", "f1", 200.0)
    f1 = f1 if abs(f1) >= 0.001 else 0.001
    f2 = w * p.num("tone", "f2", 120.0)
    droop = p.num("tone", "droop", 0.0)
    tone_end = max(ends["tone"][0], 1.0)
    if droop > 0:
        rate = 10 ** ((droop - 20) / 30) * -4 / tone_end
        f2 = f1 + (f2 - f1) / (1 - np.exp(rate * tone_end))
        inc = f2 + (f1 - f2) * np.exp(t * rate)
    else:
        inc = f1 + (t / tone_end) * (f2 - f1)
    phase0 = p.num("tone", "phase", 90.0) / 57.29578
    if on["tone"]:
        tone_phase = phase0 + np.cumsum(inc)
        level = p.num("tone", "level", 128) ** 2
        out += level * _envelope(*p.env("tone", "envelope"), n, stretch, cut=True) \
            * np.sin(tone_phase)
    else:
        tone_phase = np.cumsum(np.full(n, f2))

    for sec in ("noiseband", "noiseband2"):
        if not on[sec]:
            continue
        bf = w * p.num(sec, "f", 1000.0)
        df = p.num(sec, "df", 50)
        bq = df * df / (10000 - 6600 * (np.sqrt(abs(bf)) - 0.19))
        step = max(1, 1 + int((40 - df / 2.5) / (bq + 1 + bf)))
        jumps = np.repeat(rng.random(n // step + 1) - 0.5, step)[:n]
        ph = np.pi / 4 + np.cumsum(bf + bq * jumps)
        level = p.num(sec, "level", 128) ** 2
        out += np.cos(ph) * _envelope(*p.env(sec, "envelope"), n, stretch, cut=True) * level

    ot = _overtones(p, on, n, t, w, f1, tone_phase, phase0, stretch)
    if main_filter == 0:
        main_filter = int(p.num("overtones", "filter", 0))
    if main_filter in (1, 2):
        fenv = _envelope(*p.env("general", "filterenv"), n, stretch)
        out = _main_filter(out, ot, fenv, res, highpass, mode=main_filter)
    else:
        out = out + ot

    clip = 32700.0
    if on["distortion"]:
        levels = [p.num(s, "level", 128 if s != "noise" else 0) ** 2
                  for s in ("tone", "noise", "overtones", "noiseband", "noiseband2") if on[s]]
        clip = min(32700.0, gain * max(levels, default=0.0))
        atten = 2.0 ** (2 * int(p.num("distortion", "bits", 0)))
        gain = atten * gain * 10 ** (0.05 * int(p.num("distortion", "clipping", 0)))
        out = gain * np.trunc(out / atten)
        rate = 1 + int(p.num("distortion", "rate", 0))
        rate = {5: 8, 6: 10, 7: 20}.get(rate, rate)
        if rate > 1:
            m = -(-n // rate) * rate
            held = np.pad(out, (0, m - n)).reshape(-1, rate).mean(axis=1)
            out = np.repeat(held, rate)[:n]
    else:
        out = out * gain
    return (np.clip(out, -clip, clip) / 32768.0).astype(np.float32)


def _overtones(p: _Patch, on: dict, n: int, t: np.ndarray, w: float, f1: float,
               tone_phase: np.ndarray, phase0: float, stretch: float) -> np.ndarray:
    """The ``Overtones`` section: two oscillators combined by ``Method``."""
    if not on["overtones"]:
        return np.zeros(n)
    sec = "overtones"
    level = p.num(sec, "level", 128) ** 2
    e1 = _envelope(*p.env(sec, "envelope1"), n, stretch, cut=True)
    e2 = _envelope(*p.env(sec, "envelope2"), n, stretch, cut=True)
    mode = int(p.num(sec, "method", 2))
    of1, of2 = w * p.num(sec, "f1", 200.0), w * p.num(sec, "f2", 120.0)
    w1, w2 = int(p.num(sec, "wave1", 0)), int(p.num(sec, "wave2", 0))
    bal2 = p.num(sec, "param", 50)
    drive = bal2 ** 3 / 125000.0
    bal2 *= 0.01
    bal1 = 1 - bal2
    track = on["tone"]
    ph1 = tone_phase * (of1 / f1) if track and int(p.num(sec, "track1", 0)) == 1 \
        else phase0 + of1 * (t + 1)
    ph2 = tone_phase * (of2 / f1) if track and int(p.num(sec, "track2", 0)) == 1 \
        else phase0 + of2 * (t + 1)
    if mode == 0:
        return level * (bal1 * e1 * _wave(ph1, w1) + bal2 * e2 * _wave(ph2, w2))
    if mode == 1:
        return level * e1 * _wave(ph1 + drive * e2 * _wave(ph2, w2), w1)
    if mode == 2:
        return level * e1 * _wave(ph1, w1) * ((1 - drive / 8) + (drive / 8) * e2
                                                * _wave(ph2, w2))
    # 808 cymbal: six square-wave counters between the two periods, into a band-pass
    amp = 0.28 + bal1 * bal1
    q = amp * amp
    fc = (1.8 - 0.7 * q) * 0.92
    period1, period2 = 2 * np.pi / of1, 2 * np.pi / of2
    periods = period1 + (period2 - period1) * 0.2 * np.arange(6)
    hits = np.zeros(n, bool)
    for per in periods:
        if per > 0:
            k = np.arange(0, n / per + 1)
            idx = np.floor(k * per).astype(int)  # the counter wraps once a period
            hits[idx[idx < n]] = True
    pulse = np.where(hits, level * e1, 0.0)
    return _bandpass(pulse, e2 * fc, q)


def _bandpass(x: np.ndarray, f: np.ndarray, q: float) -> np.ndarray:
    """A state-variable band-pass whose coefficient ``f`` moves sample by sample."""
    y = np.empty_like(x)
    s0 = s1 = prev = 0.0
    for i in range(len(x)):
        fi = f[i]
        s0 += fi * s1
        s1 += fi * (x[i] + prev - q * s1 - s0)
        prev = x[i]
        y[i] = s1
    return y


def _main_filter(signal: np.ndarray, ot: np.ndarray, fenv: np.ndarray, res: float,
                 highpass: int, *, mode: int) -> np.ndarray:
    """The resonant two-pole low-pass whose cutoff is ``fenv``.

    On the overtones only (``mode`` 1) or on everything (2); ``highpass`` subtracts the
    input, leaving the high band.
    """
    fb = np.where(fenv > 0.2, 1.001 - 10 ** (fenv - 1), 0.999 - 0.7824 * fenv)
    src = ot if mode == 1 else signal + ot
    y = np.empty_like(src)
    lp_in = lp_out = 0.0
    for i in range(len(src)):
        k = fb[i]
        v = src[i] + res * (1 + 1 / k) * (lp_in - lp_out)
        lp_in = k * (lp_in - v) + v
        lp_out = k * (lp_out - lp_in) + lp_in
        y[i] = lp_out
    y = y - highpass * src
    return signal + y if mode == 1 else y


# --- the corpus ---------------------------------------------------------------------------

def plan_drumsynth(root: str | os.PathLike = DRUMSYNTH_DIR, *,
                   source: str = "drumsynth") -> list[dict]:
    """The labelled presets under ``root``: rows of ``oneshots.COLUMNS`` plus ``preset``."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"DrumSynth presets: {os.fspath(root)} does not exist "
                          "(Debian: apt install lmms-common)")
    rows = []
    for f in sorted(root.glob("*/*.ds")):
        found = preset_label(f.parent.name, f.stem)
        if found is None:
            continue
        label, detail = found
        slug = re.sub(r"[^a-z0-9]+", "-", f"{f.parent.name}-{f.stem}".lower()).strip("-")
        rows.append({"name": f"{source}-{slug}", "label": label, "kind": "drum",
                     "detail": detail, "group": f"{source}:{f.parent.name}",
                     "source": source, "preset": str(f)})
    return rows


def _render_row(job: tuple[str, str, int]) -> str | None:
    """Render one preset to a WAV; its path, or None when it is silent or unreadable."""
    from rtsim.training.data.oneshots import write_hit

    preset, path, sr = job
    try:
        text = Path(preset).read_text(encoding="latin-1")
        y = render_ds(text, seed=zlib.crc32(Path(preset).name.encode()))
    except (ConfigError, ValueError, OSError) as exc:
        log.warning("leaving out DrumSynth preset %s: %s", preset, exc)
        return None
    if not write_hit(path, y, sr_in=FS, sr=sr):
        log.warning("leaving out DrumSynth preset %s: silent", preset)
        return None
    return path


def render_drumsynth(out: str | os.PathLike, *, root: str | os.PathLike = DRUMSYNTH_DIR,
                     source: str = "drumsynth", sr: int = 22050, workers: int = 2,
                     progress: bool = True) -> Path:
    """Render every labelled preset under ``root`` into ``out``.

    The layout of ``render_oneshots``: ``audio/``, ``labels.csv``, ``render.json``.
    Presets that are silent or not DrumSynth patches are left out with a warning.
    """
    from rtsim.training.data.oneshots import finish_render, start_render
    from rtsim.training.data.pool import run_jobs

    rows = plan_drumsynth(root, source=source)
    out = start_render(out, rows)
    done = set(run_jobs(_render_row, [(r["preset"], str(out / r["path"]), sr) for r in rows],
                        workers=workers, description=f"one-shots {source}",
                        progress=progress))
    kept = [r for r in rows if str(out / r["path"]) in done]
    finish_render(out, kept, {"soundfont": "drumsynth", "root": os.fspath(root),
                              "source": source, "sr": sr, "rendered": len(rows)})
    log.info("wrote %d DrumSynth one-shots to %s", len(kept), out)
    return out
