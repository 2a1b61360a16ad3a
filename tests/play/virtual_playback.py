"""A virtual ALSA playback device: what PortAudio plays is written to a raw file.

ALSA's ``file`` PCM plugin with a ``null`` slave writes every frame played to ``file``
(interleaved, in the stream's format: little-endian float32 for rtsim). The null slave
has no clock, so playback runs as fast as the callback allows; PortAudio first writes
a few blocks of silence of its own (its prefill).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.audio.virtual_capture import _live_reason

DEVICE = "rtsim_out"

ASOUNDRC = """\
pcm.{name} {{
    type file
    slave.pcm "null"
    file "{out}"
    format "raw"
    hint {{ show on description "rtsim virtual playback" }}
}}
"""


class Playback:
    """The device name and what was written to it."""

    def __init__(self, out: Path, name: str = DEVICE) -> None:
        self.out, self.name = out, name

    def read(self, channels: int) -> np.ndarray:
        """Frames written so far, shape (n, channels)."""
        raw = np.fromfile(self.out, "<f4") if self.out.exists() else np.zeros(0, "<f4")
        return raw[: raw.size - raw.size % channels].reshape(-1, channels)


@pytest.fixture
def virtual_playback(tmp_path, monkeypatch) -> Playback:
    """An ALSA playback device ``rtsim_out`` writing to a file (HOME is a temp folder).

    Skips the test, with the reason, when pyaudio or ALSA is unavailable.
    """
    reason = _live_reason()
    if reason:
        pytest.skip(reason)
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "played.raw"
    (home / ".asoundrc").write_text(ASOUNDRC.format(name=DEVICE, out=out))
    monkeypatch.setenv("HOME", str(home))
    assert os.environ["HOME"] == str(home)
    return Playback(out)
