"""Fixtures of the sampler tests."""

from tests.play.virtual_playback import virtual_playback  # noqa: F401 (fixture)
