"""rtsim.demo."""
