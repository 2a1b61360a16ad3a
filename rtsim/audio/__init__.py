"""rtsim.audio."""
