"""rtsim.training."""
