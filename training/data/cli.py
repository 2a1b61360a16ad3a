"""``rtsim data render notes|songs|oneshots OUT`` and ``rtsim data label PACKAGE CSV``."""

from __future__ import annotations

import argparse
import time

from rtsim.errors import ConfigError

__all__ = ["DEFAULT_SR", "cmd_render", "cmd_label"]

DEFAULT_SR = {"notes": 16000, "songs": 22050}
DEFAULT_SIZE = {"notes": 1000, "songs": 100}
DEFAULT_SECONDS = {"notes": 4.0, "songs": 64.0}


def cmd_render(args: argparse.Namespace) -> int:
    """Render a corpus as ``args`` say.

    Reads ``kind`` (``"notes"`` or ``"songs"``), ``out``, and the optional ``soundfont``
    (path or short name), ``seed``, ``size``, ``workers``, ``sr``, ``seconds``,
    ``midi_only``, ``singers`` and ``bands`` (songs) and ``no_progress``; options left None
    take the kind's defaults (notes: 1000 × 4 s at 16 kHz; songs: 100 × 64 s at 22.05 kHz).
    """
    kind = getattr(args, "kind", None)
    if kind == "oneshots":
        return _render_oneshots(args)
    if kind not in DEFAULT_SR:
        raise ConfigError(f"render kind={kind!r} must be 'notes', 'songs' or 'oneshots'")

    def opt(name: str, default):
        value = getattr(args, name, None)
        return default if value is None else value

    common = dict(soundfont=opt("soundfont", None), seed=opt("seed", 0),
                  size=opt("size", DEFAULT_SIZE[kind]), sr=opt("sr", DEFAULT_SR[kind]),
                  seconds=opt("seconds", DEFAULT_SECONDS[kind]), workers=opt("workers", 2),
                  progress=not opt("no_progress", False))
    start = time.perf_counter()
    if kind == "notes":
        from rtsim.training.data.notes import render_notes

        out = render_notes(args.out, **common)
    else:
        from rtsim.training.data.songs.render import render_songs

        out = render_songs(args.out, midi_only=opt("midi_only", False),
                           singers=_singers(opt("singers", None)),
                           bands=opt("bands", False), **common)
    print(f"{out}: {common['size']} {kind} of {common['seconds']:g} s at {common['sr']} Hz "
          f"in {time.perf_counter() - start:.1f} s")
    return 0


def _singers(text: str | None) -> tuple[int, int] | None:
    """``--singers LO:HI`` as ``(lo, hi)``."""
    if text is None:
        return None
    lo, sep, hi = text.partition(":")
    if not sep or not lo.strip().isdigit() or not hi.strip().isdigit():
        raise ConfigError(f"--singers {text!r} must be LO:HI (catalogue numbers, e.g. 0:64)")
    return int(lo), int(hi)


def _render_oneshots(args: argparse.Namespace) -> int:
    from rtsim.training.data.oneshots import render_oneshots

    sf = getattr(args, "soundfont", None) or "fluidr3"
    start = time.perf_counter()
    out = render_oneshots(args.out, soundfont=sf, source=getattr(args, "source", None) or sf,
                          sr=getattr(args, "sr", None) or 22050,
                          workers=getattr(args, "workers", None) or 2,
                          progress=not getattr(args, "no_progress", False))
    n = sum(1 for _ in open(out / "labels.csv", encoding="utf-8")) - 1
    print(f"{out}: {n} one-shots (drum hits and notes) in {time.perf_counter() - start:.1f} s; "
          f"labels in {out / 'labels.csv'}")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    """Write the labels CSV of a package of recorded samples (absolute paths)."""
    from rtsim.training.data.loaders.packaged import packaged_rows
    from rtsim.training.data.oneshots import write_labels

    rows = packaged_rows(args.package, args.root)
    write_labels(args.out, rows)
    print(f"{args.out}: {len(rows)} samples of {args.package} "
          f"(evaluate: rtsim eval samples / --labels {args.out} --group group)")
    return 0
