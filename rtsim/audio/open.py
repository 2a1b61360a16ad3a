"""Open the source a :class:`~rtsim.audio.sources.SourceConfig` describes.

Kept apart from :mod:`rtsim.audio.sources` (the interface every source implements) so
that the interface never imports its implementations; each kind's module is imported
only when that kind is opened (``live`` needs the optional pyaudio).
"""

from __future__ import annotations

from rtsim.audio.sources import AudioSource, SourceConfig, validate_config

__all__ = ["open_source"]


def open_source(cfg: SourceConfig) -> AudioSource:
    """Build the source ``cfg`` describes and :meth:`~AudioSource.open` it.

    Raises
    ------
    ConfigError
        Unknown kind or invalid field.
    AudioDeviceError, AudioFileError
        From :meth:`AudioSource.open`.
    """
    validate_config(cfg)
    if cfg.kind == "synth":
        from rtsim.audio.synth import SynthSource

        return SynthSource(cfg).open()
    if cfg.kind == "file":
        from rtsim.audio.files import FileSource

        return FileSource(cfg).open()
    from rtsim.audio.live import LiveSource

    return LiveSource(cfg).open()
