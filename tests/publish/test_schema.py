"""The schema file: it loads, its rules hold, and the committed reference is current."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from rtsim.errors import ConfigError, WireError
from rtsim.publish.schema import REGENERATE, load_schema, parse_schema, render_reference

SHIPPED = files("rtsim.osc_schemas").joinpath("schema.toml").read_text(encoding="utf-8")
REQUIRED = {  # the brief's address space: (group, key) -> (pattern, type tags)
    ("hop", "xyz"): ("/rtsim/{embedder}/xyz", "fff"),
    ("hop", "match"): ("/rtsim/{embedder}/match/{rank}", "if"),
    ("hop", "name"): ("/rtsim/{embedder}/name/{rank}", "s"),
    ("hop", "level"): ("/rtsim/{embedder}/level", "f"),
    ("hop", "silent"): ("/rtsim/{embedder}/silent", "i"),
    ("hop", "seq"): ("/rtsim/{embedder}/seq", "i"),
    ("hop", "vector"): ("/rtsim/{embedder}/vector", "f"),
    ("trigger", "trigger"): ("/rtsim/{embedder}/trigger", "iff"),
    ("trigger", "name"): ("/rtsim/{embedder}/trigger/name", "s"),
    ("control", "weights"): ("/rtsim/ctl/{embedder}/weights", "ffff"),
    ("control", "k"): ("/rtsim/ctl/{embedder}/k", "i"),
    ("control", "enable"): ("/rtsim/ctl/{embedder}/enable", "i"),
    ("control", "ping"): ("/rtsim/ping", "i"),
}


def test_reference_is_up_to_date():
    committed = Path(__file__).parents[2] / "osc_schemas" / "REFERENCE.md"
    assert committed.read_text(encoding="utf-8") == render_reference(), (
        f"osc_schemas/REFERENCE.md is stale; regenerate it with:  {REGENERATE}")


def test_required_addresses(schema):
    for (group, key), (address, tags) in REQUIRED.items():
        spec = schema.message(group, key)
        assert (spec.address, spec.typetags) == (address, tags)
    assert schema.message("hop", "vector").option == "vector"
    assert schema.message("hop", "vector").tags(dim=3) == "fff"
    assert schema.message("control", "reply").direction == "out"
    assert all(set(s.typetags) <= {"i", "f"} for s in schema.group("status"))


def test_outbound_floats_say_what_replaces_nonfinite(schema):
    for spec in schema.messages:
        if spec.direction == "out" and spec.event:
            assert all(a.nonfinite is not None for a in spec.args if a.type == "f"), spec.key


def test_reserved_words_and_embedder_names(schema):
    assert schema.reserved == {"status", "ctl", "ping", "pong", "reply"}
    assert schema.check_embedder("stem/bass") == "stem/bass"
    with pytest.raises(ConfigError, match="'status/x'"):
        schema.check_embedder("status/x")


def test_resolve(schema):
    [(spec, values)] = schema.resolve("/rtsim/stem/bass/match/12")
    assert (spec.key, values) == ("match", {"embedder": "stem/bass", "rank": "12"})
    [(spec, values)] = schema.resolve("/rtsim/status/seq")  # not hop.seq of "status"
    assert (spec.group, values) == ("status", {})
    assert [s.key for s, _ in schema.resolve("/rtsim/pca/trigger/name")] == ["name"]
    assert schema.resolve("/rtsim/pca/match/01") == []
    assert schema.resolve("/other/pca/xyz") == []


@pytest.mark.parametrize(("key", "args", "match"), [
    ("weights", [0.5, 0.5, 0.5, 2.0], "w3=2.0 is outside"),
    ("weights", [0.5, float("nan"), 0.5, 0.5], "w1=nan must be finite"),
    ("weights", [0.5, 0.5, 0.5], "3 arguments, expected 4"),
    ("k", [0], "k=0 is outside"),
    ("k", [2.0], "k=2.0: expected type 'i'"),
    ("enable", [True], "expected type 'i'"),
    ("library", [3], "path=3"),
])
def test_control_argument_checks(schema, key, args, match):
    with pytest.raises(WireError, match=match):
        schema.message("control", key).check_args(args)


def test_control_arguments_accepted(schema):
    schema.message("control", "weights").check_args([0.0, 1.0, 0.25, 1])
    schema.message("control", "k").check_args([5])
    schema.message("control", "reload").check_args([])


@pytest.mark.parametrize(("old", "new", "match"), [
    ('typetags = "fff"', 'typetags = "ff"', r"\[hop.xyz\] typetags='ff'"),
    ('typetags = "iff"', 'typetags = "ifd"', "typetags='ifd'"),
    ('address = "/rtsim/{embedder}/level"', 'address = "/rtsim/{embedder}/seq"', "twice"),
    ('address = "/rtsim/{embedder}/level"', 'address = "/x/{embedder}/level"', "must start"),
    ('address = "/rtsim/{embedder}/level"', 'address = "/rtsim/{who}/level"', "{'who'}"),
    ("max_packet_bytes = 1472", "max_packet_bytes = 70000", "max_packet_bytes=70000"),
    ('nonfinite = -200.0\ndoc = "0 = full', 'nonfinite = -200.0\nfinity = 1\ndoc = "0 = full',
     "unknown keys \\['finity'\\]"),
    ('name = "seq"\ntype = "i"', 'name = "seq"\ntype = "i"\nnonfinite = 0.0', "float arguments"),
    ('repeat = "dim"', 'repeat = "k"', "repeat='k'"),
    ("[meta]", "x = 1\n[meta]", "unknown keys \\['x'\\]"),
    ("[meta]", "[meta", "not valid TOML"),
])
def test_broken_schemas_are_rejected_with_the_place(old, new, match):
    assert old in SHIPPED
    with pytest.raises(WireError, match=match):
        parse_schema(SHIPPED.replace(old, new, 1), origin="test.toml")


def test_load_from_path(tmp_path):
    path = tmp_path / "schema.toml"
    path.write_text(SHIPPED, encoding="utf-8")
    assert load_schema(path) == load_schema()


def test_readme_wire_tables_name_every_address():
    """Every address of the schema appears in README's OSC tables (placeholders as <name>)."""
    import re
    from pathlib import Path

    from rtsim.publish.schema import load_schema

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    listed = set(re.findall(r"`(/rtsim/[^`\s]*)`", readme))
    missing = []
    for m in load_schema().messages:
        address = re.sub(r"\{(\w+)\}", r"<\1>", m.address)
        stem = address.rsplit("/", 1)[0]
        ok = address in listed or any(
            a.startswith(stem) and (a.endswith("...") or m.address.rsplit("/", 1)[1] in a)
            for a in listed)
        if not ok and f"/{m.address.rsplit('/', 1)[1]}`" not in readme:
            missing.append(address)
    assert missing == []
