"""The Max example's structure, checked against the wire schema (Max itself is not here).

Every patch cord joins existing boxes within their inlet and outlet counts; every OSC
address the patch routes is one rtsim sends, unpacked with the schema's argument types;
it listens on rtsim's default OSC port; the routed path reaches the DAC.
"""

from __future__ import annotations

import json
from pathlib import Path

from rtsim.publish.osc_publisher import OscConfig

PATCH = Path(__file__).parents[2] / "osc_schemas" / "examples" / "max" / "rtsim-play.maxpat"
_MAX_TYPES = {"s": "s", "0.": "f", "f": "f", "0": "i", "i": "i"}


def _load():
    patcher = json.loads(PATCH.read_text())["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patcher["boxes"]}
    lines = [(ln["patchline"]["source"], ln["patchline"]["destination"])
             for ln in patcher["lines"]]
    return boxes, lines


def _text(box) -> list[str]:
    return box.get("text", box["maxclass"]).split()


def test_every_cord_joins_existing_inlets_and_outlets():
    boxes, lines = _load()
    assert lines
    for (src, outlet), (dst, inlet) in lines:
        assert src in boxes and dst in boxes, (src, dst)
        assert 0 <= outlet < boxes[src]["numoutlets"], (src, outlet)
        assert 0 <= inlet < boxes[dst]["numinlets"], (dst, inlet)
        assert len(boxes[src]["outlettype"]) == boxes[src]["numoutlets"]


def test_it_listens_where_rtsim_sends_and_routes_only_schema_addresses(schema):
    boxes, lines = _load()
    [port] = [int(_text(b)[1]) for b in boxes.values() if _text(b)[0] == "udpreceive"]
    assert port == OscConfig().port
    routes = [b for b in boxes.values() if _text(b)[0] == "route"]
    assert routes
    for box in routes:
        for outlet, address in enumerate(_text(box)[1:]):
            [(spec, params)] = schema.resolve(address)  # an address rtsim sends
            assert spec.direction != "in"
            # what the routed outlet feeds unpacks the schema's argument types in order
            fed = [boxes[d] for (s, o), (d, _) in lines if s == box["id"] and o == outlet]
            [unpack] = [b for b in fed if _text(b)[0] == "unpack"]
            types = "".join(_MAX_TYPES[t] for t in _text(unpack)[1:])
            assert types == spec.typetags, (address, types, spec.typetags)
            assert spec.option is None or getattr(OscConfig(), spec.option) is False  # opt-in


def test_the_routed_match_reaches_the_dac():
    boxes, lines = _load()
    start = next(i for i, b in boxes.items() if _text(b)[0] == "udpreceive")
    seen, todo = {start}, [start]
    while todo:
        here = todo.pop()
        for (s, _), (d, _) in lines:
            if s == here and d not in seen:
                seen.add(d)
                todo.append(d)
    names = {_text(boxes[i])[0] for i in seen}
    assert {"buffer~", "play~", "ezdac~"} <= names
