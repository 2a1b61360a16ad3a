"""``rtsim bench SCENARIO``: run one scenario, print it, optionally write JSON and a PNG."""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys

from rtsim.errors import ConfigError

__all__ = ["SCENARIOS", "cmd_bench", "print_report"]

#: scenario -> module (each has ``run(args) -> Report``)
SCENARIOS = {
    "frontend": "rtsim.bench.scenarios.frontend",
    "embed": "rtsim.bench.scenarios.embed",
    "search": "rtsim.bench.scenarios.search",
    "publish": "rtsim.bench.scenarios.publish",
    "latency": "rtsim.bench.scenarios.latency",
    "event": "rtsim.bench.scenarios.event",
    "startup": "rtsim.bench.scenarios.startup",
    "soak": "rtsim.bench.scenarios.soak",
    "play": "rtsim.bench.scenarios.play",
    "view": "rtsim.bench.scenarios.view",
    "build": "rtsim.bench.scenarios.build",
    "disk": "rtsim.bench.scenarios.disk",
}


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the scenario ``args.scenario``."""
    if args.scenario not in SCENARIOS:
        raise ConfigError(f"unknown scenario {args.scenario!r}; known: {', '.join(SCENARIOS)}")
    from rtsim.features.device import limit_threads, resolve_device

    args.device = resolve_device(args.device)
    limit_threads(args.threads)
    report = importlib.import_module(SCENARIOS[args.scenario]).run(args)
    command = "rtsim " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if args.command_line \
        is None else args.command_line
    print_report(report)
    if args.json:
        report.write_json(args.json, command=command)
    if args.plot:
        from rtsim.bench.plot import plot_report

        plot_report(report, args.plot)
    return 0


def print_report(report) -> None:
    """A plain-text table of the report."""
    print(f"rtsim bench {report.scenario}")
    if report.stages:
        width = max(len(k) for k in report.stages)
        print(f"  {'stage':<{width}}  {'p50 ms':>9} {'p99 ms':>9} {'p99.9 ms':>9} {'n':>7}")
        for name, s in report.stages.items():
            print(f"  {name:<{width}}  {s['p50_ms']:9.3f} {s['p99_ms']:9.3f} "
                  f"{s.get('p999_ms', float('nan')):9.3f} {s.get('n', 0):7d}")
    for name, r in report.ratios.items():
        print(f"  ratio {name}: {r:.1f}x")
    if report.rows:
        keys = list(report.rows[0])
        print("  " + "  ".join(f"{k:>12}" for k in keys))
        for row in report.rows:
            print("  " + "  ".join(f"{_fmt(row.get(k)):>12}" for k in keys))
    for key, value in report.extra.items():
        if key != "cdf":
            print(f"  {key}: {value}")
    for note in report.notes:
        print(f"  note: {note}")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
