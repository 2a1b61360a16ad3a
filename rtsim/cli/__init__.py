"""rtsim.cli."""
