"""Corpora named in training configs: rendered on first use, then read from the cache.

A corpus is described by a small table, e.g. ``{kind = "notes", soundfont = "fluidr3",
seed = 0, size = 4000}``; :func:`ensure_corpus` returns its folder under
``$RTSIM_CACHE/corpora`` (rendering it, with progress, if it is not complete there), or
``path`` when the table names an existing folder (a real NSynth or Slakh2100 download).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rtsim.cache import cache_dir
from rtsim.errors import ConfigError

__all__ = ["corpus_name", "ensure_corpus", "ensure_corpora"]

_DEFAULTS = {"notes": {"sr": 16000, "seconds": 4.0}, "songs": {"sr": 22050, "seconds": 48.0}}


def corpus_name(spec: dict[str, Any]) -> str:
    """Folder name of a rendered corpus, e.g. ``notes-fluidr3-seed0-n4000``."""
    kind = spec.get("kind")
    if kind == "oneshots":
        return f"oneshots-{spec.get('soundfont', 'fluidr3')}-sr{spec.get('sr', 22050)}"
    if kind not in _DEFAULTS:
        raise ConfigError(f"corpus kind={kind!r} must be notes, songs or oneshots")
    d = {**_DEFAULTS[kind], **spec}
    name = f"{kind}-{d.get('soundfont', 'fluidr3')}-seed{d.get('seed', 0)}-n{d['size']}"
    extra = [f"sr{d['sr']}" if d["sr"] != _DEFAULTS[kind]["sr"] else "",
             f"s{d['seconds']:g}" if d["seconds"] != _DEFAULTS[kind]["seconds"] else "",
             "v{}-{}".format(*d["singers"]) if d.get("singers") else "",
             "bands" if d.get("bands") else ""]
    return "-".join([name, *[e for e in extra if e]])


def ensure_corpus(spec: dict[str, Any], *, progress: bool = True, workers: int = 2) -> Path:
    """The folder of the corpus ``spec`` describes (rendered now if needed)."""
    if "path" in spec:
        path = Path(spec["path"]).expanduser()
        if not path.is_dir():
            raise ConfigError(f"corpus path {path} does not exist")
        return path
    if spec.get("kind") == "oneshots":
        return _ensure_oneshots(spec, progress=progress, workers=workers)
    if "size" not in spec:
        raise ConfigError(f"corpus {spec} needs size= (or path=)")
    folder = cache_dir() / "corpora" / corpus_name(spec)
    if (folder / "render.json").is_file() and (
            spec["kind"] != "notes" or (folder / "examples.json").is_file()):
        return folder
    d = {**_DEFAULTS[spec["kind"]], **spec}
    common = dict(soundfont=d.get("soundfont"), seed=d.get("seed", 0), size=d["size"],
                  sr=d["sr"], seconds=d["seconds"], workers=workers, progress=progress)
    if spec["kind"] == "notes":
        from rtsim.training.data.notes import render_notes

        render_notes(folder, **common)
    else:
        from rtsim.training.data.songs import render_songs

        render_songs(folder, singers=spec.get("singers"), bands=spec.get("bands", False),
                     **common)
    return folder


def _ensure_oneshots(spec: dict[str, Any], *, progress: bool, workers: int) -> Path:
    from rtsim.training.data.oneshots import add_recordings, render_oneshots

    folder = cache_dir() / "corpora" / corpus_name(spec)
    sf = spec.get("soundfont", "fluidr3")
    if not (folder / "render.json").is_file():
        render_oneshots(folder, soundfont=sf, source=spec.get("source", sf),
                        sr=spec.get("sr", 22050), workers=workers, progress=progress)
    else:
        add_recordings(folder, soundfont=sf, source=spec.get("source", sf))
    return folder


def ensure_corpora(specs: dict[str, Any] | list[dict[str, Any]], *,
                   progress: bool = True) -> list[Path]:
    """The folders of one corpus table or a list of them (``[data] train``)."""
    return [ensure_corpus(s, progress=progress)
            for s in (specs if isinstance(specs, list) else [specs])]
