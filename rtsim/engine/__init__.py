"""rtsim.engine."""
