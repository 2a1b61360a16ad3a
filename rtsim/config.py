"""One configuration machinery: TOML files in, typed frozen dataclasses, overrides, TOML out.

Used by the runtime config (:mod:`rtsim.engine.config`) and the training config
(:mod:`rtsim.training.config`). A table becomes a dataclass with :func:`build`: unknown
keys, wrong types and non-finite numbers are errors that name the key, and every error of
a table (and its sub-tables) is reported at once, one per line. :func:`apply_overrides`
sets dotted keys from the command line (``osc.port=9001``, ``embedder.0.k=8``; values
parsed as TOML, bare words as strings); :func:`merge` lays one nested table over another;
:func:`to_toml` writes a config back.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from rtsim.errors import ConfigError

__all__ = ["read_toml", "merge", "apply_overrides", "build", "to_toml"]


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file, with errors that name it."""
    p = Path(path).expanduser()
    try:
        return tomllib.loads(p.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {p}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p} is not valid TOML: {exc}") from exc


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` merged in, tables recursively (a new dict)."""
    out = _deep_copy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = _deep_copy(value)
    return out


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Set dotted keys (``osc.port=9001``, ``embedder.0.k=8``) in a nested dict (a copy)."""
    data = _deep_copy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        *parents, last = key.split(".")
        node: Any = data
        for part in parents:
            if isinstance(node, list):
                node = node[_list_index(node, part, item)]
            else:
                node = node.setdefault(part, {})
        value = _parse_value(raw)
        if isinstance(node, list):
            node[_list_index(node, last, item)] = value
        else:
            node[last] = value
    return data


def to_toml(cfg: Any) -> str:
    """Render a config dataclass as TOML (what artifacts store next to themselves)."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    arrays: list[tuple[str, Any]] = []
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if is_dataclass(value):
            tables.append((f.name, value))
        elif isinstance(value, tuple) and value and is_dataclass(value[0]):
            arrays.append((f.name, value))
        elif value is not None:
            lines.append(f"{f.name} = {_toml_value(value)}")
    for name, value in tables:
        lines += ["", f"[{name}]", *_toml_body(value)]
    for name, values in arrays:
        for value in values:
            lines += ["", f"[[{name}]]", *_toml_body(value)]
    return "\n".join(lines).strip() + "\n"


# -- helpers -------------------------------------------------------------------------
def build(cls: type, data: Any, where: str) -> Any:
    """``cls`` from a table; every bad key and value of it (and of its sub-tables) at once."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a table, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    errors = [f"unknown key(s) {unknown} in [{where}]; known: {sorted(known)}"] if unknown else []
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        if name in known:
            try:
                kwargs[name] = _coerce(hints[name], value, f"{where}.{name}")
            except ConfigError as exc:
                errors.append(str(exc))
    if errors:
        raise ConfigError("\n".join(errors))
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"[{where}]: {exc}") from exc


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(options) < len(typing.get_args(tp)):
            return None
        for opt in options:
            try:
                return _coerce(opt, value, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}={value!r} must be {' or '.join(_name(o) for o in options)}")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            value = [value] if args and args[-1] is ... and not is_dataclass(args[0]) else value
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}={value!r} must be a list")
        out, errors = [], []
        for i, v in enumerate(value):
            try:
                out.append(_coerce(args[0], v, f"{where}[{i}]"))
            except ConfigError as exc:
                errors.append(str(exc))
        if errors:
            raise ConfigError("\n".join(errors))
        return tuple(out)
    if is_dataclass(tp):
        return build(tp, value, where)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}={value!r} must be a table")
        key_type, value_type = typing.get_args(tp)
        return {_coerce(key_type, k, where): _coerce(value_type, v, f"{where}.{k}")
                for k, v in value.items()}
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ConfigError(f"{where}={value!r} must be a finite number")
        return float(value)
    if tp is Any or (isinstance(tp, type) and isinstance(value, tp)
                     and not (tp is int and isinstance(value, bool))):
        return value
    raise ConfigError(f"{where}={value!r} must be {_name(tp)}")


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _parse_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _list_index(node: list, part: str, item: str) -> int:
    if not part.isdigit():
        key, _, value = item.partition("=")
        head, _, tail = key.rpartition(f".{part}")
        raise ConfigError(
            f"override {item!r}: {head or 'this'} is a list of {len(node)} table(s); say which "
            f"entry, e.g. {head}.0.{part}{tail}={value}")
    if int(part) >= len(node):
        raise ConfigError(f"override {item!r}: no entry {part} (there are {len(node)}: "
                          f"0..{len(node) - 1})")
    return int(part)


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def _toml_body(cfg: Any) -> list[str]:
    return [f"{f.name} = {_toml_value(getattr(cfg, f.name))}" for f in fields(cfg)
            if getattr(cfg, f.name) is not None and not is_dataclass(getattr(cfg, f.name))]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if dataclasses.is_dataclass(value):
        value = {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_value(str(k))} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise ConfigError(f"cannot write {value!r} as TOML")
