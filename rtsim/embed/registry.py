"""The embedder registry: built-ins, then the ``rtsim.embedders`` entry-point group.

Built-ins register themselves when first asked for (their modules are imported lazily,
so ``rtsim run`` only imports the models it uses). Third-party packages declare::

    [project.entry-points."rtsim.embedders"]
    myembedder = "mypackage.rtsim_plugin:plugin"

where ``plugin`` is an :class:`~rtsim.embed.plugin.EmbedderPlugin` or a zero-argument
callable returning one (or a list of them).
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from rtsim.embed.plugin import EmbedderPlugin
from rtsim.errors import EmbedderError

__all__ = ["register", "get", "names", "BUILTINS"]

log = logging.getLogger(__name__)

#: name -> "module:attribute" of the built-in plugins.
BUILTINS: dict[str, str] = {
    "pca": "rtsim.embed.pca:plugin",
}

_registry: dict[str, EmbedderPlugin] = {}
_entry_points_loaded = False


def register(plugin: EmbedderPlugin) -> EmbedderPlugin:
    """Add a plugin; a second, different plugin under the same name is an error."""
    if not isinstance(plugin, EmbedderPlugin):
        raise EmbedderError(f"not an EmbedderPlugin: {plugin!r}")
    existing = _registry.get(plugin.name)
    if existing is not None and existing is not plugin:
        raise EmbedderError(f"an embedder named {plugin.name!r} is already registered")
    _registry[plugin.name] = plugin
    return plugin


def get(name: str) -> EmbedderPlugin:
    """The plugin registered as ``name`` (built-in or entry point)."""
    if name in _registry:
        return _registry[name]
    if name in BUILTINS:
        _register_target(BUILTINS[name], source="built-in")
    else:
        _load_entry_points()
    if name not in _registry:
        raise EmbedderError(f"unknown embedder {name!r}; available: {', '.join(names())}")
    return _registry[name]


def names() -> list[str]:
    """Every embedder name that :func:`get` can resolve."""
    _load_entry_points()
    return sorted(set(_registry) | set(BUILTINS))


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group="rtsim.embedders"):
        try:
            _register_target(ep.value, source=f"entry point {ep.name!r}")
        except EmbedderError as exc:
            log.warning("skipping embedder plugin %s: %s", ep.value, exc)


def _register_target(target: str, *, source: str) -> None:
    module, _, attr = target.partition(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise EmbedderError(f"cannot import {source} {target}: {exc}") from exc
    if callable(obj) and not isinstance(obj, EmbedderPlugin):
        obj = obj()
    for plugin in obj if isinstance(obj, list | tuple) else [obj]:
        register(plugin)
