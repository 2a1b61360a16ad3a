"""rtsim.index."""
