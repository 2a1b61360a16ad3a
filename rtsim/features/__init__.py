"""Streaming front ends: constant-Q and mel, built from nnAudio's kernels.

>>> from rtsim.features import CQTSpec, make_frontend
>>> fe = make_frontend(CQTSpec())
>>> frames, state = fe.stream(chunk, fe.init_state())   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtsim._lazy import lazy_exports
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


# The front ends need torch: loaded on first use, so that the specs (and rtsim.features.onset)
# stay cheap to import.
__getattr__, __dir__ = lazy_exports(
    __name__, globals(),
    {"rtsim.features.frontend": ("FilterProperties", "FrontEnd", "StreamState")})

if TYPE_CHECKING:
    from rtsim.features.frontend import FilterProperties, FrontEnd, StreamState


def make_frontend(spec: FrontEndSpec, *, device: str = "cpu") -> FrontEnd:
    """Build the front end a spec describes, on ``device``."""
    if isinstance(spec, CQTSpec):
        from rtsim.features.cqt import CQT

        return CQT(spec).to(device)
    from rtsim.features.mel import Mel

    return Mel(spec).to(device)
