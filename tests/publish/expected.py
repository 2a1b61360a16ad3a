"""What the wire should carry for an event, written out independently of the encoder.

Addresses come from the schema; the mapping from event fields to arguments and the
bundle order ("fixed messages in schema order, then per-rank messages") are restated
here from the schema's documentation, so that the tests check the publisher against it.
"""

from __future__ import annotations

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder


def cut_utf8(text, limit):
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def file_args(path, offset, length, path_bytes):
    """A path is never cut: one over the limit is sent empty."""
    return [path if len(path.encode("utf-8")) <= path_bytes else "", offset, length]


def hop_messages(schema, ev, *, vector=False, paths=False, name_bytes=48, path_bytes=160):
    fields = {"seq": [ev.seq], "level": [float(ev.level_db)], "silent": [int(ev.silent)],
              "xyz": ev.xyz.tolist(), "vector": ev.vector.tolist()}
    on = {None: True, "vector": vector, "paths": paths}
    out = []
    for spec in schema.group("hop"):
        if "rank" not in spec.placeholders and on[spec.option]:
            tags = spec.tags(dim=len(ev.vector))
            out.append((spec.expand(embedder=ev.embedder), tags, fields[spec.key]))
    for spec in schema.group("hop"):
        if "rank" in spec.placeholders and not ev.silent and on[spec.option]:
            for r in range(ev.k):
                args = ([int(ev.ids[r]), float(ev.distances[r])] if spec.key == "match"
                        else [cut_utf8(ev.names[r], name_bytes)] if spec.key == "name"
                        else file_args(*ev.files[r], path_bytes))
                out.append((spec.expand(embedder=ev.embedder, rank=r), spec.typetags, args))
    return out


def trigger_messages(schema, ev, *, name_bytes=48, paths=False, path_bytes=160):
    trig, name = schema.message("trigger", "trigger"), schema.message("trigger", "name")
    out = [(trig.expand(embedder=ev.embedder), "iff", [ev.id, ev.distance, ev.level_db]),
           (name.expand(embedder=ev.embedder), "s", [cut_utf8(ev.name, name_bytes)])]
    if paths:
        path = schema.message("trigger", "path")
        out.append((path.expand(embedder=ev.embedder), "sff",
                    file_args(ev.file, ev.offset_s, ev.length_s, path_bytes)))
    return out


def status_messages(schema, ev):
    fields = {"seq": [ev.seq], "hops": [ev.hops], "missed": [ev.missed_hops],
              "xruns": [ev.xruns], "dropped": [ev.dropped_samples], "bad": [ev.bad_samples],
              "latency": [ev.latency_ms[p] for p in ("p50", "p99", "p999")]}
    out = []
    for spec in schema.group("status"):
        if spec.key == "counter":
            out += [(spec.expand(counter=n), "i", [v]) for n, v in ev.counters.items()]
        else:
            out.append((spec.expand(), spec.typetags, fields[spec.key]))
    return out


def pythonosc_bundle(messages, *, timetag=None):
    """The same messages encoded by python-osc (timetag: Unix time, None = immediately)."""
    bundle = OscBundleBuilder(IMMEDIATELY if timetag is None else timetag)
    for address, tags, args in messages:
        msg = OscMessageBuilder(address)
        for tag, value in zip(tags, args, strict=True):
            msg.add_arg(value, tag)
        bundle.add_content(msg.build())
    return bundle.build().dgram
