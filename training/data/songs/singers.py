"""The singers of the song corpus: a fixed catalogue, each a voice and a way of singing.

Singer ``k`` (``singer07`` for 7) is the same in every corpus: its voice comes from a
fixed shuffle of :data:`VOICES` (no two of the first ``len(VOICES)`` singers share one)
and everything else from ``default_rng([SEED, k])``. Like an artist, a singer has home
genres (a primary one, :data:`GENRES` in turn, and a drawn secondary one) and sings in
a way typical of its primary genre (:data:`GENRE_STYLES`: a rock singer's drive and
compression, a jazz singer's slow deep vibrato, breath and long glides, an electronic
singer's doubling and big room ...), each value drawn within that genre's ranges. A
piece of genre ``g`` picks its singer with weight :meth:`Singer.affinity` (0.6 for the
primary genre, 0.3 for the secondary, 0.025 for each other one), so every singer sings
many pieces across several genres. With ``bands`` (a corpus option) a singer also has
its own band (:func:`band`): the programs of every role, a place in each genre's tempo
range and a few home keys, which its pieces keep whatever their genre, as an artist's
records share its band. A split by singer (``singers = [lo, hi]`` in a
corpus table) holds whole artists out, as Kumar et al. split by artist.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rtsim.training.data.songs.styles import PRESETS, ROLE_POOLS, ROLES

__all__ = ["AFFINITY", "BAND_FAVOURITE_P", "Band", "CATALOGUE", "GENRES", "GENRE_STYLES",
           "Singer", "VOICES", "band", "singer"]

SEED = 7919
_LANGS = ("en", "en-us", "en-gb-scotland", "de", "fr", "es", "it", "pt", "nl", "sv", "pl",
          "ro")
_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
             "klatt", "klatt2", "klatt3", "croak")
VOICES = ("festival:kal_diphone", "festival:ked_diphone",
          *(f"espeak:{lang}+{v}" for lang in _LANGS for v in _VARIANTS))
"""Every voice a singer may have: festival's two US-English diphone voices (sung by its
singing mode) and espeak-ng's languages × voice variants."""
CATALOGUE = 192
"""Number of singers (``singer00`` .. ``singer191``). Singers 0..95 are those of the first
catalogue (96 singers), unchanged: a singer depends on its number alone."""
GENRES = ("rock", "funk", "jazz", "electronic", "latin", "reggae")
AFFINITY = (0.6, 0.3, 0.025)
"""Weight of a singer for a piece of its primary, its secondary, and any other genre."""
GENRE_STYLES = {
    # per genre: (low, high) of each style value; p_drive and p_double are the chances
    # that the singer uses saturation or a doubling delay at all
    "rock": dict(formant=(-1.0, 2.0), vibrato_hz=(5.0, 6.5), vibrato_cents=(10, 40),
                 glide=(0.02, 0.06), breath=(0.0, 0.1), tilt=(0.2, 1.0), drive=(2.0, 6.0),
                 p_drive=0.8, compress=(0.4, 0.8), double_ms=(15, 30), p_double=0.3,
                 reverb=(0.1, 0.25), room=(0.4, 1.0)),
    "funk": dict(formant=(-1.0, 2.0), vibrato_hz=(6.0, 7.0), vibrato_cents=(10, 30),
                 glide=(0.0, 0.03), breath=(0.0, 0.1), tilt=(0.3, 1.0), drive=(1.0, 3.0),
                 p_drive=0.3, compress=(0.5, 0.8), double_ms=(12, 25), p_double=0.6,
                 reverb=(0.05, 0.15), room=(0.3, 0.6)),
    "jazz": dict(formant=(-2.0, 1.0), vibrato_hz=(4.5, 5.5), vibrato_cents=(40, 80),
                 glide=(0.04, 0.08), breath=(0.1, 0.25), tilt=(-1.0, -0.2), drive=(1.0, 2.0),
                 p_drive=0.0, compress=(0.0, 0.3), double_ms=(20, 35), p_double=0.1,
                 reverb=(0.15, 0.3), room=(0.8, 1.5)),
    "electronic": dict(formant=(-2.5, 2.5), vibrato_hz=(4.5, 7.0), vibrato_cents=(0, 15),
                       glide=(0.0, 0.02), breath=(0.0, 0.08), tilt=(0.0, 1.0),
                       drive=(1.0, 4.0), p_drive=0.2, compress=(0.5, 0.8),
                       double_ms=(12, 35), p_double=0.8, reverb=(0.2, 0.35), room=(1.0, 1.5)),
    "latin": dict(formant=(-1.5, 1.5), vibrato_hz=(5.0, 6.0), vibrato_cents=(15, 40),
                  glide=(0.03, 0.07), breath=(0.15, 0.25), tilt=(-0.6, 0.2), drive=(1.0, 2.0),
                  p_drive=0.0, compress=(0.1, 0.4), double_ms=(15, 30), p_double=0.1,
                  reverb=(0.05, 0.2), room=(0.3, 0.8)),
    "reggae": dict(formant=(-1.5, 1.5), vibrato_hz=(5.0, 6.0), vibrato_cents=(20, 50),
                   glide=(0.02, 0.06), breath=(0.05, 0.15), tilt=(-0.3, 0.5), drive=(1.0, 3.0),
                   p_drive=0.1, compress=(0.3, 0.6), double_ms=(20, 35), p_double=0.5,
                   reverb=(0.2, 0.35), room=(0.6, 1.2)),
}
"""How a singer whose primary genre it is sings: the ranges its style is drawn from."""


