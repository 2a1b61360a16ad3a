"""One import name, the package-dir mapping, and lazy subcommand imports."""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
MAPPING = PYPROJECT["tool"]["setuptools"]["package-dir"]


def _packages_on_disk() -> set[str]:
    """Every folder with an ``__init__.py`` under a mapped root, by its import name."""
    return {
        ".".join((name, *init.parent.relative_to(ROOT / folder).parts))
        for name, folder in MAPPING.items()
        for init in (ROOT / folder).rglob("__init__.py")
    }


def test_every_package_folder_is_listed_and_vice_versa():
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]) == _packages_on_disk()


@pytest.mark.parametrize("name,folder", [(k, v) for k, v in MAPPING.items() if k != "rtsim"])
def test_mapped_folders_import_as_rtsim_subpackages(name, folder):
    mod = __import__(name, fromlist=["_"])
    assert Path(mod.__file__).resolve().parent == (ROOT / folder).resolve()


def test_no_generic_top_level_names_are_importable(tmp_path):
    code = ("import importlib.util, sys; names = ['models', 'training', 'daemons', "
            "'osc_schemas', 'bench']; "
            "print([n for n in names if importlib.util.find_spec(n)])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"


def test_wheel_holds_only_rtsim(tmp_path):
    src = tmp_path / "src"  # a copy, so that setuptools' build/ lands outside the checkout
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(src)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("rtsim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"rtsim", next(t for t in tops if t.endswith(".dist-info"))}
    assert "rtsim/osc_schemas/schema.toml" in names
    assert "rtsim/daemons/rtsimd.py" in names and "rtsim/bench/__init__.py" in names


def test_cli_imports_a_subcommand_only_when_it_runs(tmp_path):
    code = ("import sys; from rtsim.cli.main import main; rc = main(['schema']); "
            "heavy = [m for m in ('rtsim.training', 'rtsim.bench', 'torch', 'faiss') "
            "if m in sys.modules]; print(rc, heavy, file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, check=True)
    assert r.stderr.strip().splitlines()[-1] == "0 []"
