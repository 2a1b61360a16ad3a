"""rtsim.embed."""
