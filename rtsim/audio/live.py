"""Live capture from a PortAudio input device (pyaudio, callback mode, float32).

The callback only copies the selected channels into the ring buffer (through the
:class:`~rtsim.audio.ring.RingBuffer` ``columns`` path: no allocation beyond the
``np.frombuffer`` view), stamps the capture time and counts PortAudio status flags.
Input overflow is counted, never fatal; a full ring is the ring's policy's business.
"""

from __future__ import annotations

import time

import numpy as np

from rtsim.audio import devices as dev_api
from rtsim.audio.clock import RateMonitor
from rtsim.audio.ring import RingBuffer
from rtsim.audio.sources import AudioSource, SourceConfig
from rtsim.errors import AudioDeviceError, ConfigError

__all__ = ["LiveSource"]

_MAX_ADC_LAG_S = 1.0


class LiveSource(AudioSource):
    """Captures ``cfg.channels`` of ``cfg.device`` at ``cfg.rate`` (or the device default).

    The stream opens ``max(cfg.channels) + 1`` channels with ``frames_per_buffer =
    cfg.block``. Capture time of a block's last frame: ``time.time()`` in the callback,
    moved back by PortAudio's ``current_time - input_buffer_adc_time`` (when that is
    plausible, otherwise by one block), plus ``(n - 1) / sr``.

    Stats: ``blocks``, ``frames``, ``xruns`` (input overflows + underflows),
    ``input_overflow``, ``input_underflow``, ``status_flags`` (OR of all flags seen),
    ``rate_mismatch`` (checks that found the delivered rate off the nominal one by more
    than 1 %), ``measured_rate`` (Hz, last check; 0 before the first) and
    ``block_size_changes`` (see :mod:`rtsim.audio.clock`).
    """

    #: A live device can vanish and come back: the engine's watchdog reopens it.
    restartable = True

    def __init__(self, cfg: SourceConfig) -> None:
        self.cfg = cfg
        self.name = str(cfg.device)
        self.channels = len(cfg.channels)
        self._pa = None
        self._stream = None
        self._ring: RingBuffer | None = None
        self._cols = np.asarray(cfg.channels, dtype=np.int64)
        self._n_open = int(max(cfg.channels)) + 1
        self._blocks = self._frames = self._overflow = self._underflow = self._flags = 0
        self._clock: RateMonitor | None = None

    def open(self) -> LiveSource:
        """Find the device and check channels and rate (AudioDeviceError naming them)."""
        if self._pa is not None:
            return self
        pa = dev_api.portaudio()
        try:
            self._open(pa)
        except BaseException:
            pa.terminate()
            raise
        self._pa = pa
        return self

    def _open(self, pa) -> None:
        pyaudio = dev_api.import_pyaudio()
        try:
            default = pa.get_default_input_device_info()["index"]
        except OSError:
            default = None
        dev = dev_api.resolve_device(dev_api.input_devices(pa), self.cfg.device, default=default)
        if self._n_open > dev.max_input_channels:
            raise AudioDeviceError(
                f"device {dev.name!r} has {dev.max_input_channels} input channels; channel "
                f"{self._n_open - 1} requested (accepted: 0..{dev.max_input_channels - 1})"
            )
        sr = self.cfg.rate or int(round(dev.default_sr))
        try:
            pa.is_format_supported(
                sr, input_device=dev.index, input_channels=self._n_open,
                input_format=pyaudio.paFloat32,
            )  # fmt: skip
        except ValueError as e:
            raise AudioDeviceError(
                f"device {dev.name!r} does not support rate={sr} Hz with {self._n_open} "
                f"float32 channels ({e}); its default rate is {dev.default_sr:g} Hz"
            ) from e
        self.name, self.sr, self._device, self._pyaudio = dev.name, sr, dev, pyaudio

    def start(self, ring: RingBuffer) -> None:
        """Open the PortAudio stream; the callback writes into ``ring``."""
        if self._pa is None:
            self.open()
        self.check_ring(ring)
        if ring.policy == "block":
            raise ConfigError(
                "ring policy='block' would stall the audio callback "
                "(accepted for live sources: 'drop_oldest', 'drop_newest')"
            )
        if self._stream is not None:
            raise AudioDeviceError(f"device {self.name!r} is already started")
        self._ring = ring
        self._continue = self._pyaudio.paContinue
        if self._clock is None or self._clock.nominal != self.sr:
            self._clock = RateMonitor(self.sr, self.cfg.block, name=self.name)
        else:  # reopened after a device loss: keep the counts, restart the clock
            self._clock.restart()
        with dev_api.stderr_captured() as captured:
            try:
                self._stream = self._pa.open(
                    rate=self.sr, channels=self._n_open, format=self._pyaudio.paFloat32,
                    input=True, input_device_index=self._device.index,
                    frames_per_buffer=self.cfg.block, stream_callback=self._callback,
                )  # fmt: skip
            except (OSError, ValueError) as e:
                msg = f"cannot open device {self.name!r} at {self.sr} Hz ({e})"
                raise AudioDeviceError(f"{msg}: {captured().strip()}") from e

    def _callback(self, in_data, frame_count, time_info, status):
        now = time.time()
        lag = time_info["current_time"] - time_info["input_buffer_adc_time"]
        if not (0.0 <= lag < _MAX_ADC_LAG_S and time_info["input_buffer_adc_time"] > 0):
            lag = frame_count / self.sr
        if status:
            self._flags |= status
            self._overflow += (status & 2) != 0  # paInputOverflow
            self._underflow += (status & 1) != 0  # paInputUnderflow
        block = np.frombuffer(in_data, dtype=np.float32).reshape(frame_count, self._n_open)
        self._ring.write(block, now - lag + (frame_count - 1) / self.sr, columns=self._cols)
        self._blocks += 1
        self._frames += frame_count
        self._clock.feed(frame_count, time.monotonic())
        return None, self._continue

    def stop(self) -> None:
        """Stop and close the stream, terminate PortAudio (idempotent)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop_stream()
            finally:
                stream.close()
        pa, self._pa = self._pa, None
        if pa is not None:
            pa.terminate()

    @property
    def finished(self) -> bool:
        """True if the stream ended by itself (device gone); never for a healthy stream."""
        try:
            return self._stream is not None and not self._stream.is_active()
        except OSError:
            return True

    def stats(self) -> dict[str, int]:
        """Counters, see the class docstring."""
        return {
            "blocks": self._blocks,
            "frames": self._frames,
            "xruns": self._overflow + self._underflow,
            "input_overflow": self._overflow,
            "input_underflow": self._underflow,
            "status_flags": self._flags,
            "rate_mismatch": self._clock.mismatches if self._clock else 0,
            "measured_rate": self._clock.rate_hz if self._clock else 0,
            "block_size_changes": self._clock.block_size_changes if self._clock else 0,
        }
