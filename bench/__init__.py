"""rtsim.bench."""
