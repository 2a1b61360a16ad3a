"""Triplet and batch samplers: which examples a loss sees, seeded and reproducible."""

from rtsim.training.samplers.m_per_class import MPerClassSampler, StratifiedMPerClassSampler
from rtsim.training.samplers.neighbourhood import NEIGHBOURHOODS, NeighbourhoodSampler
from rtsim.training.samplers.track import TrackTripletSampler

__all__ = ["NEIGHBOURHOODS", "NeighbourhoodSampler", "TrackTripletSampler", "MPerClassSampler",
           "StratifiedMPerClassSampler"]
