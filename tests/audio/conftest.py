"""Fixtures of the audio tests.

``virtual_capture`` (a virtual ALSA capture device for live tests through real
PortAudio) is defined in :mod:`tests.audio.virtual_capture`; other suites import it
from there.
"""

from __future__ import annotations

from tests.audio.virtual_capture import virtual_capture

__all__ = ["virtual_capture"]
