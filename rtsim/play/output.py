"""Where the voices sound: a PortAudio output stream, a software clock, or a WAV file.

All take voice requests through :meth:`at` (``when``: the capture time of the sound
that asked for it). A device plays each one as soon as its next block starts; so does
:class:`ClockedOutput`, a sound card without the card (a thread mixes one block per block
period; ``[play] device = "clock"``), for benches and headless machines. A file places
each request at ``when - origin`` seconds into the render (``origin``: the capture time of
the input's first sample), so the file shows what a zero-latency player would play, and,
with the input clip on its first channel, exactly how the matches line up with it.

The real-time outputs keep a :class:`BlockTimes` record: for each recent block, its first
output frame and the time (``perf_counter``) that frame reaches the converter, so the
time a voice became audible is known (``sound_time``), which ``rtsim bench play``
measures.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rtsim.errors import AudioDeviceError, ConfigError
from rtsim.play.voices import VoicePool

__all__ = ["Mixer", "BlockTimes", "DeviceOutput", "ClockedOutput", "FileOutput", "CLOCK"]

log = logging.getLogger(__name__)

PA_OUTPUT_UNDERFLOW = 4  # PortAudio's paOutputUnderflow status flag
CLOCK = "clock"  # the [play] device name of ClockedOutput


class BlockTimes:
    """When recent output blocks reach the converter: a ring written by the output thread.

    ``record`` stores, without allocating, a block's first frame and its sound time;
    :meth:`sound_time` answers for any frame still in the ring (off the audio thread).
    """

    def __init__(self, rate: float, size: int = 1 << 14) -> None:
        self.rate = float(rate)
        self.first = np.full(size, -1, np.int64)
        self.time = np.zeros(size, np.float64)
        self.frames = 0  # frames recorded so far (the next block's first frame)
        self.blocks = 0

    def record(self, frames: int, sound_time: float) -> None:
        """A block of ``frames`` that starts sounding at ``sound_time`` (output thread)."""
        i = self.blocks % len(self.first)
        self.first[i], self.time[i] = self.frames, sound_time
        self.frames += frames
        self.blocks += 1

    def sound_time(self, frame: int) -> float | None:
        """``perf_counter`` time at which output ``frame`` sounds (None: unknown)."""
        if frame < 0 or frame >= self.frames:
            return None
        n = min(self.blocks, len(self.first))
        order = np.arange(self.blocks - n, self.blocks) % len(self.first)
        firsts = self.first[order]
        k = int(np.searchsorted(firsts, frame, side="right")) - 1
        if k < 0:
            return None  # overwritten
        b = order[k]
        return float(self.time[b]) + (frame - int(self.first[b])) / self.rate


class Mixer:
    """Sum of several voice pools (one per embedder's library) into one block, in place."""

    def __init__(self, pools: Sequence[VoicePool], *, channels: int, block: int) -> None:
        self.pools, self.channels = list(pools), channels
        self._scratch = np.zeros((block, channels), np.float32)

    def mix(self, out: np.ndarray) -> None:
        """Mix every pool into ``out`` (frames, channels); allocates nothing."""
        if not self.pools:
            out[:] = 0.0
            return
        self.pools[0].mix(out)
        scratch = self._scratch[: len(out)]
        for pool in self.pools[1:]:
            pool.mix(scratch)
            np.add(out, scratch, out=out)


class _LiveOutput:
    """What the real-time outputs share.

    A voice starts with the next block; the blocks mixed so far are counted by the
    output's :class:`BlockTimes` record.
    """

    times: BlockTimes

    @property
    def blocks(self) -> int:
        """Blocks mixed so far."""
        return self.times.blocks

    def at(self, when: float, request: Callable[[], object]) -> None:
        """Ask for a voice now (it starts with the next block)."""
        request()


class DeviceOutput(_LiveOutput):
    """A PortAudio output stream whose callback mixes the voices.

    The callback mixes into a preallocated buffer and hands PortAudio its bytes (the one
    object PyAudio's callback interface makes per block); it takes no lock. Output
    underflows are counted (``xruns``).

    Parameters
    ----------
    mixer : Mixer
    device : int, str or None
        Index or name substring; None: the default output.
    rate, channels, block : int
    """

    def __init__(self, mixer: Mixer, *, device, rate: int, channels: int, block: int) -> None:
        from rtsim.audio import devices as dev_api

        self.mixer, self.rate, self.channels, self.block = mixer, rate, channels, block
        self._buf = np.zeros((max(block, 8192), channels), np.float32)
        self.xruns = 0
        self.times = BlockTimes(rate)
        self._pa = dev_api.portaudio()
        try:
            self._stream = self._open(dev_api, device)
        except BaseException:
            self._pa.terminate()
            raise

    def _open(self, dev_api, device):
        pyaudio = dev_api.import_pyaudio()
        outputs = [(i, self._pa.get_device_info_by_index(i)) for i in
                   range(self._pa.get_device_count())]
        outputs = [(i, d) for i, d in outputs if d["maxOutputChannels"] > 0]
        if device is None:
            try:
                index = self._pa.get_default_output_device_info()["index"]
            except OSError as exc:
                raise AudioDeviceError("no default output device; name one with "
                                       "[play] device") from exc
        else:
            found = [i for i, d in outputs if str(device) == str(i)
                     or str(device).lower() in d["name"].lower()]
            if not found:
                names = ", ".join(f"{i}: {d['name']}" for i, d in outputs) or "none"
                raise AudioDeviceError(f"no output device matches {device!r} (outputs: {names})")
            index = found[0]
        self.name = self._pa.get_device_info_by_index(index)["name"]
        self._continue = pyaudio.paContinue
        with dev_api.stderr_captured() as captured:
            try:
                return self._pa.open(rate=self.rate, channels=self.channels,
                                     format=pyaudio.paFloat32, output=True,
                                     output_device_index=index, frames_per_buffer=self.block,
                                     stream_callback=self._callback)
            except (OSError, ValueError) as exc:
                raise AudioDeviceError(
                    f"cannot open output {self.name!r} at {self.rate} Hz, {self.channels} "
                    f"channel(s) ({exc}): {captured().strip()}") from exc

    def _callback(self, in_data, frame_count, time_info, status):
        if status & PA_OUTPUT_UNDERFLOW:
            self.xruns += 1
        out = self._buf[:frame_count]
        self.mixer.mix(out)
        # PortAudio's stream clock says how far ahead of now this block will sound
        ahead = time_info.get("output_buffer_dac_time", 0.0) - time_info.get("current_time", 0.0)
        self.times.record(frame_count, time.perf_counter() + (
            ahead if 0.0 < ahead < 1.0 else frame_count / self.rate))
        return out.tobytes(), self._continue

    @property
    def latency_s(self) -> float:
        """The stream's output latency as PortAudio reports it."""
        return float(self._stream.get_output_latency())

    def close(self) -> None:
        """Stop the stream and PortAudio (idempotent)."""
        if self._stream is not None:
            self._stream.stop_stream()
            self._stream.close()
            self._stream = None
            self._pa.terminate()


class ClockedOutput(_LiveOutput):
    """A sound card without the card: a thread mixes one block per block period.

    Each block is mixed when the block before it starts to sound and sounds one period
    later (a device double-buffering its blocks). A block ready only after its time is an
    output underflow (``xruns``): it sounds when ready, and the clock goes on from there,
    as a device restarting after an underflow. For benches, tests and machines without
    an output device (``[play] device = "clock"``); the samples go nowhere.

    Parameters
    ----------
    mixer : Mixer
    rate, channels, block : int
    """

    def __init__(self, mixer: Mixer, *, rate: int, channels: int, block: int) -> None:
        import threading

        self.mixer, self.rate, self.channels, self.block = mixer, rate, channels, block
        self.period = block / rate
        self.latency_s = self.period
        self.name = CLOCK
        self._buf = np.zeros((block, channels), np.float32)
        self.xruns = 0
        self.times = BlockTimes(rate)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtsim-play-clock", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        due = time.perf_counter()
        while not self._stop.is_set():
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            self.mixer.mix(self._buf)
            sound, now = due + self.period, time.perf_counter()
            if now > sound:  # the block before it ran out first
                self.xruns += 1
                sound = now
            self.times.record(self.block, sound)
            due = sound

    def close(self) -> None:
        """Stop the clock thread (idempotent)."""
        self._stop.set()
        self._thread.join(timeout=1.0)


class FileOutput:
    """Render the voices into a WAV file when closed, each at its capture time.

    Parameters
    ----------
    mixer : Mixer
    path : path-like
    rate, channels : int
    origin : callable
        Returns the capture time (s, wall clock) of the input's first sample, or None;
        asked when the file is written (None: the earliest request is at 0).
    input_path : path-like, optional
        Written to channel 0 (the matches then go to channel 1 when there are two).
    tail_s : float
        Seconds rendered after the last request.
    """

    BLOCK = 32  # render granularity: a request starts at most 0.7 ms late at 44.1 kHz

    def __init__(self, mixer: Mixer, path, *, rate: int, channels: int,
                 origin: Callable[[], float | None], input_path=None, tail_s: float = 2.0):
        if input_path is not None and channels < 2:
            raise ConfigError("[play] input_path needs channels >= 2 (input on the first, "
                              "matches on the second)")
        self.mixer, self.path, self.rate, self.channels = mixer, Path(path), rate, channels
        self.origin, self.input_path, self.tail_s = origin, input_path, tail_s
        self.requests: list[tuple[float, Callable[[], object]]] = []
        self.xruns = 0
        self._closed = False

    def at(self, when: float, request: Callable[[], object]) -> None:
        """Keep the request for the render."""
        self.requests.append((when, request))

    def close(self) -> None:
        """Render and write the file (once)."""
        if self._closed:
            return
        self._closed = True
        t0 = time.perf_counter()
        x = self.render()
        import soundfile as sf

        self.path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(self.path, x, self.rate, subtype="FLOAT")
        log.info("play: wrote %s (%.1f s, %d voice requests) in %.2f s", self.path,
                 len(x) / self.rate, len(self.requests), time.perf_counter() - t0)

    def render(self) -> np.ndarray:
        """The whole output, shape (frames, channels), float32."""
        inp = self._input()
        origin = self.origin()
        if origin is None:
            origin = min((w for w, _ in self.requests), default=0.0)
        reqs = sorted(((max(0, round((w - origin) * self.rate)), r)
                       for w, r in self.requests), key=lambda t: t[0])
        last = reqs[-1][0] if reqs else 0
        n = max(len(inp), last + int(self.tail_s * self.rate))
        n += -n % self.BLOCK
        out = np.zeros((n, self.channels), np.float32)
        i = 0
        for start in range(0, n, self.BLOCK):
            while i < len(reqs) and reqs[i][0] < start + self.BLOCK:
                reqs[i][1]()
                i += 1
            self.mixer.mix(out[start : start + self.BLOCK])
        if len(inp):
            out[: len(inp), 0] += inp
        return out

    def _input(self) -> np.ndarray:
        if self.input_path is None:
            return np.zeros(0, np.float32)
        from rtsim.audio.files import load_audio

        return load_audio(self.input_path, sr=self.rate)[0]
