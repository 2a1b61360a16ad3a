"""Render the wire schema as a Markdown reference (``osc_schemas/REFERENCE.md``)."""

from __future__ import annotations

from rtsim.publish.spec import ArgSpec, MessageSpec, Schema, ZmqSpec

__all__ = ["render_markdown"]


def render_markdown(schema: Schema, *, regenerate: str) -> str:
    """Return the Markdown reference of ``schema``.

    Parameters
    ----------
    schema : Schema
        The parsed schema.
    regenerate : str
        The shell command that rewrites the committed file (quoted in its header).
    """
    lines = [
        "# rtsim wire reference",
        "",
        f"<!-- Generated from osc_schemas/schema.toml; do not edit. Run: {regenerate} -->",
        "",
        f"Schema version {schema.version}. OSC over UDP: every datagram is at most "
        f"{schema.max_packet_bytes} bytes. `i` is int32, `f` float32, `s` a UTF-8 string. "
        "NaN and Inf are never sent; each float argument says what is sent in their place.",
        "",
        "## Placeholders",
        "",
        *_table(("placeholder", "meaning"),
                [(f"`{{{name}}}`", doc) for name, doc in schema.placeholders.items()]),
        "",
        "Reserved first segments: " + ", ".join(f"`{w}`" for w in sorted(schema.reserved)) + ".",
        "",
        "## Summary",
        "",
        *_table(("address", "types", "direction", "event"), [_summary(m) for m in schema.messages]),
    ]
    for group in dict.fromkeys(m.group for m in schema.messages):
        lines += ["", f"## {group}", "", schema.groups[group]]
        for spec in schema.group(group):
            lines += ["", *_message(spec)]
    lines += ["", "## ZeroMQ", "", schema.groups["zmq"]]
    for spec in schema.zmq:
        lines += ["", *_zmq(spec)]
    return "\n".join(lines) + "\n"


def _tags(spec: MessageSpec) -> str:
    if spec.repeat:
        return f"`{spec.typetags}` × {spec.repeat}"
    return f"`{spec.typetags}`" if spec.typetags else "(none)"


def _summary(spec: MessageSpec) -> tuple[str, ...]:
    return (f"`{spec.address}`", _tags(spec), spec.direction, spec.event or "")


def _message(spec: MessageSpec) -> list[str]:
    facts = [spec.doc]
    if spec.event:
        facts.append(f"Produced by `{spec.event}`.")
    if spec.option:
        facts.append(f"Only with `OscConfig.{spec.option} = True`.")
    head = [f"### `{spec.address}` {_tags(spec)}", "", " ".join(facts)]
    if not spec.args:
        return [*head, "", "No arguments."]
    rows = [_arg_row(i, arg) for i, arg in enumerate(spec.args)]
    cols = ("#", "argument", "type", "units", "range", "from", "notes")
    return [*head, "", *_table(cols, rows)]


def _arg_row(index: int, arg: ArgSpec) -> tuple[str, ...]:
    notes = [arg.doc]
    if arg.nonfinite is not None:
        notes.append(f"NaN/Inf sent as {_num(arg.nonfinite)}.")
    if arg.finite:
        notes.append("Must be finite.")
    span = f"{_num(arg.range[0])} … {_num(arg.range[1])}" if arg.range else ""
    source = f"`{arg.source}`" if arg.source else ""
    return (str(index), arg.name, f"`{arg.type}`", arg.units, span, source, " ".join(notes))


def _num(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _zmq(spec: ZmqSpec) -> list[str]:
    frames = ", ".join(spec.frames)
    return [
        f"### topic `{spec.topic}`",
        "",
        f"{spec.doc} Produced by `{spec.event}`. Frames: {frames}.",
        "",
        *_table(("header key", "type", "meaning"), [(f"`{k}`", t, d) for k, t, d in spec.header]),
    ]


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(r) for r in rows)]