@dataclass(frozen=True)
class Singer:
    """A voice, home genres and the way it sings (``training/data/LABELS.md``, "Vocals")."""

    name: str
    voice: str
    genres: tuple[str, str]
    """Primary and secondary home genre."""
    formant: float
    """Semitones the formants sit above the voice's own (source read faster or slower)."""
    vibrato_hz: float
    vibrato_cents: float
    vibrato_delay: float
    """Seconds into a note before the vibrato starts."""
    glide: float
    """Seconds of portamento from the previous note."""
    attack: float
    breath: float
    """Level of breath noise, relative to the voice."""
    tilt: float
    """Spectral tilt: -1 dark ... 1 bright."""
    drive: float
    """Saturation (0 clean)."""
    compress: float
    """Compression amount 0..1."""
    double_ms: float
    """Doubling delay in ms (0: no doubling)."""
    reverb: float
    """Wet level of the singer's room."""
    room: float
    """Reverb time (s)."""

    def affinity(self, genre: str) -> float:
        """Weight of this singer for a piece of ``genre``."""
        if genre == self.genres[0]:
            return AFFINITY[0]
        return AFFINITY[1] if genre == self.genres[1] else AFFINITY[2]

    def labels(self) -> dict:
        """The singer's fields for ``metadata.yaml`` (rounded)."""
        out = {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}
        out["genres"] = list(self.genres)
        return out


def singer(k: int) -> Singer:
    """Singer ``k`` of the catalogue (``0 <= k < CATALOGUE``)."""
    if not 0 <= k < CATALOGUE:
        raise ValueError(f"singer {k} is outside the catalogue 0..{CATALOGUE - 1}")
    order = np.random.default_rng(SEED).permutation(len(VOICES))
    rng = np.random.default_rng([SEED, k])
    second = int(rng.integers(len(GENRES) - 1))
    home = (k % len(GENRES), second + (second >= k % len(GENRES)))  # primaries take turns
    style = GENRE_STYLES[GENRES[home[0]]]

    def u(key: str) -> float:
        return float(rng.uniform(*style[key]))

    drive = u("drive") if rng.random() < style["p_drive"] else 0.0
    double = u("double_ms") if rng.random() < style["p_double"] else 0.0
    return Singer(
        name=f"singer{k:02d}", voice=VOICES[int(order[k % len(VOICES)])],
        genres=(GENRES[home[0]], GENRES[home[1]]), formant=u("formant"),
        vibrato_hz=u("vibrato_hz"), vibrato_cents=u("vibrato_cents"),
        vibrato_delay=float(rng.uniform(0.05, 0.3)), glide=u("glide"),
        attack=float(rng.uniform(0.01, 0.06)), breath=u("breath"), tilt=u("tilt"),
        drive=drive, compress=u("compress"), double_ms=double, reverb=u("reverb"),
        room=u("room"))


BAND_FAVOURITE_P = 0.7
"""Chance that a band's program for a role is one of its singer's primary genre's favourites
(otherwise any of the role's pool)."""


@dataclass(frozen=True)
class Band:
    """A singer's band: what its pieces keep whatever their genre (``bands`` corpora)."""

    programs: dict
    """GM program of each role (``drums``: bank-128 kit)."""
    tempo: float
    """Place in a genre's tempo range, 0 (slowest) .. 1 (fastest)."""
    keys: tuple[int, ...]
    """Home tonics (0 = C), the keys its pieces are in."""


def band(k: int) -> Band:
    """The band of singer ``k``.

    Drawn from ``default_rng([SEED, k, 1])``, so the singer's own fields (:func:`singer`)
    are unchanged by it.
    """
    who = singer(k)
    style = next(s for s in PRESETS.values() if s.genre == who.genres[0])
    rng = np.random.default_rng([SEED, k, 1])
    programs = {}
    for role in ROLES:
        pool = style.favourites[role] if rng.random() < BAND_FAVOURITE_P else ROLE_POOLS[role]
        programs[role] = int(pool[int(rng.integers(len(pool)))])
    keys = tuple(sorted(int(t) for t in rng.choice(12, size=3, replace=False)))
    return Band(programs=programs, tempo=float(rng.uniform(0.1, 0.9)), keys=keys)
