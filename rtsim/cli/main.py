"""The ``rtsim`` command line.

Each subcommand imports its code only when it runs, so ``rtsim run`` never pays for
training or benchmark imports.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rtsim import __version__
from rtsim.demo import DEMO_EMBEDDERS
from rtsim.index.manifest import INDEX_KINDS
from rtsim.play.config import MODES as PLAY_MODES

__all__ = ["main", "build_parser", "number"]


def number(kind: type = float, *, low: float | None = None, above: float | None = None):
    """An argparse ``type`` that reads a finite ``kind`` (int or float) within bounds.

    ``low``: smallest value accepted; ``above``: values must be greater than it. The
    error names the value and the range (``--duration -2: must be > 0``).
    """
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text!r} must be finite")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"{text} must be >= {low:g}")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"{text} must be > {above:g}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its own messages
    return parse


_COUNT = number(int, low=1)        # k, sizes, workers, steps...
_POS = number(float, above=0)      # durations
_NONNEG = number(float, low=0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    p = argparse.ArgumentParser(prog="rtsim", description="Real-time audio similarity host.")
    p.add_argument("--version", action="version", version=f"rtsim {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run the engine on live audio, a file or a test signal")
    run.add_argument("config", nargs="?", help="TOML config file (defaults when omitted)")
    _add_source_args(run)
    run.add_argument("--embedder", help="embedder name (with --library)")
    run.add_argument("--library", help="library folder built by `rtsim index build`")
    run.add_argument("-k", type=_COUNT, help="matches per hop")
    _add_output_args(run)
    run.add_argument("--save-config", metavar="PATH", help="write the effective config as TOML")
    run.set_defaults(func="rtsim.cli.commands:cmd_run")

    demo = sub.add_parser("demo", help="generate a demo library and clip, stream it live")
    demo.add_argument("--loop", action="store_true", help="loop the clip until interrupted")
    demo.add_argument("--fast", action="store_true", help="as fast as possible, not real time")
    demo.add_argument("--embedder", default=",".join(DEMO_EMBEDDERS),
                      help="embedders to demo, comma-separated (default: "
                      f"{','.join(DEMO_EMBEDDERS)})")
    demo.add_argument("--stems", action="store_true",
                      help="the stems demo: one stem embedder per input channel, plus the mix")
    _add_output_args(demo)
    demo.set_defaults(func="rtsim.cli.commands:cmd_demo")

    dev = sub.add_parser("devices", help="list audio input devices (PortAudio)")
    dev.set_defaults(func="rtsim.cli.commands:cmd_devices")

    schema = sub.add_parser("schema", help="print the OSC address space reference")
    schema.set_defaults(func="rtsim.cli.commands:cmd_schema")

    keys = sub.add_parser("keys", help="make CURVE certificates for the ZeroMQ control socket")
    keys.add_argument("out", type=Path, help="folder to create (server, client, clients/)")
    keys.add_argument("--clients", type=_COUNT, default=1, help="client certificates to make")
    keys.set_defaults(func="rtsim.cli.commands:cmd_keys")

    index = sub.add_parser("index", help="build and inspect sample libraries")
    isub = index.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    build = isub.add_parser("build", help="index every audio file under a folder")
    build.add_argument("folder")
    build.add_argument("--embedder", default="sample",
                       help="embedder name or run folder (default: sample, the general "
                       "one-shot embedder)")
    build.add_argument("--out", required=True, help="library folder to write")
    build.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    build.add_argument("--index", default="auto", choices=INDEX_KINDS,
                       help="index kind (default auto: flat up to 50 000 vectors, hnsw above, "
                       "disk when the vectors pass --ram-max-mb)")
    build.add_argument("--ram-max-mb", type=_COUNT, default=4096,
                       help="--index auto: above this many MiB of vectors, keep 8-bit codes "
                       "in memory and the vectors on disk (kind disk; default 4096)")
    build.add_argument("--oneshot-max-s", type=_NONNEG, default=5.0,
                       help="files up to this long are one item each (default 5)")
    build.add_argument("--oneshot-vectors", type=number(int, low=0), default=8,
                       help="vectors kept per item, attack to decay (default 8; 0: their "
                       "mean); fewer make a smaller library")
    build.add_argument("--segment", default="onsets", choices=("onsets", "windows"),
                       help="longer files: one item per sound, cut at onsets (default), or "
                       "one per model window (for mosaicing)")
    build.add_argument("--segment-max-s", type=_POS, default=5.0,
                       help="longest item cut from a longer file (default 5)")
    build.add_argument("--max-items-per-file", type=_COUNT, default=200,
                       help="most items one file gives (default 200)")
    again = build.add_mutually_exclusive_group()
    again.add_argument("--replace", action="store_true",
                       help="rebuild an existing library at --out (the old one is kept as "
                       "OUT.backup-<time> beside it)")
    again.add_argument("--update", action="store_true",
                       help="update an existing library at --out: embed new and changed files, "
                       "keep unchanged ones, drop removed ones")
    build.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                       help="decode and embed on a Ray cluster (HOST:PORT of its head, 'auto'; "
                       "no ADDRESS: a Ray instance on this machine); needs rtsim[ray]")
    build.add_argument("--files-per-task", type=_COUNT, default=32,
                       help="--ray: files per Ray task, the unit a dead worker's retry re-runs")
    build.add_argument("--ray-gpus", type=_NONNEG, default=0.0,
                       help="--ray: GPUs per task (default 0: CPU workers)")
    build.add_argument("--no-progress", action="store_true")
    build.set_defaults(func="rtsim.cli.commands:cmd_index_build")
    info = isub.add_parser("info", help="describe a library")
    info.add_argument("library")
    info.set_defaults(func="rtsim.cli.commands:cmd_index_info")
    export = isub.add_parser("export", help="write a library for other tools: FluCoMa "
                             "DataSet + LabelSet JSON, CSV or JSON")
    export.add_argument("library")
    export.add_argument("out", help="file to write (flucoma: also OUT-labels.json)")
    export.add_argument("--format", default="flucoma", choices=("flucoma", "csv", "json"))
    export.add_argument("--what", default="vectors", choices=("vectors", "xyz"),
                        help="one point per item: its mean vector, or its 3-D map position")
    export.set_defaults(func="rtsim.cli.commands:cmd_index_export")

    query = sub.add_parser("query", help="offline top-k matches for an audio file, or for "
                           "several examples, one per subspace")
    query.add_argument("library")
    query.add_argument("audio", nargs="?", help="the query (optional with examples)")
    for dim in ("genre", "mood", "instrument", "tempo"):
        query.add_argument(f"--{dim}", metavar="AUDIO",
                           help=f"take the {dim} subspace from this example")
    query.add_argument("--example", action="append", default=[], metavar="SUBSPACE=AUDIO",
                       help="take any named subspace from an example")
    query.add_argument("--weights", help="subspace weights, comma-separated")
    query.add_argument("-k", type=_COUNT, default=5)
    query.add_argument("--every", type=_POS, default=1.0,
                       help="long files: report one window every this many seconds")
    query.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    query.set_defaults(func="rtsim.cli.commands:cmd_query")

    view = sub.add_parser("view", help="a library's 3-D map in the browser, following a "
                          "running engine's ZeroMQ stream (--connect) or alone")
    view.add_argument("library")
    view.add_argument("--connect", metavar="ENDPOINT",
                      help="the engine's [zmq] endpoint, e.g. tcp://127.0.0.1:5556 "
                      "(default: show the library alone)")
    view.add_argument("--host", default="127.0.0.1", help="address to serve on")
    view.add_argument("--port", type=number(int, low=0), default=8765,
                      help="port to serve on (0: any free one)")
    view.set_defaults(func="rtsim.cli.commands:cmd_view")
    data = sub.add_parser("data", help="render training corpora")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    render = dsub.add_parser("render", help="render NSynth-like notes, Slakh-like songs, or a "
                             "soundfont's drum kits and notes as labelled one-shots")
    render.add_argument("kind", choices=("notes", "songs", "oneshots"))
    render.add_argument("out")
    render.add_argument("--soundfont", help="path, or fluidr3 (default) | timgm6mb | musescore "
                        "| csound | opl3 (FM); oneshots also avl (recorded acoustic drum kits), "
                        "drumsynth (LMMS's DrumSynth presets) and stk (STK's recorded drum hits)")
    render.add_argument("--seed", type=number(int, low=0), default=0)
    render.add_argument("--size", type=_COUNT, help="notes (default 1000) or pieces (default 100)")
    render.add_argument("--workers", type=_COUNT, default=2)
    render.add_argument("--sr", type=_COUNT, help="default: notes 16000, songs 22050")
    render.add_argument("--seconds", type=_POS, help="default: notes 4, songs 64")
    render.add_argument("--midi-only", action="store_true", help="songs: MIDI and labels only")
    render.add_argument("--singers", metavar="LO:HI",
                        help="songs: add a sung vocal stem, singers drawn from the catalogue's "
                        "LO..HI-1 (festival and espeak-ng voices)")
    render.add_argument("--bands", action="store_true",
                        help="songs with --singers: each singer's own band plays its pieces "
                        "(programs, tempo, keys)")
    render.add_argument("--no-progress", action="store_true")
    render.add_argument("--source", help="oneshots: source name in labels.csv (default: "
                        "the soundfont's)")
    render.set_defaults(func="rtsim.training.data.cli:cmd_render")
    label = dsub.add_parser("label", help="write the labels CSV of a package of recorded "
                            "samples (sonic-pi, lmms, exadrums, chuck, kivy)")
    label.add_argument("package", choices=("sonic-pi", "lmms", "exadrums", "chuck", "kivy"))
    label.add_argument("out", help="CSV to write")
    label.add_argument("--root", help="the package's sample folder (default: Debian's)")
    label.set_defaults(func="rtsim.training.data.cli:cmd_label")

    tr = sub.add_parser("train", help="train an embedder from a TOML config")
    tr.add_argument("config", help="e.g. models/timbre/train.toml")
    tr.add_argument("--out", help="run folder (default runs/<task>-<time>)")
    tr.add_argument("--resume", action="store_true", help="continue the run in --out")
    tr.add_argument("--steps", type=_COUNT, help="override [train] steps")
    tr.add_argument("--max-minutes", type=_POS, help="override [train] max_minutes")
    tr.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override [train] device")
    tr.add_argument("--leave-out", metavar="SOURCE",
                    help="override [data] leave_out: train without one source (sample task)")
    tr.add_argument("--no-progress", action="store_true")
    tr.set_defaults(func="rtsim.training.cli:cmd_train")

    ev = sub.add_parser("eval", help="the papers' evaluation protocols, with baselines")
    ev.add_argument("protocol", choices=("timbre", "stems", "disentangled", "song2vec",
                                         "vocal", "samples"))
    ev.add_argument("folder", nargs="?", help="samples: the labelled folder of sounds")
    ev.add_argument("--embedder", action="append", help="name(s) or run folder(s), "
                    "comma-separated or repeated (default: the shipped models; samples: "
                    "sample and timbre)")
    ev.add_argument("--labels", help="samples: CSV 'path,<label columns>...' (paths relative "
                    "to the folder)")
    ev.add_argument("--label", default="label", help="samples: the column to predict")
    ev.add_argument("--group", help="samples: the column whose value a query never sees of "
                    "itself (kit, instrument, pack)")
    ev.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                    help="samples: keep only rows where COLUMN equals VALUE, or with "
                    "COLUMN!=VALUE differs from it (repeatable)")
    ev.add_argument("--hide", metavar="COLUMN", help="samples: also hide from each query "
                    "the rows that share its recording, named in COLUMN ('|'-separated; "
                    "e.g. recording, which rendered one-shot corpora carry)")
    ev.add_argument("-k", type=_COUNT, default=5, help="samples: neighbours that vote")
    ev.add_argument("--config", help="training config naming the held-out corpus")
    ev.add_argument("--out", help="folder for results.json and figures")
    ev.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ev.add_argument("--no-progress", action="store_true")
    ev.set_defaults(func="rtsim.training.eval.cli:cmd_eval")

    bench = sub.add_parser("bench", help="measure latency and throughput, side by side")
    bench.add_argument("scenario",
                       help="frontend | embed | search | publish | latency | event | startup "
                       "| soak | play | view | build | disk")
    bench.add_argument("--json", metavar="PATH", help="write the results as JSON")
    bench.add_argument("--plot", metavar="PATH", help="write a PNG figure")
    bench.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    bench.add_argument("--quick", action="store_true", help="small sizes (CI: cannot rot)")
    bench.add_argument("--threads", type=_COUNT, default=1, help="torch/FAISS threads (default 1)")
    bench.add_argument("--repeats", type=_COUNT, help="timed calls per implementation")
    bench.add_argument("--sizes", help="search/disk: library sizes, e.g. 1e4,1e5,1e6")
    bench.add_argument("--dims", help="search/disk: dimensions, e.g. 3,64,128,256")
    bench.add_argument("--indexes", help="search: approximate kinds, e.g. hnsw,ivf,ivfpq,kdtree "
                       "(default all; exact flat always runs as the reference)")
    bench.add_argument("--seconds", type=_POS, help="latency/event: seconds of audio")
    bench.add_argument("--minutes", type=_POS, help="soak: minutes to run")
    bench.add_argument("--library-size", type=number(float, low=1),
                       help="latency: vectors in the library")
    bench.add_argument("--embedders", help="embed/latency: comma-separated embedder names")
    bench.add_argument("--source", default="file", choices=("file", "live"),
                       help="latency/event: paced file, or the virtual ALSA device")
    bench.add_argument("--busy", action="store_true",
                       help="latency: keep the other core busy during the run")
    bench.add_argument("--stability", type=number(float, low=0), default=0.0,
                       help="event: also run with this [[embedder]] stability, side by side")
    bench.add_argument("--update-divisor", type=_COUNT, default=1,
                       help="latency/event: embeddings per trained frame (1, 2 or 4)")
    bench.add_argument("--backend", default="eager",
                       help="latency/event/soak: inference backend, one for all (eager | "
                       "torchscript | compile | cudagraph) or per embedder, e.g. "
                       "timbre=torchscript,disentangled=compile (others eager)")
    bench.add_argument("--backends", help="embed: backends to compare, e.g. eager,cudagraph "
                       "(default all; --quick: eager,torchscript)")
    bench.add_argument("--search", default="auto", choices=("auto", "faiss", "torch"),
                       help="latency: who searches the libraries ([engine] search)")
    bench.add_argument("--switch-interval-ms", type=number(float, low=0.05),
                       help="latency: [engine] switch_interval_ms (default 0.5)")
    bench.add_argument("--index", choices=("auto", "flat", "hnsw", "ivf"), default="auto",
                       help="latency: index kind of the bench libraries (flat builds fastest)")
    bench.add_argument("--profile", metavar="PATH", help="latency: profile the engine thread "
                       "(cProfile) and write its 40 costliest functions by own time to PATH")
    bench.add_argument("--files", type=_COUNT, help="build: synthetic one-shots to index")
    bench.add_argument("--workers", help="build: Ray worker counts, e.g. 1,2 (default 1..cores)")
    bench.add_argument("--voices", help="play: voice counts, e.g. 1,8,32")
    bench.add_argument("--blocks", help="play: output blocks (frames), e.g. 64,128,256")
    bench.add_argument("--play-device", help="play: output device (default: clock, the "
                       "software-paced output without a sound card)")
    bench.set_defaults(func="rtsim.bench.cli:cmd_bench", command_line=None)
    return p


def _add_source_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input")
    g.add_argument("--source", choices=("live", "file", "synth"))
    g.add_argument("--input", metavar="PATH", help="audio file (implies --source file)")
    g.add_argument("--input-device", metavar="DEV", help="device index or name substring")
    g.add_argument("--channels", help="comma-separated input channels, e.g. 0,1")
    g.add_argument("--rate", type=_COUNT, help="capture rate (Hz); default: the device's")
    g.add_argument("--block", type=_COUNT, help="frames per audio block")
    g.add_argument("--signal", help="synth signal, e.g. sine:440, bursts:440,880:0.5")
    g.add_argument("--loop", action="store_true", help="loop the file")
    g.add_argument("--fast", action="store_true", help="file/synth as fast as possible")


def _add_output_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output and engine")
    g.add_argument("--osc", metavar="HOST:PORT", help="OSC destination (default 127.0.0.1:9000)")
    g.add_argument("--no-osc", action="store_true")
    g.add_argument("--zmq", metavar="ENDPOINT", help="ZeroMQ PUB bind (tcp://127.0.0.1:5556)")
    g.add_argument("--no-zmq", action="store_true")
    g.add_argument("--device", choices=("auto", "cpu", "cuda"), help="compute device")
    g.add_argument("--duration", type=_POS, help="stop after this many seconds")
    g.add_argument("--no-view", action="store_true", help="status lines instead of the live view")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config field, e.g. --set onset.threshold_db=-35")
    g = p.add_argument_group("hear it (the built-in sampler, [play])")
    g.add_argument("--play", action="store_true",
                   help="play the matched samples on the default output (or [play] device)")
    g.add_argument("--play-to", metavar="WAV",
                   help="render what would play into a WAV file instead (exactly timed)")
    g.add_argument("--play-mode", choices=PLAY_MODES,
                   help="trigger: each onset plays its match; follow: cross-fade to every "
                   "hop's best match (mosaicing)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``rtsim``."""
    args = build_parser().parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("faiss.loader").setLevel(max(level, logging.WARNING))
    module, _, name = args.func.partition(":")
    import importlib

    from rtsim.errors import RtsimError

    try:
        return int(getattr(importlib.import_module(module), name)(args) or 0)
    except RtsimError as exc:
        print(f"rtsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
