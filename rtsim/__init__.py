"""rtsim: real-time audio similarity host."""

__version__ = "0.1.0"
