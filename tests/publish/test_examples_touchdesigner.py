"""The TouchDesigner guide names every numeric channel rtsim sends, as the OSC In CHOP does."""

import re
from pathlib import Path

GUIDE = Path(__file__).parents[2] / "osc_schemas" / "examples" / "touchdesigner" / "README.md"


def chop_channels(schema, embedder: str, k: int) -> list[str]:
    """OSC In CHOP channel names: the address, plus _1.._n for a message of n values."""
    out = []
    for spec in schema.messages:
        if spec.group not in ("hop", "trigger", "status") or spec.option or "s" in spec.typetags:
            continue
        if "counter" in spec.placeholders:
            continue  # one per named counter: open-ended
        ranks = range(k) if "rank" in spec.placeholders else [None]
        for r in ranks:
            address = spec.expand(embedder=embedder, rank=r)
            n = len(spec.typetags)
            out += [address] if n == 1 else [f"{address}_{i}" for i in range(1, n + 1)]
    return out


def test_every_numeric_channel_is_in_the_guide(schema):
    listed = set(re.findall(r"`(/rtsim/[^`\s]+)`", GUIDE.read_text()))
    want = chop_channels(schema, "sample", 3)
    assert len(want) > 20
    assert [c for c in want if c not in listed] == []
    strings = [s.expand(embedder="sample", rank=0) for s in schema.messages
               if s.group in ("hop", "trigger") and "s" in s.typetags]
    text = GUIDE.read_text()
    assert all(a.rsplit("/", 1)[0] in text for a in strings)  # the DAT's addresses too
