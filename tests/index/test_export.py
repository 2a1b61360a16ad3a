"""A library as FluCoMa datasets, CSV and JSON: layouts, values, one point per item."""

import csv
import json

import numpy as np
import pytest

from rtsim.errors import ConfigError
from rtsim.index import Library
from rtsim.index.export import export_library, flucoma_dataset, item_points
from tests.commands import run


def _check_flucoma_dataset(d: dict, *, strings: bool = False) -> None:
    """FluCoMa's reader (DataSet from_json) wants an object ``data`` and a number ``cols``;
    every row a list of at least ``cols`` numbers (a LabelSet: strings)."""
    assert set(d) == {"cols", "data"} and isinstance(d["cols"], int)
    assert isinstance(d["data"], dict) and d["data"]
    for key, row in d["data"].items():
        assert isinstance(key, str) and isinstance(row, list) and len(row) == d["cols"]
        assert all(isinstance(v, str) if strings else isinstance(v, float) for v in row)


def test_item_points_average_each_items_rows():
    v = np.array([[1, 0], [0, 1], [2, 2], [3, 3]], np.float32)
    owner = np.array([0, 0, 1, 2])
    np.testing.assert_allclose(item_points(v, owner, 3, metric="l2"),
                               [[0.5, 0.5], [2, 2], [3, 3]])
    unit = item_points(v, owner, 3, metric="cosine")
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-6)
    assert flucoma_dataset(["a"], np.ones((1, 2))) == {"cols": 2, "data": {"a": [1.0, 1.0]}}


def test_flucoma_export_is_a_dataset_and_labelset_of_every_item(tmp_path, one_shot_library):
    lib = Library.open(one_shot_library)
    paths = export_library(lib, tmp_path / "lib.json", fmt="flucoma")
    assert [p.name for p in paths] == ["lib.json", "lib-labels.json"]
    data, labels = (json.loads(p.read_text()) for p in paths)
    _check_flucoma_dataset(data)
    _check_flucoma_dataset(labels, strings=True)
    assert data["cols"] == lib.manifest.dim and len(data["data"]) == lib.count
    assert list(data["data"]) == list(labels["data"]) == [str(i) for i in range(lib.count)]
    items = lib.items(range(lib.count))
    assert [labels["data"][str(i)][0] for i in range(lib.count)] == [
        it.labels["folder"] for it in items]
    # the exported point of an item finds that item in the library
    for i in (0, 5, lib.count - 1):
        ids, _ = lib.search(np.array(data["data"][str(i)], np.float32), 1)
        assert ids[0] == i


def test_csv_and_json_list_files_and_map_positions(tmp_path, one_shot_library):
    lib = Library.open(one_shot_library)
    [c] = export_library(lib, tmp_path / "lib.csv", fmt="csv", what="xyz")
    rows = list(csv.DictReader(c.open()))
    assert len(rows) == lib.count and list(rows[0])[:9] == [
        "id", "name", "file", "offset_s", "length_s", "label", "x", "y", "z"]
    assert "v0" not in rows[0]
    for r in rows:
        i = int(r["id"])
        assert r["file"] == lib.files[i][0] and r["name"] == lib.names[i]
        np.testing.assert_allclose([float(r[a]) for a in "xyz"], lib.xyz[i], rtol=1e-5)
    [j] = export_library(lib, tmp_path / "lib.json", fmt="json")
    doc = json.loads(j.read_text())
    assert doc["embedder"] == "pca" and len(doc["items"]) == lib.count
    assert len(doc["items"][3]["vector"]) == lib.manifest.dim
    with pytest.raises(ConfigError, match="format='wav'"):
        export_library(lib, tmp_path / "x", fmt="wav")


def test_a_library_built_from_a_relative_folder_names_absolute_files(tmp_path, monkeypatch):
    """Receivers load matches by path: it must not depend on the build's working directory."""
    from pathlib import Path

    from rtsim.embed import get
    from rtsim.index.build import build_library
    from tests.conftest import write_samples

    write_samples(tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    build_library("samples", "lib", plugin=get("pca"), progress=False)
    monkeypatch.chdir("/")
    lib = Library.open(tmp_path / "lib")
    path = Path(lib.files[0][0])
    assert path.is_absolute() and path.is_file()


def test_cli_export(tmp_path, one_shot_library):
    r = run("rtsim", "index", "export", one_shot_library, tmp_path / "ds.json")
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and (tmp_path / "ds-labels.json").is_file()
    r = run("rtsim", "index", "export", tmp_path / "nope", tmp_path / "ds.json")
    assert r.returncode == 2 and "nope" in r.stderr
