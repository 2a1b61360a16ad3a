"""Recorded samples that Debian packages ship, labelled from their own file names.

Three packages hold recorded (and some synthesised) one-shots under free licences:

- ``sonic-pi-samples`` (``/usr/share/sonic-pi/samples``, FLAC, CC0 / CC-BY per its
  README): drum kits (``drum_*``, ``elec_*``, ``bd_*``, ``sn_*``), tabla, percussion,
  basses, guitars, ambient and effect sounds, loops;
- ``lmms-common`` (``/usr/share/lmms/samples``, Ogg Vorbis, GPL-2+): ``drums/``,
  ``basses/``, ``instruments/``, ``latin/``, ``effects/``, ``misc/``. Its ``drumsynth/``
  presets are synthesis parameters, not audio, and are not read;
- ``exadrums`` (``/usr/share/exadrums``, WAV, BSD-3-Clause): the eXaDrums drum module's
  default kit, eight recorded acoustic hits (kick, snare, hi-hat, two toms, crash, ride
  edge and bell), one group;
- ``chuck-data`` (``/usr/share/doc/chuck-data/examples``, WAV, GPL-2+): the drum hits
  ChucK's examples play, two sets: ``data/`` (kick, two hi-hats, three snares) and the
  book *Programming for Musicians and Digital Artists*' ``audio/`` (kicks, snares,
  hi-hats, clap, cowbell); the book's chapter folders repeat those files and are not read;
- ``python-kivy-examples`` (``/usr/share/kivy-examples/audio``, WAV, MIT): a drum
  machine's hits from freesound's "sweet trip" pack (three kicks, three claps, a closed
  hat, a metal clave), one group; its sweeps and modulated blips are effects.

:func:`packaged_rows` turns a package into rows of the one-shot table
(``path, label, kind, group, source, detail``; see :mod:`rtsim.training.data.oneshots`): a drum
class or an instrument family from the name, ``group`` the sub-pack or sample series a
query must not see of itself (``bd`` for Sonic Pi's ``bd_*`` kicks, ``snare`` for LMMS's
``snare01..07``), ``kind`` ``drum``, ``note`` or ``fx``. Loops, drones and names that say
nothing about the sound are left out. Never read here, by design: ``hydrogen-drumkits``
and ``freepats``, the project's reserved test sets.
"""

from __future__ import annotations

import re
from pathlib import Path

from rtsim.errors import ConfigError

__all__ = ["PACKAGES", "RESERVED", "packaged_rows", "label_name"]

PACKAGES = {
    "sonic-pi": Path("/usr/share/sonic-pi/samples"),
    "lmms": Path("/usr/share/lmms/samples"),
    "exadrums": Path("/usr/share/exadrums"),
    "chuck": Path("/usr/share/doc/chuck-data/examples"),
    "kivy": Path("/usr/share/kivy-examples/audio"),
}
"""Package short names and where Debian installs their samples."""

RESERVED = ("hydrogen", "freepats")
"""Path fragments never read for training, validation or tuning (held-out test sets)."""

# (regex on "<sub-folder>/<stem>", kind, label); the first match wins; None label = skip
_RULES: dict[str, list[tuple[str, str, str | None]]] = {
    "sonic-pi": [
        (r"loop_|vinyl_hiss|ambi_drone|ambi_haunted|ambi_sauna|guit_e_slide|drum_roll",
         "skip", None),
        (r"^bd_|drum_bass_|drum_heavy_kick|elec_(soft|hollow)_kick", "drum", "kick"),
        (r"^sn_|drum_snare_|elec_(hi_|lo_|mid_|filt_)?snare", "drum", "snare"),
        (r"drum_cymbal_(closed|pedal|open)", "drum", "hihat"),
        (r"drum_cymbal_|drum_splash_|elec_cymbal", "drum", "cymbal"),
        (r"drum_tom_|elec_fuzz_tom", "drum", "tom"),
        (r"perc_snap", "drum", "clap"),
        (r"drum_cowbell|elec_triangle|elec_wood|tabla_|perc_(bell|till)|glitch_perc",
         "drum", "perc"),
        (r"^bass_|glitch_bass", "note", "bass"),
        (r"^guit_", "note", "guitar"),
        (r"ambi_piano", "note", "keyboard"),
        (r"ambi_choir", "note", "vocal"),
        (r"elec_(beep|blip|blup|bong|chime|ping|plip|pop|twang|twip|tick|flip|bell)",
         "fx", "blip"),
        (r"ambi_|misc_|mehackit_|glitch_|perc_|vinyl_", "fx", "effect"),
    ],
    "lmms": [
        (r"^(beats|bassloops|shapes|drumsynth|waveforms|stringsnpads)/", "skip", None),
        (r"drums/(bassdrum|kick)", "drum", "kick"),
        (r"drums/(snare|nasty_snare)", "drum", "snare"),
        (r"drums/clap", "drum", "clap"),
        (r"drums/hihat", "drum", "hihat"),
        (r"drums/(crash|ride)", "drum", "cymbal"),
        (r"drums/tom", "drum", "tom"),
        (r"drums/(rim|sidestick|shaker|wood|clav|nasty_rim)", "drum", "perc"),
        (r"^basses/|instruments/bassslap", "note", "bass"),
        (r"instruments/(cello|violin)", "note", "string"),
        (r"instruments/(church_organ|e_organ)", "note", "organ"),
        (r"instruments/(e_piano|harpsichord|piano)", "note", "keyboard"),
        (r"instruments/flute", "note", "flute"),
        (r"instruments/trumpet|latin/latin_brass", "note", "brass"),
        (r"instruments/steel_guitar|latin/latin_guitar", "note", "guitar"),
        (r"^(effects|misc)/|drums/zap", "fx", "effect"),
    ],
    "exadrums": [
        (r"^BD_", "drum", "kick"),
        (r"^Snr_", "drum", "snare"),
        (r"^HiHat", "drum", "hihat"),
        (r"^Tom", "drum", "tom"),
        (r"^(Crash|Ride)", "drum", "cymbal"),
    ],
    "chuck": [
        (r"^(?!data/|book/digital-artists/audio/)|click_|stereo_fx", "skip", None),
        (r"/kick", "drum", "kick"),
        (r"/snare", "drum", "snare"),
        (r"/hihat", "drum", "hihat"),
        (r"/clap", "drum", "clap"),
        (r"/cowbell", "drum", "perc"),
    ],
    "kivy": [
        (r"_kick_", "drum", "kick"),
        (r"_clap_", "drum", "clap"),
        (r"_hat_", "drum", "hihat"),
        (r"_clave", "drum", "perc"),
        (r"_(kwik_mod|sweep)_", "fx", "effect"),
    ],
}

