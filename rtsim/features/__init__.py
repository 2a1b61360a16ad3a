"""rtsim.features."""
