"""rtsim.demo."""

DEMO_EMBEDDERS = ("sample", "timbre")
"""What ``rtsim demo`` runs when no embedder is named (kept import-free: the CLI reads it)."""
