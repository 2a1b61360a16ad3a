"""rtsim.publish: events out to the wire (OSC over UDP, ZeroMQ).

The OSC address space and the ZeroMQ topics are defined once, in
``osc_schemas/schema.toml`` (see :mod:`rtsim.publish.schema`). Names are imported
lazily, so that ``import rtsim.publish`` costs nothing until a publisher is used and
``python -m rtsim.publish.schema`` runs cleanly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtsim._lazy import lazy_exports

__all__ = [
    "HopEvent", "TriggerEvent", "StatusEvent",
    "Schema", "MessageSpec", "ArgSpec", "ZmqSpec", "load_schema", "parse_schema",
    "render_reference",
    "IMMEDIATELY", "encode_string", "encode_message", "encode_bundle", "ntp_timetag",
    "truncate_utf8",
    "OscConfig", "OscPublisher", "OscCounters",
    "ZmqConfig", "ZmqPublisher", "ZmqCounters", "recv_event",
]

_HOME = {
    "rtsim.publish.events": ("HopEvent", "TriggerEvent", "StatusEvent"),
    "rtsim.publish.spec": ("Schema", "MessageSpec", "ArgSpec", "ZmqSpec"),
    "rtsim.publish.schema": ("load_schema", "parse_schema", "render_reference"),
    "rtsim.publish.osc": ("IMMEDIATELY", "encode_string", "encode_message", "encode_bundle",
                          "ntp_timetag", "truncate_utf8"),
    "rtsim.publish.osc_layout": ("OscCounters",),
    "rtsim.publish.osc_publisher": ("OscConfig", "OscPublisher"),
    "rtsim.publish.zmq": ("ZmqConfig", "ZmqPublisher", "ZmqCounters", "recv_event"),
}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOME)


if TYPE_CHECKING:
    from rtsim.publish.events import HopEvent, StatusEvent, TriggerEvent
    from rtsim.publish.osc import (
        IMMEDIATELY,
        encode_bundle,
        encode_message,
        encode_string,
        ntp_timetag,
        truncate_utf8,
    )
    from rtsim.publish.osc_layout import OscCounters
    from rtsim.publish.osc_publisher import OscConfig, OscPublisher
    from rtsim.publish.schema import load_schema, parse_schema, render_reference
    from rtsim.publish.spec import ArgSpec, MessageSpec, Schema, ZmqSpec
    from rtsim.publish.zmq import ZmqConfig, ZmqCounters, ZmqPublisher, recv_event
