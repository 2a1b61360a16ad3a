"""Slakh-like multitrack pieces: composition, labels, MIDI and rendering.

Every piece has four stems (drums, bass, piano, guitar) and, in 60 % of pieces, an
``extra`` stem (strings, brass, reeds, organ, synth lead or pad); rendered with
``singers``, also a sung ``vocal`` stem (:mod:`.vocal`; its singer, from the fixed
catalogue of :mod:`.singers`, is the piece's ``singer`` label). Its labels, written
to the ``rtsim:`` section of ``metadata.yaml`` (see ``training/data/LABELS.md``):

``genre``
    The preset's genre: rock, funk, jazz, electronic (preset ``house``), latin
    (preset ``bossa``), reggae. Fixes the groove: drum pattern, swing, how each role
    plays (bass line, comping, strumming), chord colour (sevenths) and register.
``mood``
    From mode × energy (valence × arousal): major+high ``happy``, major+low ``calm``,
    minor+low ``sad``, minor+high ``tense``. Energy sets dynamics (velocities), density
    (hat subdivisions, comping hits, melody notes, fills) and brightness (voicings five
    semitones higher).
``instruments``
    GM names of the programs used, in role order (drum kit name first); the numbers are
    in ``programs`` (drums: the bank-128 kit).
``tempo_bpm``
    Integer tempo; the MIDI files' ``set_tempo`` is ``mido.bpm2tempo(tempo_bpm)``.
``key``, ``mode``, ``energy``
    Tonic name (C, Db, ..., B), ``major``/``minor``, ``low``/``high``.
``preset``, ``seed``, ``index``, ``seconds``
    Provenance: piece ``index`` of the corpus drawn with ``seed``.
``parts``, ``swing``, ``progressions``, ``bars_per_chord``
    The musical choices (part styles, swing ratio, the A and B progressions).

Genre, mode, energy, tempo (uniform within the preset's wide range), tonic and the
programs are drawn independently; only the programs (half the time from the preset's
favourites) and the tempo range depend on the genre, so no label kind determines
another (Cramér's V about 0.3 at most between kinds).
"""

from rtsim.training.data.songs.compose import Song, compose_song, song_midi
from rtsim.training.data.songs.plan import SongPlan, labels, plan_song
from rtsim.training.data.songs.render import render_songs

__all__ = ["Song", "SongPlan", "compose_song", "labels", "plan_song", "render_songs",
           "song_midi"]
