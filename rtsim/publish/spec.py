"""The wire schema as typed, immutable records.

:mod:`rtsim.publish.schema` parses ``osc_schemas/schema.toml`` into these records; the
publishers, the generated reference and the tests use them. Addresses are patterns with
placeholders (``/rtsim/{embedder}/match/{rank}``) that :meth:`MessageSpec.expand` fills
and :meth:`Schema.resolve` matches back.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from rtsim.errors import ConfigError, WireError

__all__ = ["ArgSpec", "MessageSpec", "ZmqSpec", "Schema", "PLACEHOLDER_PATTERNS"]

_SEGMENT = r"[A-Za-z0-9_.-]+"
#: Grammar of each placeholder; an embedder's first segment may not be reserved.
PLACEHOLDER_PATTERNS = {
    "embedder": rf"{_SEGMENT}(?:/{_SEGMENT})*",
    "rank": r"0|[1-9][0-9]*",
    "counter": r"[A-Za-z0-9_]+",
}
_FIELD = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """One OSC argument: its type tag, meaning, units and checks."""

    name: str
    type: str
    units: str = ""
    doc: str = ""
    range: tuple[float, float] | None = None
    source: str | None = None
    nonfinite: float | None = None
    finite: bool = False

    def check(self, value: object, *, address: str) -> None:
        """Raise :class:`WireError` unless ``value`` has this argument's type and range."""
        kind = {"i": int, "f": (int, float), "s": str}[self.type]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise WireError(f"{address} {self.name}={value!r}: expected type '{self.type}'")
        if self.type == "f" and self.finite and not math.isfinite(value):
            raise WireError(f"{address} {self.name}={value!r} must be finite")
        if self.range is not None and not self.range[0] <= value <= self.range[1]:
            lo, hi = self.range
            raise WireError(f"{address} {self.name}={value!r} is outside [{lo}, {hi}]")


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One OSC address pattern of the schema (``group.key``, e.g. ``hop.xyz``)."""

    group: str
    key: str
    address: str
    typetags: str
    args: tuple[ArgSpec, ...]
    doc: str
    event: str | None = None
    direction: str = "out"
    option: str | None = None
    repeat: str | None = None

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Placeholder names in the address, in order."""
        return tuple(_FIELD.findall(self.address))

    def expand(self, **values: object) -> str:
        """Fill the placeholders, e.g. ``expand(embedder="stem/bass", rank=0)``."""
        missing = set(self.placeholders) - set(values)
        if missing:
            raise WireError(f"{self.address}: no value for {sorted(missing)}")
        return self.address.format(**values)

    def tags(self, *, dim: int | None = None) -> str:
        """Type-tag string as sent (``repeat = "dim"`` messages need ``dim``)."""
        if self.repeat is None:
            return self.typetags
        if dim is None:
            raise WireError(f"{self.address}: typetags repeat per dimension; pass dim")
        return self.typetags * dim

    def check_args(self, args: tuple | list) -> None:
        """Validate received arguments against arity, types, finiteness and ranges.

        Raises
        ------
        WireError
            Naming the address, the argument and the bad value.
        """
        specs = self.args * len(args) if self.repeat else self.args
        if len(args) != len(specs):
            raise WireError(f"{self.address}: {len(args)} arguments, expected {len(specs)}")
        for spec, value in zip(specs, args, strict=True):
            spec.check(value, address=self.address)


@dataclass(frozen=True, slots=True)
class ZmqSpec:
    """One ZeroMQ message kind: topic pattern, frames and header keys."""

    key: str
    topic: str
    event: str
    frames: tuple[str, ...]
    doc: str
    header: tuple[tuple[str, str, str], ...]

    def expand(self, **values: object) -> bytes:
        """The topic frame, e.g. ``b"hop/stem/bass"``."""
        return self.topic.format(**values).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Schema:
    """The whole wire schema (see ``osc_schemas/schema.toml``)."""

    version: int
    root: str
    max_packet_bytes: int
    placeholders: dict[str, str]
    groups: dict[str, str]
    messages: tuple[MessageSpec, ...]
    zmq: tuple[ZmqSpec, ...]

    def message(self, group: str, key: str) -> MessageSpec:
        """The message ``group.key``; :class:`WireError` if the schema lacks it."""
        for spec in self.messages:
            if spec.group == group and spec.key == key:
                return spec
        raise WireError(f"the schema has no message [{group}.{key}]")

    def group(self, group: str) -> tuple[MessageSpec, ...]:
        """The messages of one group, in schema order."""
        return tuple(spec for spec in self.messages if spec.group == group)

    def zmq_message(self, key: str) -> ZmqSpec:
        """The ZeroMQ message kind ``key`` (``hop``, ``trigger``, ``status``)."""
        for spec in self.zmq:
            if spec.key == key:
                return spec
        raise WireError(f"the schema has no ZeroMQ message [zmq.{key}]")

    @property
    def reserved(self) -> frozenset[str]:
        """First address segments taken by fixed addresses (``status``, ``ctl``, ...)."""
        cut = len(self.root) + 1
        firsts = (spec.address[cut:].split("/")[0] for spec in self.messages)
        return frozenset(first for first in firsts if not _FIELD.fullmatch(first))

    def check_embedder(self, name: str) -> str:
        """Return ``name`` if it is a valid embedder name, else raise :class:`ConfigError`."""
        if not isinstance(name, str) or not re.fullmatch(PLACEHOLDER_PATTERNS["embedder"], name):
            raise ConfigError(
                f"embedder name {name!r} is not segments of [A-Za-z0-9_.-] joined by '/'"
            )
        if name.split("/")[0] in self.reserved:
            raise ConfigError(
                f"embedder name {name!r} starts with a reserved word {sorted(self.reserved)}"
            )
        return name

    def resolve(self, address: str) -> list[tuple[MessageSpec, dict[str, str]]]:
        """Every message whose pattern matches ``address``, with the placeholder values."""
        found = []
        for spec in self.messages:
            hit = _pattern(spec.address).fullmatch(address)
            if hit and hit.groupdict().get("embedder", "").split("/")[0] not in self.reserved:
                found.append((spec, hit.groupdict()))
        return found


@functools.lru_cache(maxsize=256)
def _pattern(address: str) -> re.Pattern[str]:
    """Compile an address pattern; placeholders become named groups."""
    parts = _FIELD.split(address)
    for i in range(0, len(parts), 2):
        parts[i] = re.escape(parts[i])
    for i in range(1, len(parts), 2):
        parts[i] = f"(?P<{parts[i]}>{PLACEHOLDER_PATTERNS[parts[i]]})"
    return re.compile("".join(parts))
