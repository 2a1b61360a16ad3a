"""Shared fixtures for the wire-layer tests: the schema, events, free ports."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent
from rtsim.publish.schema import load_schema

CAPTURE_TIME = 1_763_780_000.25  # exactly representable: timetags are exact


@pytest.fixture(scope="session")
def schema():
    return load_schema()


@pytest.fixture
def receiver():
    """A UDP socket on 127.0.0.1 (any port) with a 2-s receive timeout."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    yield sock
    sock.close()


@pytest.fixture
def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_hop(*, embedder="pca", k=3, dim=8, seq=7, names=None, silent=False, seed=0,
             level_db=-12.5, capture_time=CAPTURE_TIME, files=None):
    rng = np.random.default_rng(seed)
    n = 0 if silent else k
    return HopEvent(
        embedder=embedder,
        seq=seq,
        capture_time=capture_time,
        xyz=rng.uniform(-1, 1, 3).astype(np.float32),
        vector=rng.standard_normal(dim).astype(np.float32),
        ids=rng.integers(0, 100_000, n).astype(np.int64),
        distances=np.sort(rng.uniform(0, 2, n)).astype(np.float32),
        names=tuple(names[:n]) if names is not None else tuple(f"item_{i:03d}" for i in range(n)),
        level_db=level_db,
        silent=silent,
        files=tuple(files[:n]) if files is not None else tuple(
            (f"/samples/drums/item_{i:03d}.wav", 0.5 * i, 1.25) for i in range(n)),
    )


def make_trigger(*, embedder="pca", name="kick_01", distance=0.25, level_db=-3.0, id=42,
                 file="/samples/drums/kick_01.wav", offset_s=0.0, length_s=0.75):
    return TriggerEvent(embedder=embedder, seq=3, capture_time=CAPTURE_TIME, id=id, name=name,
                        distance=distance, level_db=level_db, file=file, offset_s=offset_s,
                        length_s=length_s)


def make_status(**counters):
    return StatusEvent(seq=11, time=CAPTURE_TIME, hops=1234, missed_hops=2, xruns=1,
                       dropped_samples=512, bad_samples=0,
                       latency_ms={"p50": 1.5, "p99": 4.25, "p999": 9.0},
                       counters=counters)
