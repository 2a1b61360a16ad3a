"""A virtual ALSA capture device for tests that go through real PortAudio.

ALSA's ``file`` PCM plugin, with a ``null`` slave, plays nothing and *captures* the
raw samples of its ``infile``. Written to ``$HOME/.asoundrc`` before PortAudio
initialises, it appears to pyaudio as an input device (128 channels, any sane rate),
and a paFloat32 stream reads the infile's little-endian float32 frames exactly.

Caveats: the null slave has no clock, so capture runs far faster than real time (use a
ring with ``policy="drop_newest"`` and capacity ``len(signal)`` to check the first
frames exactly; expect overruns); after the infile's end the device delivers
unspecified samples. alsa-lib re-reads its configuration each time PortAudio is
initialised again, so each ``PyAudio()`` after this call sees the device.

Reuse from another test folder::

    from tests.audio.virtual_capture import virtual_capture  # registers the fixture

    @pytest.mark.live
    def test_engine(virtual_capture):
        device = virtual_capture(signal, 1)   # then SourceConfig(kind="live", device=device)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest

DEVICE = "rtsim_test"

ASOUNDRC = """\
pcm.{name} {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{infile}"
    format "raw"
    hint {{ show on description "rtsim virtual capture" }}
}}
"""


def live_unavailable() -> str | None:
    """Why live tests cannot run here (no pyaudio, no ALSA host API), or None."""
    try:
        from rtsim.audio.devices import portaudio
        from rtsim.errors import AudioDeviceError

        pa = portaudio()
    except (AudioDeviceError, OSError) as e:
        return f"PortAudio unavailable: {e}"
    try:
        apis = [pa.get_host_api_info_by_index(i)["name"] for i in range(pa.get_host_api_count())]
    finally:
        pa.terminate()
    return None if "ALSA" in apis else f"PortAudio has no ALSA host API (has {apis})"


def make_virtual_capture(
    signal: np.ndarray, channels: int, tmp_path: Path, *, name: str = DEVICE
) -> str:
    """Install a virtual capture device playing ``signal``; return its ALSA name.

    Writes ``tmp_path/home/.asoundrc`` and the raw infile, and sets ``os.environ["HOME"]``
    to ``tmp_path/home`` (the caller restores it; the ``virtual_capture`` fixture does).

    Parameters
    ----------
    signal : np.ndarray, shape (n,) or (n, channels)
        Frames to capture, written as interleaved little-endian float32 (open the stream
        with paFloat32, as :class:`rtsim.audio.live.LiveSource` does).
    channels : int
        Channels per frame in the infile; the stream must open this many channels
        (``LiveSource`` opens ``max(cfg.channels) + 1``, so select up to ``channels - 1``).
    tmp_path : Path
        A fresh directory (pytest's ``tmp_path``).
    name : str
        ALSA PCM name (a ``SourceConfig(device=...)`` substring finds it).
    """
    frames = np.asarray(signal, dtype="<f4").reshape(-1, channels)
    home = Path(tmp_path) / "home"
    home.mkdir(parents=True, exist_ok=True)
    infile = home / f"{name}.raw"
    frames.tofile(infile)
    (home / ".asoundrc").write_text(ASOUNDRC.format(name=name, infile=infile))
    os.environ["HOME"] = str(home)
    return name


@cache
def _live_reason() -> str | None:
    return live_unavailable()


@pytest.fixture
def virtual_capture(tmp_path, monkeypatch) -> Callable[..., str]:
    """Factory ``virtual_capture(signal, channels=1, *, name="rtsim_test") -> device name``.

    Calls :func:`make_virtual_capture` with this test's ``tmp_path``; ``HOME`` is restored
    after the test. Call it before the source is opened (before PortAudio initialises).
    A paFloat32 capture from the returned device yields exactly ``signal``'s frames
    first. Skips the test, with the reason, when pyaudio or ALSA is unavailable.
    """
    reason = _live_reason()
    if reason:
        pytest.skip(reason)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    def make(signal: np.ndarray, channels: int = 1, *, name: str = DEVICE) -> str:
        return make_virtual_capture(signal, channels, tmp_path, name=name)

    return make
