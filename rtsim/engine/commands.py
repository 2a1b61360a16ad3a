"""What each control command means: checked off the hop path, applied between hops.

:class:`Commands` turns a command (an address of the schema's ``[control]`` table and its
arguments) into a closure that the engine runs between hops, after checking everything
that can be checked first: the arguments against the schema, the embedder, the value
against the pipeline (:class:`~rtsim.engine.pipeline.Pipeline`'s methods), publishers'
bundle layouts for a new k, paths inside ``control.roots``, a library against the
running embedder. A command that fails a check changes nothing. The network side (sockets,
rate limits, replies) is :mod:`rtsim.engine.control`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rtsim.errors import ConfigError, WireError
from rtsim.index.build import clip_vector

__all__ = ["Commands", "Answer", "ItemPage"]


@dataclass(frozen=True)
class ItemPage:
    """A page of an embedder's item table: ``(id, path, offset_s, length_s)`` rows."""

    embedder: str
    first: int
    total: int
    items: list[tuple[int, str, float, float]]


@dataclass(frozen=True)
class Answer:
    """A command answered at once, on the control thread (nothing to apply between hops).

    ``detail`` is the reply's text (a ping's token); ``page`` an item-table page.
    """

    detail: str = ""
    page: ItemPage | None = None


class Commands:
    """Check and prepare control commands for one engine.

    Parameters
    ----------
    engine : Engine
        Its pipelines, publishers and ``set_onset_thresholds``.
    roots : tuple of str
        Folders that paths in commands must lie inside (empty: the working directory).
    schema : Schema
    """

    def __init__(self, engine, *, roots: tuple[str, ...], schema) -> None:
        self.engine, self.roots, self.schema = engine, tuple(roots), schema

    def prepare(self, address: str, args: tuple):
        """The checked command: a closure to run between hops, or an :class:`Answer` now."""
        found = [(s, p) for s, p in self.schema.resolve(address) if s.direction == "in"]
        if not found:
            raise WireError(f"unknown control address {address[:80]!r}")
        spec, params = found[0]
        spec.check_args(args)
        if spec.key == "ping":
            return Answer(detail=str(args[0]))
        if spec.key == "trigger":
            return lambda: self.engine.set_onset_thresholds(float(args[0]), float(args[1]))
        pipeline = self._pipeline(params.get("embedder", ""))
        if spec.key == "weights":
            w = pipeline.check_weights(args)
            return lambda: pipeline.set_weights(w)
        if spec.key == "k":
            return self._set_k(pipeline, int(args[0]))
        if spec.key == "enable":
            return lambda: pipeline.set_enabled(bool(args[0]))
        if spec.key == "pin":
            return self._pin(pipeline, *args)
        if spec.key == "unpin":
            return self._unpin(pipeline, args[0])
        if spec.key == "library":
            return self._switch_library(pipeline, args[0])
        if spec.key == "reload":
            return self._reload_model(pipeline)
        if spec.key == "play":
            return self._play_mode(pipeline, args[0])
        if spec.key == "items":
            return Answer(page=item_page(pipeline, int(args[0]), int(args[1])))
        raise WireError(f"{address}: not supported by this engine yet")

    def _set_k(self, pipeline, k: int):
        """Matches per hop, and every publisher's layout for them (all checked here, first).

        A k whose worst-case OSC bundle cannot fit a datagram is refused, naming the
        largest k that fits; nothing changes then.
        """
        pipeline.check_k(k)
        layouts = []
        for pub in self.engine.publishers:
            if hasattr(pub, "layouts_for"):
                try:
                    layouts.append((pub, pub.layouts_for(pipeline.name, k)))
                except ConfigError as exc:
                    raise WireError(str(exc)) from exc

        def apply():
            pipeline.set_k(k)
            for pub, lay in layouts:
                pub.install(pipeline.name, lay)

        return apply

    def _play_mode(self, pipeline, mode: str):
        """The sampler's mode for ``pipeline`` (refused when no sampler runs)."""
        from rtsim.play.config import MODES

        samplers = [p for p in self.engine.publishers if hasattr(p, "set_mode")]
        if not samplers:
            raise WireError("the built-in sampler is off: enable [play] (rtsim run --play)")
        if mode not in MODES:
            raise WireError(f"play mode {mode!r} must be one of {', '.join(MODES)}")
        return lambda: samplers[0].set_mode(pipeline.name, mode)

    def _pipeline(self, name: str):
        for p in self.engine.pipelines:
            if p.name == name:
                return p
        raise WireError(f"unknown embedder {name!r}; running: "
                        f"{', '.join(p.name for p in self.engine.pipelines)}")

    def _pin(self, pipeline, subspace: str, path: str):
        idx = pipeline.subspace_index(subspace)
        clip = self._inside_roots(path)
        vector = clip_vector(pipeline.embedder, clip)  # off the hop path: this thread
        return lambda: pipeline.pin(idx, vector)

    def _unpin(self, pipeline, subspace: str):
        idx = None if subspace == "all" else pipeline.subspace_index(subspace)
        return lambda: pipeline.unpin(idx)

    def _switch_library(self, pipeline, path: str):
        """Load and check a library off the hop path; the swap itself runs between hops.

        Checks: every file's sha256, FAISS count equal to the item table, dimension and
        metric, the embedder it was built for (for fitted embedders, the library's own
        state, every weight finite) and the golden self-test embedding. On any failure the
        running library stays and the reason goes back to the sender.
        """
        from rtsim.embed import get
        from rtsim.index import Library

        folder = self._inside_roots(path, kind="dir")
        library = Library.open(folder)
        embedder = pipeline.embedder
        if get(pipeline.name).fitted:
            embedder = library.load_embedder(get(pipeline.name), device=str(embedder.device),
                                             backend=embedder.backend)
        else:
            library.check(embedder)
        hop = pipeline.prepare_library(library, embedder)
        return lambda: pipeline.swap(library=library, embedder=embedder, device_hop=hop)

    def _reload_model(self, pipeline):
        """Reload the model from its weights file and check it against the library."""
        from rtsim.embed import get

        plugin = get(pipeline.name)
        if plugin.fitted:
            raise WireError(f"{pipeline.name} is fitted on its library: switch the library")
        old = pipeline.embedder
        new = plugin.load(device=str(old.device), backend=old.backend)
        pipeline.library.check(new)
        hop = pipeline.hop_for(pipeline.library, new)
        return lambda: pipeline.swap(library=pipeline.library, embedder=new, device_hop=hop)

    def _inside_roots(self, path: str, *, kind: str = "file") -> Path:
        """Resolve ``path`` inside ``control.roots``; refuse anything that leaves them.

        An absolute path must lie inside a root; a relative one is tried under each root
        in turn. No ``..``; symlinks are resolved before the check, so a link pointing out
        of the roots is refused too. Errors name the roots.
        """
        roots = [Path(r).resolve() for r in self.roots] or [Path.cwd().resolve()]
        where = (f"control.roots = {[str(r) for r in roots]}" if self.roots
                 else f"control.roots (unset: the working directory {roots[0]})")
        p = Path(path)
        if not path or ".." in p.parts:
            raise WireError(f"path {path!r} must not be empty or contain '..'")
        for full in ([p.resolve()] if p.is_absolute() else [(r / p).resolve() for r in roots]):
            if not any(full.is_relative_to(r) for r in roots):
                raise WireError(f"path {path!r} lies outside {where}")
            if (full.is_file() if kind == "file" else full.is_dir()):
                return full
        raise WireError(f"no such {'file' if kind == 'file' else 'folder'}: {path!r} "
                        f"(looked inside {where})")



def item_page(pipeline, first: int, count: int) -> ItemPage:
    """Rows ``first .. first + count - 1`` of the pipeline's current library (read-only)."""
    files = pipeline.library.files
    ids = range(min(first, len(files)), min(first + count, len(files)))
    return ItemPage(pipeline.name, first, len(files), [(i, *files[i]) for i in ids])