# the instrument of a "perc" sample (the ``detail`` column), as for GM's percussion keys
_PERC_DETAIL = [
    (r"tabla_", "tabla"), (r"cowbell", "cowbell"), (r"triangle", "triangle"),
    (r"elec_wood|drums/wood", "woodblock"), (r"perc_(bell|till)", "bell"),
    (r"glitch_perc", "glitch"), (r"rim|sidestick", "rim"), (r"shaker", "shaker"),
    (r"drums/clav|_clave", "claves"),
]

_AUDIO = (".wav", ".flac", ".ogg")


def label_name(package: str, rel: str) -> tuple[str, str] | None:
    """``(kind, label)`` of a sample from its path in the package, or None to leave it out.

    ``rel`` is the path under the package's folder without its suffix, e.g.
    ``"drums/snare03"`` or ``"bd_haus"``.
    """
    for pattern, kind, label in _RULES[package]:
        if re.search(pattern, rel):
            return None if label is None else (kind, label)
    return None


def _group(package: str, rel: str) -> str:
    stem = rel.rsplit("/", 1)[-1]
    if package == "sonic-pi":
        return f"{package}:{stem.split('_', 1)[0]}"
    if package == "exadrums":
        return f"{package}:default"  # one kit
    if package == "kivy":
        return f"{package}:sweet_trip"  # one pack
    if package == "chuck":
        return f"{package}:{rel.split('/', 1)[0]}"  # data/ or book/
    return f"{package}:{re.sub(r'[_0-9]+$', '', stem)}"


def packaged_rows(package: str, root: str | Path | None = None) -> list[dict]:
    """Rows ``path, label, kind, group, source`` of a package's samples (absolute paths).

    Raises
    ------
    ConfigError
        Unknown package, its folder missing (with the ``apt-get`` line), or a reserved
        path asked for.
    """
    if package not in _RULES:
        raise ConfigError(f"unknown sample package {package!r}; known: {sorted(_RULES)}")
    base = Path(root) if root is not None else PACKAGES[package]
    if any(r in str(base).lower() for r in RESERVED):
        raise ConfigError(f"{base} is a reserved test set and is never read for training")
    if not base.is_dir():
        deb = {"sonic-pi": "sonic-pi-samples", "lmms": "lmms-common", "chuck": "chuck-data",
               "kivy": "python-kivy-examples"}.get(package, package)
        raise ConfigError(f"{package} samples: folder {str(base)!r} is missing "
                          f"(apt-get install {deb})")
    rows = []
    for p in sorted(base.rglob("*")):
        if p.suffix.lower() not in _AUDIO or not p.is_file():
            continue
        rel = p.relative_to(base).with_suffix("").as_posix()
        kl = label_name(package, rel)
        if kl is not None:
            detail = next((d for pat, d in _PERC_DETAIL if re.search(pat, rel)), "perc") \
                if kl[1] == "perc" else kl[1]
            rows.append({"path": str(p), "label": kl[1], "kind": kl[0],
                         "group": _group(package, rel), "source": package, "detail": detail})
    return rows
