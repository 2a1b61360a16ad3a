"""The voice pool: polyphonic, click-free playback of bank spans, mixed without allocating.

Two threads share a :class:`VoicePool`. The engine thread asks for voices with
:meth:`VoicePool.play` (and :meth:`VoicePool.stop`), which only write a preallocated
command ring (single producer, single consumer; no lock). The output thread calls
:meth:`VoicePool.mix` once per block: a numba kernel applies the waiting commands
(allocating voices, stealing the oldest with a fade when all are busy) and mixes every
active voice into the block, in place. Nothing in ``mix`` allocates or takes a lock.

Envelope: a linear fade of ``fade`` samples at a voice's start and end, and over
``fade`` samples when it is stolen or stopped, so nothing clicks. A voice has a gain per
output channel (velocity × equal-power pan on the first two channels).

A command carries a *group*: a new voice of group g > 0 fades out the voices of group
g (a ``follow`` voice replacing the previous one, a cross-fade); ``stop(g)`` fades out
group g, ``stop()`` every voice.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["VoicePool", "pan_gains"]

# voice table columns
ACTIVE, START, LENGTH, POS, FADE_LEFT, GROUP, AGE = range(7)
VOICE_COLS = 7
# command table columns
C_START, C_LENGTH, C_OFFSET, C_GROUP, C_KIND = range(5)
CMD_COLS = 5
PLAY, STOP = 0, 1
# shared counters
HEAD, TAIL, FRAMES, STARTED, STOLEN, DROPPED = range(6)


@njit(cache=True, nogil=True)
def _apply(cmds, cgains, started_at, counters, voices, gains, polyphony, fade):
    """Start or stop the voices the waiting commands ask for (output thread)."""
    q = cmds.shape[0]
    while counters[TAIL] < counters[HEAD]:
        slot = counters[TAIL] % q
        group = cmds[slot, C_GROUP]
        if cmds[slot, C_KIND] == STOP or group > 0:  # stop, or cross-fade its group
            for v in range(voices.shape[0]):
                if voices[v, ACTIVE] and voices[v, FADE_LEFT] < 0 and \
                        (group == 0 or voices[v, GROUP] == group):
                    voices[v, FADE_LEFT] = fade
        if cmds[slot, C_KIND] == PLAY:
            busy, free, oldest = 0, -1, -1
            for v in range(voices.shape[0]):
                if voices[v, ACTIVE] == 0:
                    if free < 0:
                        free = v
                elif voices[v, FADE_LEFT] < 0:
                    busy += 1
                    if oldest < 0 or voices[v, AGE] < voices[oldest, AGE]:
                        oldest = v
            if busy >= polyphony and oldest >= 0:
                voices[oldest, FADE_LEFT] = fade
                counters[STOLEN] += 1
            if free < 0:  # every slot busy or fading: take the oldest outright
                free = oldest if oldest >= 0 else 0
            voices[free, ACTIVE] = 1
            voices[free, START] = cmds[slot, C_START]
            voices[free, LENGTH] = cmds[slot, C_LENGTH]
            voices[free, POS] = cmds[slot, C_OFFSET]
            voices[free, FADE_LEFT] = -1
            voices[free, GROUP] = group
            voices[free, AGE] = counters[TAIL]
            for c in range(gains.shape[1]):
                gains[free, c] = cgains[slot, c]
            started_at[slot] = counters[FRAMES]
            counters[STARTED] += 1
        counters[TAIL] += 1


@njit(cache=True, nogil=True)
def _mix(out, bank, voices, gains, fade, counters):
    """Zero ``out`` (frames, channels) and add every active voice into it."""
    frames, channels = out.shape
    out[:, :] = 0.0
    for v in range(voices.shape[0]):
        if voices[v, ACTIVE] == 0:
            continue
        start, length = voices[v, START], voices[v, LENGTH]
        pos, left = voices[v, POS], voices[v, FADE_LEFT]
        for i in range(frames):
            if pos >= length or left == 0:
                voices[v, ACTIVE] = 0
                break
            env = 1.0
            if pos < fade:
                env = (pos + 1.0) / fade
            if length - pos < fade:
                env = min(env, (length - pos) / fade)
            if left > 0:
                env *= left / fade
                left -= 1
            s = bank[start + pos] * env
            for c in range(channels):
                out[i, c] += s * gains[v, c]
            pos += 1
        voices[v, POS], voices[v, FADE_LEFT] = pos, left
    counters[FRAMES] += frames


def pan_gains(channels: int, gain: float, pan: float) -> np.ndarray:
    """Per-channel gains of a voice.

    ``gain`` on a mono output; otherwise equal-power ``pan`` (-1 left .. 1 right) on the
    first two channels, the others silent.
    """
    g = np.zeros(channels, np.float32)
    if channels == 1:
        g[0] = gain
    else:
        theta = (np.clip(pan, -1.0, 1.0) + 1.0) * np.pi / 4
        g[0], g[1] = gain * np.cos(theta), gain * np.sin(theta)
    return g


class VoicePool:
    """Voices playing spans of a bank.

    Parameters
    ----------
    bank : np.ndarray, shape (total,), float32
        The samples (a :class:`~rtsim.play.bank.SampleBank`'s ``audio``).
    channels : int
    polyphony : int
        Voices at once; one more steals the oldest.
    fade : int
        Fade length in samples.
    queue : int
        Commands that may wait between two output blocks (more are dropped, counted).
    """

    def __init__(self, bank: np.ndarray, *, channels: int, polyphony: int = 32,
                 fade: int = 128, queue: int = 256) -> None:
        self.bank = bank
        self.channels, self.polyphony, self.fade = channels, polyphony, max(1, fade)
        self.voices = np.zeros((2 * polyphony, VOICE_COLS), np.int64)  # room for fading tails
        self.gains = np.zeros((2 * polyphony, channels), np.float32)
        self.cmds = np.zeros((queue, CMD_COLS), np.int64)
        self.cgains = np.zeros((queue, channels), np.float32)
        self.started_at = np.full(queue, -1, np.int64)
        self.counters = np.zeros(6, np.int64)

    # -- engine thread ----------------------------------------------------------------
    def play(self, start: int, length: int, *, gains: np.ndarray, offset: int = 0,
             group: int = 0) -> int:
        """Ask for a voice playing ``bank[start + offset : start + length]``.

        Returns the command's sequence number (for :meth:`started_frame`), or -1 when the
        queue is full (counted as dropped).
        """
        return self._push(PLAY, start, length, offset, group, gains)

    def stop(self, group: int = 0) -> int:
        """Fade out group ``group``'s voices (0: every voice)."""
        return self._push(STOP, 0, 0, 0, group, np.zeros(self.channels, np.float32))

    def _push(self, kind: int, start: int, length: int, offset: int, group: int,
              gains: np.ndarray) -> int:
        head, q = int(self.counters[HEAD]), len(self.cmds)
        if head - int(self.counters[TAIL]) >= q:
            self.counters[DROPPED] += 1
            return -1
        slot = head % q
        self.cmds[slot] = (start, length, offset, group, kind)
        self.cgains[slot] = gains
        self.started_at[slot] = -1
        self.counters[HEAD] = head + 1  # published last: the reader sees a whole command
        return head

    def started_frame(self, seq: int) -> int:
        """Output frame at which command ``seq``'s voice began (-1: not yet, or overwritten)."""
        if seq < 0 or seq < int(self.counters[HEAD]) - len(self.cmds):
            return -1
        return int(self.started_at[seq % len(self.cmds)])

    # -- output thread ----------------------------------------------------------------
    def mix(self, out: np.ndarray) -> None:
        """Apply waiting commands, then mix every voice into ``out`` (frames, channels)."""
        _apply(self.cmds, self.cgains, self.started_at, self.counters, self.voices,
               self.gains, self.polyphony, self.fade)
        _mix(out, self.bank, self.voices, self.gains, self.fade, self.counters)

    # -- counters ---------------------------------------------------------------------
    @property
    def frames(self) -> int:
        """Output frames mixed so far."""
        return int(self.counters[FRAMES])

    @property
    def active(self) -> int:
        """Voices sounding now (fading ones included)."""
        return int(self.voices[:, ACTIVE].sum())

    def stats(self) -> dict[str, int]:
        """``started``, ``stolen`` and ``dropped`` voice counts."""
        c = self.counters
        return {"started": int(c[STARTED]), "stolen": int(c[STOLEN]),
                "dropped": int(c[DROPPED])}
