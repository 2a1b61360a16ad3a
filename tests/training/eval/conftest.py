"""A labelled folder of synthetic one-shots in two kits (groups)."""

from __future__ import annotations

import csv

import pytest
import soundfile as sf

from rtsim.demo.sounds import render_note

SR = 22050
KITS = {"kitA": 0, "kitB": 7}  # each kit: its own seed and a transposition
DRUMS = ("kick", "snare", "hat")
SOUNDS = {"kick": "kick", "snare": "snare", "hat": "hat", "pluck": "pluck", "organ": "organ"}


def write_kits(root) -> tuple:
    """``<kit>/<sound>_<n>.wav`` for two kits; returns (root, labels.csv path)."""
    rows = []
    for kit, shift in KITS.items():
        for label, family in SOUNDS.items():
            for n in range(3):
                rel = f"{kit}/{label}_{n}.wav"
                (root / kit).mkdir(parents=True, exist_ok=True)
                x = render_note(family, midi=48 + shift + 5 * n, seconds=0.5, sr=SR,
                                seed=shift + n, velocity=0.3 + 0.2 * n)
                sf.write(root / rel, x, SR)
                rows.append((rel, label, kit, "drum" if label in DRUMS else "note"))
    table = root / "labels.csv"
    with open(table, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "kit", "kind"])
        w.writerows(rows)
    return root, table


@pytest.fixture(scope="session")
def two_kits(tmp_path_factory):
    return write_kits(tmp_path_factory.mktemp("kits"))
