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
import json
import logging
from importlib.metadata import entry_points
from pathlib import Path

from rtsim.embed.plugin import EmbedderPlugin, EmbedderSpec
from rtsim.errors import EmbedderError

__all__ = ["register", "get", "names", "BUILTINS"]

log = logging.getLogger(__name__)

#: name -> "module:attribute" of the built-in plugins.
BUILTINS: dict[str, str] = {
    "pca": "rtsim.embed.pca:plugin",
    "timbre": "rtsim.models.timbre:plugin",
    "sample": "rtsim.models.sample:plugin",
    "song2vec": "rtsim.models.song2vec:plugin",
    "disentangled": "rtsim.models.disentangled:plugin",
    **{f"stem/{role}": "rtsim.models.stems:plugins"
       for role in ("drums", "bass", "piano", "guitar", "mix")},
    **{f"vocal/{name}": "rtsim.models.vocal:plugins"
       for name in ("mix", "vocal", "instrumental", "pitch")},
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
    """The plugin registered as ``name`` (built-in or entry point), or a run folder's.

    A path to a training run folder (``rtsim train ... --out RUN``) gives that run's
    embedder with its best weights, so a user's own training goes live without code.
    """
    if name in _registry:
        return _registry[name]
    if ("/" in name or name.startswith(".")) and Path(name).expanduser().is_dir():
        return run_folder_plugin(Path(name).expanduser())
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


def run_folder_plugin(run: Path) -> EmbedderPlugin:
    """The embedder of a training run folder (``spec.json``, ``model.json``, weights)."""
    try:
        spec = EmbedderSpec.from_dict(json.loads((run / "spec.json").read_text()))
        arch = json.loads((run / "model.json").read_text())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EmbedderError(f"{run} is not a training run folder: {exc}") from exc
    module, _, cls_name = arch["architecture"].partition(":")
    if not module.startswith("rtsim."):
        raise EmbedderError(f"{run}: architecture {arch['architecture']!r} is not rtsim's")
    cls = getattr(importlib.import_module(module), cls_name)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in arch["kwargs"].items()}

    def build(state):
        net = cls(**kwargs)
        net.load_state_dict(state)
        return net

    weights = run / "best.safetensors"
    if not weights.is_file():
        raise EmbedderError(f"{run}: no best.safetensors yet (has the run validated once?)")
    return EmbedderPlugin(spec=spec, build=build, weights=weights)


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
