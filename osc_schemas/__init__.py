"""rtsim.osc_schemas."""
