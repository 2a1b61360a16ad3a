"""Metric-learning losses, one per file, each checked against a plain loop in the tests."""

from rtsim.training.losses.adversary import ConditionalAdversary, grad_reverse
from rtsim.training.losses.base import TripletBatch, distances, pairwise_distances
from rtsim.training.losses.batch_all import (
    BatchAllTripletLoss,
    MaskedBatchAllTripletLoss,
    batch_all_triplet_loss,
)
from rtsim.training.losses.batch_hard import BatchHardTripletLoss
from rtsim.training.losses.contrastive import TwoMarginContrastiveLoss
from rtsim.training.losses.masked_triplet import MaskedTripletLoss
from rtsim.training.losses.proxy import ProxySoftmaxLoss, proxy_softmax_loss
from rtsim.training.losses.supcon import SupConLoss, supcon_loss
from rtsim.training.losses.triplet import TripletMarginLoss

__all__ = ["TripletBatch", "distances", "pairwise_distances", "TwoMarginContrastiveLoss",
           "TripletMarginLoss", "MaskedTripletLoss", "BatchHardTripletLoss",
           "BatchAllTripletLoss", "MaskedBatchAllTripletLoss", "batch_all_triplet_loss",
           "SupConLoss", "supcon_loss", "ConditionalAdversary", "grad_reverse",
           "ProxySoftmaxLoss", "proxy_softmax_loss"]
