"""Capture devices through PortAudio (pyaudio, the optional ``live`` extra).

pyaudio is imported only here and only when needed. PortAudio's host APIs (ALSA, JACK)
print probing noise on stderr when it initialises; :func:`portaudio` silences file
descriptor 2 around ``PyAudio()`` and logs what was printed at DEBUG level, or puts it
in the error message when initialisation fails. Other threads' stderr output during those
few milliseconds goes to the same log record.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from rtsim.errors import AudioDeviceError

__all__ = ["DeviceInfo", "format_devices", "import_pyaudio", "list_input_devices", "portaudio"]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'rtsim[live]' (and apt-get install portaudio19-dev)"


@dataclass(frozen=True)
class DeviceInfo:
    """One capture device: PortAudio index, name, input channels, default rate (Hz), host API."""

    index: int
    name: str
    max_input_channels: int
    default_sr: float
    host_api: str


def import_pyaudio() -> Any:
    """Return the pyaudio module, or raise AudioDeviceError with the install hint."""
    try:
        import pyaudio
    except ImportError as e:
        raise AudioDeviceError(f"live audio needs pyaudio ({e}): {INSTALL_HINT}") from e
    return pyaudio


@contextlib.contextmanager
def stderr_captured():
    """Send fd 2 to a temporary file for the duration; yield a function reading it."""
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(tmp.fileno(), 2)
        try:
            yield lambda: tmp.seek(0) or tmp.read().decode(errors="replace")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def portaudio() -> Any:
    """Initialise PortAudio quietly; return a ``pyaudio.PyAudio`` (call ``terminate()``)."""
    pyaudio = import_pyaudio()
    with stderr_captured() as captured:
        try:
            pa = pyaudio.PyAudio()
        except Exception as e:
            raise AudioDeviceError(f"PortAudio failed to start ({e}): {captured().strip()}") from e
        noise = captured()
    if noise.strip():
        log.debug("PortAudio initialisation printed:\n%s", noise.rstrip())
    return pa


def input_devices(pa: Any) -> list[DeviceInfo]:
    """Input devices of an initialised ``pyaudio.PyAudio``."""
    out = []
    for i in range(pa.get_device_count()):
        d = pa.get_device_info_by_index(i)
        if d["maxInputChannels"] > 0:
            api = pa.get_host_api_info_by_index(d["hostApi"])["name"]
            n_in, sr = int(d["maxInputChannels"]), float(d["defaultSampleRate"])
            out.append(DeviceInfo(i, d["name"], n_in, sr, api))
    return out


def list_input_devices() -> list[DeviceInfo]:
    """Every PortAudio device with at least one input channel."""
    pa = portaudio()
    try:
        return input_devices(pa)
    finally:
        pa.terminate()


def format_devices(devices: list[DeviceInfo]) -> str:
    """Plain-text table of ``devices`` (for ``rtsim devices``)."""
    if not devices:
        return "no input devices found"
    rows = [("index", "name", "inputs", "default sr", "host api")]
    rows += [
        (str(d.index), d.name, str(d.max_input_channels), f"{d.default_sr:g}", d.host_api)
        for d in devices
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe(devices: list[DeviceInfo]) -> str:
    """One-line list of devices for error messages: ``0 'default', 2 'USB Audio'``."""
    return ", ".join(f"{d.index} {d.name!r}" for d in devices) or "none"


def resolve_device(
    devices: list[DeviceInfo], query: str | int | None, *, default: int | None
) -> DeviceInfo:
    """Pick a device by index, by case-insensitive name substring, or the default.

    An exact (case-insensitive) name match wins over substring matches.

    Raises
    ------
    AudioDeviceError
        No match, several matches, or no default input; the message lists the inputs.
    """
    inputs = f"(inputs: {describe(devices)})"
    by_index = isinstance(query, int) or (isinstance(query, str) and query.strip().isdigit())
    if query is None or by_index:
        index = default if query is None else int(query)
        found = [d for d in devices if d.index == index]
        if not found:
            what = "no default input device" if query is None else f"no input device {query!r}"
            raise AudioDeviceError(f"{what} {inputs}")
        return found[0]
    q = query.lower()
    exact = [d for d in devices if d.name.lower() == q]
    found = exact or [d for d in devices if q in d.name.lower()]
    if len(found) != 1:
        what = "no input device matches" if not found else "several input devices match"
        raise AudioDeviceError(f"{what} {query!r} {inputs}")
    return found[0]
