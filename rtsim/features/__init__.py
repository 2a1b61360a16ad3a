"""Streaming front ends: constant-Q and mel, built from nnAudio's kernels.

>>> from rtsim.features import CQTSpec, make_frontend
>>> fe = make_frontend(CQTSpec())
>>> frames, state = fe.stream(chunk, fe.init_state())   # doctest: +SKIP
"""

from __future__ import annotations

from rtsim.features.frontend import FilterProperties, FrontEnd, StreamState
from rtsim.features.spec import (
    CQTSpec,
    FrontEndSpec,
    MelSpec,
    describe,
    identity,
    spec_from_dict,
)

__all__ = [
    "CQTSpec",
    "MelSpec",
    "FrontEndSpec",
    "FrontEnd",
    "FilterProperties",
    "StreamState",
    "make_frontend",
    "spec_from_dict",
    "identity",
    "describe",
]


def make_frontend(spec: FrontEndSpec, *, device: str = "cpu") -> FrontEnd:
    """Build the front end a spec describes, on ``device``."""
    if isinstance(spec, CQTSpec):
        from rtsim.features.cqt import CQT

        return CQT(spec).to(device)
    from rtsim.features.mel import Mel

    return Mel(spec).to(device)
