"""Load and validate the wire schema, ``osc_schemas/schema.toml``.

The schema is the single source of truth for OSC addresses, type tags and argument
meanings, and for the ZeroMQ topics and header keys. Regenerate the Markdown reference
after editing it::

    python -m rtsim.publish.schema > osc_schemas/REFERENCE.md
"""

from __future__ import annotations

import functools
import sys
import tomllib
from importlib.resources import files
from pathlib import Path

from rtsim.errors import WireError
from rtsim.publish.reference import render_markdown
from rtsim.publish.spec import PLACEHOLDER_PATTERNS, ArgSpec, MessageSpec, Schema, ZmqSpec

__all__ = ["load_schema", "parse_schema", "render_reference", "REGENERATE"]

#: The command that rewrites the committed reference.
REGENERATE = "python -m rtsim.publish.schema > osc_schemas/REFERENCE.md"
OSC_GROUPS = ("hop", "trigger", "status", "control")
_TAGS = frozenset("ifs")
_ARG_KEYS = {"name", "type", "units", "doc", "range", "source", "nonfinite", "finite"}
_MSG_KEYS = {"address", "typetags", "args", "doc", "event", "direction", "option", "repeat"}
_ZMQ_KEYS = {"topic", "event", "frames", "doc", "header"}
_TOP_KEYS = {"meta", "placeholders", "groups", "zmq", *OSC_GROUPS}


def load_schema(path: str | Path | None = None) -> Schema:
    """Load the schema shipped in ``rtsim.osc_schemas``, or the file at ``path``.

    The shipped schema is parsed once and cached.

    Raises
    ------
    WireError
        If the file is not valid TOML or breaks a rule of the schema format.
    """
    if path is None:
        return _shipped()
    return parse_schema(Path(path).read_text(encoding="utf-8"), origin=str(path))


@functools.lru_cache(maxsize=1)
def _shipped() -> Schema:
    text = files("rtsim.osc_schemas").joinpath("schema.toml").read_text(encoding="utf-8")
    return parse_schema(text, origin="schema.toml")


def render_reference(schema: Schema | None = None) -> str:
    """Markdown reference of the address space (``osc_schemas/REFERENCE.md``)."""
    return render_markdown(schema or load_schema(), regenerate=REGENERATE)


def parse_schema(text: str, *, origin: str = "schema.toml") -> Schema:
    """Parse and validate schema TOML text; errors name ``origin`` and the table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WireError(f"{origin}: not valid TOML: {exc}") from exc
    _only(data, _TOP_KEYS, f"{origin}: top level")
    meta = data.get("meta", {})
    root, limit = meta.get("root"), meta.get("max_packet_bytes")
    _need(isinstance(root, str) and root.startswith("/"), f"{origin} [meta] root={root!r}")
    _need(isinstance(limit, int) and 64 <= limit <= 65507,
          f"{origin} [meta] max_packet_bytes={limit!r} must be in [64, 65507]")
    placeholders = dict(data.get("placeholders", {}))
    _need(set(placeholders) == set(PLACEHOLDER_PATTERNS),
          f"{origin} [placeholders] {sorted(placeholders)} != {sorted(PLACEHOLDER_PATTERNS)}")
    groups = dict(data.get("groups", {}))
    messages = tuple(
        _message(group, key, table, root=root, where=f"{origin} [{group}.{key}]")
        for group in OSC_GROUPS for key, table in data.get(group, {}).items()
    )
    _need(set(groups) >= {m.group for m in messages} | {"zmq"},
          f"{origin} [groups] lacks a description of {sorted({m.group for m in messages})}")
    addresses = [m.address for m in messages]
    dupes = sorted({a for a in addresses if addresses.count(a) > 1})
    _need(not dupes, f"{origin}: addresses declared twice: {dupes}")
    zmq = tuple(_zmq(key, t, where=f"{origin} [zmq.{key}]")
                for key, t in data.get("zmq", {}).items())
    return Schema(version=meta.get("version", 0), root=root, max_packet_bytes=limit,
                  placeholders=placeholders, groups=groups, messages=messages, zmq=zmq)


def _message(group: str, key: str, t: dict, *, root: str, where: str) -> MessageSpec:
    _only(t, _MSG_KEYS, where)
    address, tags = t.get("address"), t.get("typetags")
    _need(isinstance(address, str) and address.startswith(root + "/"),
          f"{where} address={address!r} must start with {root + '/'!r}")
    _need(isinstance(tags, str) and set(tags) <= _TAGS, f"{where} typetags={tags!r}")
    _need(isinstance(t.get("doc"), str) and t["doc"], f"{where} has no doc")
    args = tuple(_arg(a, where=f"{where} arg {i}") for i, a in enumerate(t.get("args", [])))
    _need("".join(a.type for a in args) == tags,
          f"{where} typetags={tags!r} but the args' types are {''.join(a.type for a in args)!r}")
    _need(t.get("repeat") in (None, "dim") and (t.get("repeat") is None or len(args) == 1),
          f"{where} repeat={t.get('repeat')!r} (only 'dim', on a single argument)")
    direction = t.get("direction", "out")
    _need(direction in ("in", "out"), f"{where} direction={direction!r}")
    _need(group == "control" or t.get("event"), f"{where} names no event")
    spec = MessageSpec(group=group, key=key, address=address, typetags=tags, args=args,
                       doc=t["doc"], event=t.get("event"), direction=direction,
                       option=t.get("option"), repeat=t.get("repeat"))
    unknown = set(spec.placeholders) - set(PLACEHOLDER_PATTERNS)
    _need(not unknown, f"{where} address={address!r} has unknown placeholders {unknown}")
    return spec


def _arg(t: dict, *, where: str) -> ArgSpec:
    _only(t, _ARG_KEYS, where)
    kind, rng = t.get("type"), t.get("range")
    _need(isinstance(t.get("name"), str) and t["name"], f"{where} has no name")
    _need(kind in _TAGS, f"{where} type={kind!r} must be one of 'i', 'f', 's'")
    _need(rng is None or (kind != "s" and len(rng) == 2 and rng[0] <= rng[1]),
          f"{where} range={rng!r} must be [lo, hi] on a number")
    _need(kind == "f" or ("nonfinite" not in t and "finite" not in t),
          f"{where}: nonfinite/finite apply to float arguments only")
    return ArgSpec(name=t["name"], type=kind, units=t.get("units", ""),
                   doc=t.get("doc", ""), range=tuple(rng) if rng else None,
                   source=t.get("source"), nonfinite=t.get("nonfinite"),
                   finite=bool(t.get("finite", False)))


def _zmq(key: str, t: dict, *, where: str) -> ZmqSpec:
    _only(t, _ZMQ_KEYS, where)
    header = tuple(tuple(row) for row in t.get("header", []))
    _need(all(len(row) == 3 for row in header), f"{where} header rows are [key, type, doc]")
    return ZmqSpec(key=key, topic=t.get("topic", ""), event=t.get("event", ""),
                   frames=tuple(t.get("frames", ())), doc=t.get("doc", ""), header=header)


def _only(table: dict, allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    _need(not unknown, f"{where}: unknown keys {sorted(unknown)}")


def _need(ok: object, message: str) -> None:
    if not ok:
        raise WireError(message)


if __name__ == "__main__":
    sys.stdout.write(render_reference())
