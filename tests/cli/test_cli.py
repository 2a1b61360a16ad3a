"""The ``rtsim`` command as a user types it."""

import json
import os
import socket
import time

import numpy as np
import pytest

from tests.audio.virtual_capture import virtual_capture  # noqa: F401  (fixture)
from tests.commands import run
from tests.engine.helpers import write_clip
from tests.oscdump import OscDump, needs_oscdump, parse


def test_index_build_info_and_query(sample_folder, tmp_path):
    lib = tmp_path / "lib"
    r = run("rtsim", "index", "build", sample_folder, "--out", lib, "--no-progress",
            "--device", "cpu")
    assert r.returncode == 0, r.stderr
    assert "13 files" in r.stdout and "skipped 3 (unreadable or not audio)" in r.stdout
    assert "skipping bad/corrupt.wav" in r.stderr  # the warning names the file
    info = run("rtsim", "index", "info", lib)
    assert info.returncode == 0 and "sample (weights" in info.stdout  # the default embedder
    assert "skipped 4 (1 silent, 3 unreadable or not audio)" in info.stdout
    q = run("rtsim", "query", lib, sample_folder / "bell" / "bell_60.wav", "-k", "3",
            "--device", "cpu")
    assert q.returncode == 0, q.stderr
    first = q.stdout.splitlines()[1]
    assert "bell/bell_60" in first and "distance 0.0" in first
    long = run("rtsim", "query", lib, sample_folder / "long" / "phrase.flac", "--every", "3")
    assert long.returncode == 0 and long.stdout.count("@") >= 3


def test_building_over_a_library_needs_replace_or_update(sample_folder, tmp_path):
    lib, src = tmp_path / "lib", tmp_path / "src"
    (src / "pluck").mkdir(parents=True)
    for f in (sample_folder / "pluck").iterdir():
        (src / "pluck" / f.name).write_bytes(f.read_bytes())
    build = ("rtsim", "index", "build", src, "--out", lib, "--no-progress", "--device", "cpu",
             "--embedder", "pca")
    assert run(*build).returncode == 0
    r = run(*build)
    assert r.returncode == 2 and "already a library (3 items" in r.stderr
    assert "--replace" in r.stderr and "--update" in r.stderr
    r = run(*build, "--update")
    assert r.returncode == 0 and "3 files unchanged, 0 embedded, 0 removed" in r.stdout
    r = run(*build, "--replace")
    assert r.returncode == 0 and "the previous library is kept as" in r.stdout
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("lib.backup-")]) == 1
    r = run(*build, "--replace", "--update")
    assert r.returncode == 2 and "not allowed with" in r.stderr


def test_errors_exit_2_with_a_message(tmp_path):
    r = run("rtsim", "query", tmp_path / "missing-lib", tmp_path / "x.wav")
    assert r.returncode == 2 and "rtsim: error: library not found" in r.stderr
    r = run("rtsim", "index", "build", tmp_path / "nowhere", "--out", tmp_path / "lib")
    assert r.returncode == 2 and "audio folder not found" in r.stderr
    r = run("rtsim", "run", "--set", "osc.port=0")
    assert r.returncode == 2 and "port=0" in r.stderr
    for args, why in ((("run", "--duration", "-2"), "--duration: -2 must be > 0"),
                      (("run", "--duration", "nan"), "'nan' must be finite"),
                      (("run", "-k", "0"), "-k: 0 must be >= 1"),
                      (("index", "build", tmp_path, "--out", tmp_path / "l",
                        "--segment-max-s", "0"), "0 must be > 0")):
        r = run("rtsim", *args)
        assert r.returncode == 2 and why in r.stderr, (args, r.stderr)
    r = run("rtsim", "run", "--set", "engine.silence_db=nan", "--set", "osc.port=0")
    assert r.returncode == 2 and "silence_db=nan must be a finite number" in r.stderr
    assert "port=0" in r.stderr  # every error at once
    r = run("rtsim", "run", "--source", "live", "--input-device", "NoSuchInterface",
            "--library", tmp_path, "--no-zmq")
    assert r.returncode == 2 and "rtsim: error:" in r.stderr


