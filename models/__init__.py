"""rtsim.models."""
