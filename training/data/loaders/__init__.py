"""Lazy listings of real corpora: NSynth, Slakh2100, plain folders, MTG-Jamendo.

Loaders read only the index files (and check that audio files exist); audio is read on
demand with :func:`rtsim.audio.files.load_audio`.
"""

from rtsim.training.data.loaders.folder import folder_items
from rtsim.training.data.loaders.items import Item, load_item
from rtsim.training.data.loaders.jamendo import jamendo_items
from rtsim.training.data.loaders.nsynth import nsynth_items
from rtsim.training.data.loaders.slakh import SlakhStem, SlakhTrack, load_role, slakh_tracks

__all__ = ["Item", "SlakhStem", "SlakhTrack", "folder_items", "jamendo_items", "load_item",
           "load_role", "nsynth_items", "slakh_tracks"]
