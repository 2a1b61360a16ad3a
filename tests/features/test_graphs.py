"""CUDA graphs: the capture helper's fallback on the CPU (replays are tested on CUDA)."""

import torch

from rtsim.features import CQTSpec, make_frontend
from rtsim.features.graphs import GraphedCall


def test_graphed_call_runs_eagerly_without_cuda():
    g = GraphedCall(lambda x: x * 2, torch.ones(3), name="double")
    assert not g.captured and "not on a CUDA device" in g.error
    torch.testing.assert_close(g(torch.arange(3.0)), torch.tensor([0.0, 2.0, 4.0]))


def test_cpu_front_ends_take_no_graphs():
    fe = make_frontend(CQTSpec())
    assert fe.use_graphs() is False and not fe.graphed
