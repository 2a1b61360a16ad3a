"""The central streaming test, shared by every streaming component.

A streaming component exposes ``init_state()`` and ``stream(x, state) -> (out, state)``
and an offline function over the whole signal. Streaming the signal in awkward chunk
sizes must give the offline result (outputs concatenated along axis 0), as cached_conv's
``test_equal`` and pedalboard's fixed-block-size tests do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

CHUNK_SIZES = (1, 64, 65, 800, 8193)


def stream_in_chunks(
    stream: Callable[[np.ndarray, Any], tuple[Any, Any]],
    state: Any,
    x: np.ndarray,
    chunk: int,
) -> np.ndarray:
    """Feed ``x`` to ``stream`` ``chunk`` samples at a time; concatenate the outputs."""
    outs = []
    for start in range(0, len(x), chunk):
        out, state = stream(x[start : start + chunk], state)
        out = np.asarray(out.cpu() if hasattr(out, "cpu") else out)
        if len(out):
            outs.append(out)
    if not outs:
        return np.zeros((0,), dtype=np.float32)
    return np.concatenate(outs, axis=0)


def assert_streamed_equals_offline(
    *,
    stream: Callable[[np.ndarray, Any], tuple[Any, Any]],
    init_state: Callable[[], Any],
    offline: Callable[[np.ndarray], Any],
    x: np.ndarray,
    chunk_sizes: Iterable[int] = CHUNK_SIZES,
    rtol: float = 1e-5,
) -> np.ndarray:
    """Assert that streaming ``x`` in each chunk size reproduces ``offline(x)``.

    The error is measured relative to the largest magnitude of the offline output, so a
    near-zero element cannot hide or inflate a mismatch. Returns the offline output.
    """
    ref = offline(x)
    ref = np.asarray(ref.cpu() if hasattr(ref, "cpu") else ref)
    assert len(ref) > 0, "offline output is empty: the test signal is too short"
    scale = float(np.max(np.abs(ref)))
    assert scale > 0, "offline output is all zero: the test cannot fail"
    for chunk in chunk_sizes:
        got = stream_in_chunks(stream, init_state(), x, chunk)
        assert got.shape == ref.shape, f"chunk={chunk}: shape {got.shape} != offline {ref.shape}"
        err = float(np.max(np.abs(got - ref))) / scale
        assert err <= rtol, f"chunk={chunk}: max error {err:.3g} of scale > rtol={rtol}"
    return ref
