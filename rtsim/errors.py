"""The one exception root of rtsim and its few meaningful children.

Every error rtsim raises on purpose derives from :class:`RtsimError`, so a caller
(the CLI, the daemon, a user's script) can catch one class. Messages name the
offending value and, where it helps, what would have been accepted::

    AudioDeviceError: no input device matches 'Scarlett' (inputs: 0 'default', 2 'USB Audio')

Parameters are validated when a stream, front end, library or publisher is *opened*,
never per block in the hot path.
"""

from __future__ import annotations

__all__ = [
    "RtsimError",
    "ConfigError",
    "AudioError",
    "AudioDeviceError",
    "AudioFileError",
    "TruncatedAudioError",
    "FrontEndError",
    "EmbedderError",
    "LibraryError",
    "LibraryMismatchError",
    "WireError",
]


class RtsimError(Exception):
    """Root of every error rtsim raises deliberately."""


class ConfigError(RtsimError, ValueError):
    """A configuration value or command-line option is invalid."""


class AudioError(RtsimError):
    """Audio could not be captured, read or converted."""


class AudioDeviceError(AudioError):
    """A capture device is missing, busy, or does not support the requested format."""


class AudioFileError(AudioError):
    """An audio file is missing, unreadable, empty or not audio."""


class TruncatedAudioError(AudioFileError):
    """An audio file holds less data than its header declares (a cut-off copy or download)."""


class FrontEndError(RtsimError, ValueError):
    """A front end was configured with parameters it cannot honour."""


class EmbedderError(RtsimError):
    """An embedder plugin is unknown, invalid, or failed to load."""


class LibraryError(RtsimError):
    """A sample library could not be built, read or searched."""


class LibraryMismatchError(LibraryError):
    """A library was built for another embedder, front end, dimension or metric."""


class WireError(RtsimError, ValueError):
    """A message cannot be encoded for, or decoded from, the wire (OSC, ZeroMQ)."""
