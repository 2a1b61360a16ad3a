"""The stems demo, live: each channel's stem embedder names the piece its instrument plays.

A four-channel clip (drums, bass, piano, guitar: one microphone per instrument) of six
demo pieces, five seconds each, streams through the shipped stem embedders, each matched
against its own stem library, and ``stem/mix`` on the mix of all channels.
"""

import numpy as np
import pytest

from rtsim.demo.data import ensure_stems_demo
from rtsim.demo.songs import STEMS
from rtsim.embed import get
from tests.engine.helpers import run_file

ORDER = (2, 7, 4, 9, 0, 11)  # the pieces of the demo clip, 5 s each


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    for role in (*STEMS, "mix"):
        if not get(f"stem/{role}").weights.is_file():
            pytest.skip(f"stem/{role} has no shipped weights")
    return ensure_stems_demo(device="cpu", progress=False, root=tmp_path_factory.mktemp("c"))


def test_each_stem_embedder_names_the_piece_on_its_channel(demo):
    patch = {"source": {"channels": list(range(len(STEMS)))},
             "embedder": [{"name": f"stem/{s}", "library": str(demo.libraries[s]), "k": 3,
                           "channel": i} for i, s in enumerate(STEMS)]
             + [{"name": "stem/mix", "library": str(demo.libraries["mix"]), "k": 3}]}
    col, engine = run_file(demo.clip, None, patch=patch)
    assert engine.status().missed_hops == 0
    t0 = min(h.capture_time for h in col.hops)
    accuracy = {}
    for name in [f"stem/{s}" for s in (*STEMS, "mix")]:
        hops = [h for h in col.hops if h.embedder == name and not h.silent]
        right = []
        for h in hops:
            t = h.capture_time - t0
            seg = int(t // 5.0)
            if seg < len(ORDER) and t - 5.0 * seg >= 3.0:  # the 3-s window lies in the piece
                right.append(h.names[0].startswith(f"piece_{ORDER[seg]:02d}"))
        assert len(right) >= 40, name
        print(f"{name}: {np.mean(right):.2f} of {len(right)} hops name the piece playing")
        accuracy[name] = np.mean(right)
    assert min(accuracy.values()) >= 0.8, accuracy
