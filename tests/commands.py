"""Run rtsim's installed commands as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def command(name: str) -> list[str]:
    """The installed console script (next to this Python), or its module."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    module = {"rtsim": "rtsim.cli.main", "rtsimd": "rtsim.daemons.rtsimd"}[name]
    return [sys.executable, "-m", module]


def run(name: str, *args: str, env: dict | None = None, timeout: float = 120,
        cwd=None) -> subprocess.CompletedProcess:
    """Run ``name args...`` to completion, capturing text output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*command(name), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)
