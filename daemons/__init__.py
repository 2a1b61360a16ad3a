"""rtsim.daemons."""
