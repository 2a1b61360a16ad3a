"""Numba copy kernels behind :class:`rtsim.audio.ring.RingBuffer`.

The kernels hold the GIL (numba's default), so with one producer and one consumer a
write and a read never interleave: each call is atomic with respect to the other thread.
All mutable indices live in one small ``int64`` array, ``state``, laid out as below.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Layout of the ``state`` array.
W = 0  # absolute index of the next frame to write (= frames written)
R = 1  # absolute index of the next frame to read
READ_TOTAL = 2  # frames handed to the consumer
DROPPED = 3  # frames lost by the overflow policy
OVERRUNS = 4  # write calls that met a full buffer
N_ANCHORS = 5  # anchors pushed so far (monotonic)
STATE_LEN = 6

# Policy codes.
DROP_OLDEST = 0
DROP_NEWEST = 1
BLOCK = 2  # store what fits, count nothing; the Python side waits, retries and counts


@njit(cache=True)
def write_kernel(buf, state, block, cols, a_index, a_time, t_last, sr, policy):
    """Copy ``block[:, cols]`` into ``buf``; return frames taken, or -1 on bad ``cols``."""
    cap = buf.shape[0]
    n = block.shape[0]
    n_cols = block.shape[1]
    if cols.shape[0] != buf.shape[1]:
        return -1
    for c in range(cols.shape[0]):
        if cols[c] < 0 or cols[c] >= n_cols:
            return -1
    if n == 0:
        return 0
    w = state[W]
    free = cap - (w - state[R])
    if n > free and policy != BLOCK:
        state[OVERRUNS] += 1
    if policy == DROP_OLDEST:
        first = max(0, n - cap)  # frames of this block overwritten by the same block
        k = n
    else:
        first = 0
        k = min(n, free)
        if policy == DROP_NEWEST:
            state[DROPPED] += n - k
    for i in range(first, k):
        row = (w + i) % cap
        for c in range(cols.shape[0]):
            buf[row, c] = block[i, cols[c]]
    if k == 0:
        return 0
    new_w = w + k
    if new_w - state[R] > cap:  # drop_oldest: unread frames were overwritten
        state[DROPPED] += new_w - cap - state[R]
        state[R] = new_w - cap
    state[W] = new_w
    slot = state[N_ANCHORS] % a_index.shape[0]
    a_index[slot] = new_w
    a_time[slot] = t_last - (n - k) / sr
    state[N_ANCHORS] += 1
    return k


@njit(cache=True)
def frame_time(state, a_index, a_time, index, sr):
    """Capture time of absolute frame ``index`` from the nearest anchor at or after it."""
    total = state[N_ANCHORS]
    size = a_index.shape[0]
    count = min(total, size)
    if count == 0 or index < 0 or index >= state[W]:
        return np.nan
    lo = 0  # logical positions 0..count-1, oldest first; find the first end > index
    hi = count - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if a_index[(total - count + mid) % size] > index:
            hi = mid
        else:
            lo = mid + 1
    slot = (total - count + lo) % size
    return a_time[slot] - (a_index[slot] - 1 - index) / sr


@njit(cache=True)
def read_kernel(buf, state, out, a_index, a_time, sr):
    """Move up to ``len(out)`` oldest unread frames into ``out``; return (n, end, time)."""
    cap = buf.shape[0]
    r = state[R]
    n = min(out.shape[0], state[W] - r)
    for i in range(n):
        row = (r + i) % cap
        for c in range(buf.shape[1]):
            out[i, c] = buf[row, c]
    end = r + n
    state[R] = end
    state[READ_TOTAL] += n
    t = frame_time(state, a_index, a_time, end - 1, sr) if n > 0 else np.nan
    return n, end, t


@njit(cache=True)
def available_kernel(state):
    """Unread frames (one atomic look at both indices)."""
    return state[W] - state[R]
