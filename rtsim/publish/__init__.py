"""rtsim.publish."""
