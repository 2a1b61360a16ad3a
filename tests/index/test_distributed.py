"""``rtsim index build --ray``: on a local Ray cluster (a head and a worker node on
loopback, started here), the distributed build is the local one, and a worker killed
in the middle loses nothing."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from rtsim.embed import get
from rtsim.index import Library
from rtsim.index.build import build_library
from tests.conftest import SR

ray = pytest.importorskip("ray")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``HOST:PORT`` of a Ray head (1 CPU) with one worker node (1 CPU), loopback only."""
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    tmp = tmp_path_factory.mktemp("ray")
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port",
                    str(port), "--include-dashboard", "false", "--temp-dir", str(tmp), *common],
                   check=True, env=env, capture_output=True)
    address = f"127.0.0.1:{port}"
    try:
        subprocess.run([RAY, "start", "--address", address, "--node-ip-address", "127.0.0.1",
                        *common], check=True, env=env, capture_output=True)
        os.environ["RAY_AUTH_MODE"] = "disabled"
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True)


def _runner(address, **kw):
    from rtsim.index.distributed import ray_runner

    return ray_runner(address, **kw)


def _same(a: Path, b: Path) -> None:
    la, lb = Library.open(a), Library.open(b)
    assert [(i.name, i.file, i.offset_s) for i in la.all_items()] == \
        [(i.name, i.file, i.offset_s) for i in lb.all_items()]
    np.testing.assert_array_equal(la.row_item, lb.row_item)
    np.testing.assert_allclose(la.vectors(), lb.vectors(), atol=1e-5)
    assert la.manifest.source == lb.manifest.source  # files found, indexed, skipped by reason


@pytest.mark.parametrize("embedder", ["sample", "pca"])
def test_distributed_build_is_the_local_build(cluster, tmp_path, sample_folder, embedder):
    local = build_library(sample_folder, tmp_path / "local", plugin=get(embedder),
                          progress=False)
    dist = build_library(sample_folder, tmp_path / "ray", plugin=get(embedder), progress=False,
                         runner=_runner(cluster, files_per_task=3))
    assert dist.skipped == local.skipped and dist.n_skipped == 4  # the four bad files
    assert dist.files_indexed == local.files_indexed == 13
    _same(tmp_path / "local", tmp_path / "ray")
    if embedder == "pca":  # fitted on the same windows as the local build
        from rtsim.index.library import STATE

        a, b = (sf_read(tmp_path / d / STATE) for d in ("local", "ray"))
        for k in a:
            np.testing.assert_allclose(a[k], b[k], atol=1e-5)


def sf_read(path):
    from safetensors.numpy import load_file

    return load_file(str(path))


def test_a_worker_killed_mid_build_loses_nothing(cluster, tmp_path, sample_folder):
    src = tmp_path / "many"
    src.mkdir()
    files = sorted(p for p in sample_folder.rglob("*.wav") if "bad" not in p.parts)
    for i in range(4):
        for p in files:
            y, _ = sf.read(p, dtype="float32")
            sf.write(src / f"{i}_{p.name}", y * (1 - 0.1 * i), SR)
    killed: list[int] = []
    stop = threading.Event()

    def killer():  # SIGKILL the first Ray worker process seen running a batch
        while not stop.is_set() and not killed:
            ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True)
            for line in ps.stdout.splitlines():
                if "ray::_work" in line and "ps -eo" not in line:
                    pid = int(line.split()[0])
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.01)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    try:
        report = build_library(src, tmp_path / "ray", plugin=get("sample"), progress=False,
                               runner=_runner(cluster, files_per_task=2))
    finally:
        stop.set()
        t.join()
    assert killed, "no Ray task was seen running"
    assert report.files_indexed == len(files) * 4 and report.n_skipped == 0
    build_library(src, tmp_path / "local", plugin=get("sample"), progress=False)
    _same(tmp_path / "local", tmp_path / "ray")


def test_a_file_that_kills_every_worker_is_skipped_and_counted(cluster, tmp_path, sample_folder):
    from rtsim.index.distributed import CRASH_ENV, CRASHED

    if ray.is_initialized():
        ray.shutdown()
    bad = "pluck/pluck_60.wav"
    ray.init(address=cluster, runtime_env={"env_vars": {CRASH_ENV: bad}},
             log_to_driver=False)
    try:
        report = build_library(sample_folder, tmp_path / "lib", plugin=get("sample"),
                               progress=False, runner=_runner(cluster, files_per_task=4,
                                                              max_retries=1))
    finally:
        ray.shutdown()
    assert report.skipped[CRASHED] == [bad]
    assert report.files_indexed == 12  # the other 11 one-shots and the long file
    lib = Library.open(tmp_path / "lib")
    assert bad not in {i.file for i in lib.all_items()}
    assert lib.manifest.source["skipped"][CRASHED] == 1


def test_an_unreachable_cluster_is_a_clear_error(tmp_path, sample_folder):
    from rtsim.errors import ConfigError

    if ray.is_initialized():
        ray.shutdown()
    with pytest.raises(ConfigError, match="cannot reach the Ray cluster at '127.0.0.1:9'"):
        build_library(sample_folder, tmp_path / "x", plugin=get("sample"), progress=False,
                      runner=_runner("127.0.0.1:9"))
    assert not (tmp_path / "x").exists()


def test_cli_ray_flag(cluster, tmp_path, sample_folder, capsys):
    from rtsim.cli.main import main

    one = tmp_path / "one"
    shutil.copytree(sample_folder / "bell", one)
    assert main(["index", "build", str(one), "--out", str(tmp_path / "lib"), "--ray", cluster,
                 "--files-per-task", "1", "--oneshot-vectors", "0", "--no-progress",
                 "--device", "cpu"]) == 0
    assert "3 items (3 vectors" in capsys.readouterr().out
    assert Library.open(tmp_path / "lib").count == 3