def test_schema_prints_the_reference():
    from rtsim.publish.schema import render_reference

    r = run("rtsim", "schema")
    assert r.returncode == 0 and r.stdout == render_reference()


@needs_oscdump
def test_run_a_file_to_oscdump(tmp_path, one_shot_library):
    clip = write_clip(tmp_path / "c.wav", [(0.2, "marimba", 60)], seconds=1.5)
    dump = OscDump()
    try:
        r = run("rtsim", "run", "--input", clip, "--fast", "--library", one_shot_library,
                "--osc", f"127.0.0.1:{dump.port}", "--no-zmq", "--no-view", "--device", "cpu",
                "--save-config", tmp_path / "used.toml", "--set", "control.enabled=false")
        time.sleep(0.3)
        lines = [parse(x) for x in dump.drain()]
    finally:
        dump.close()
    assert r.returncode == 0, r.stderr
    assert "missed 0" in r.stdout
    names = [a[0] for _, addr, _, a in lines if addr == "/rtsim/pca/name/0"]
    assert names and names.count("marimba/marimba_60") >= len(names) // 2
    assert any(addr == "/rtsim/pca/trigger" for _, addr, _, _ in lines)
    assert 'path = "' in (tmp_path / "used.toml").read_text()


def test_devices_lists_the_virtual_capture(virtual_capture):  # noqa: F811
    name = virtual_capture(np.zeros(4800, np.float32), 1)
    r = run("rtsim", "devices", env={"HOME": os.environ["HOME"]})
    assert r.returncode == 0 and name in r.stdout


def test_demo_runs_on_embedded_defaults(tmp_path):
    """README's first command: render + index + stream (here 3 s, as fast as possible)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run("rtsim", "demo", "--fast", "--no-view", "--device", "cpu",
            "--zmq", f"tcp://127.0.0.1:{port}", "--osc", "127.0.0.1:9",
            "--set", "control.enabled=false",
            env={"RTSIM_CACHE": str(tmp_path)}, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "rtsim demo: 25 notes" in r.stdout and "missed 0" in r.stdout
    score = json.loads(next(tmp_path.glob("demo-v*/performance.json")).read_text())
    assert len(score) == 25
    hops = int(r.stdout.split("hops ")[-1].split(",")[0])
    # sample (a hop every 4 x 256 samples at 22.05 kHz) + timbre (20 hops/s), 30-s clip
    assert hops == pytest.approx(30 * (22050 / 1024 + 20), abs=15)
    for name in ("timbre", "sample"):
        assert (tmp_path / "demo-v1" / f"library-{name}" / "manifest.json").is_file()


def test_input_errors_are_reported_before_anything_heavy_loads(tmp_path):
    """A wrong path or option fails fast: no torch, FAISS, nnAudio or numba imported yet."""
    import subprocess
    import sys

    code = ("import sys; from rtsim.cli.main import main; rc = main(sys.argv[1:]); "
            "print(rc, sorted(m for m in ('torch', 'faiss', 'nnAudio', 'numba') "
            "if m in sys.modules))")
    nolib = tmp_path / "nolib"
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "manifest.json").write_text('{"format": 1, "count": 3}')
    cases = [["index", "build", tmp_path / "nowhere", "--out", tmp_path / "x"],
             ["index", "build", tmp_path, "--out", tmp_path / "lib"],   # would replace it
             ["index", "info", nolib], ["query", nolib, tmp_path / "x.wav"],
             ["run", "--library", nolib, "--no-view"],
             ["run", "--set", "osc.port=0", "--no-view"]]
    for args in cases:
        r = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                           text=True, timeout=60)
        assert r.stdout.strip() == "2 []", (args, r.stdout, r.stderr)
        assert "rtsim: error:" in r.stderr
