import json
import os
import shutil

import numpy as np
import pytest

from rtsim.audio.files import load_audio
from rtsim.embed import get
from rtsim.errors import LibraryError, LibraryMismatchError
from rtsim.index import IndexSpec, Library
from rtsim.index.build import BuildConfig, build_library, embed_windows, file_windows
from tests.conftest import FAMILIES, PITCHES


def test_build_reports_items_and_skips(pca_library):
    out, report = pca_library
    assert report.files_indexed == len(FAMILIES) * len(PITCHES) + 1
    assert report.skipped["unreadable or not audio"] == [
        "bad/corrupt.wav", "bad/empty.wav", "bad/notes.txt"]
    assert report.skipped["silent"] == ["bad/silence.wav"]
    m = json.loads((out / "manifest.json").read_text())
    assert m["source"]["skipped"] == {"unreadable or not audio": 3, "silent": 1}
    one_shots = len(FAMILIES) * len(PITCHES)
    long_items = m["count"] - one_shots  # the 12-s phrase of 8 notes: an item per attack
    assert 6 <= long_items <= 8
    assert 8 * one_shots < m["rows"] <= 8 * m["count"]  # up to 8 vectors per item


def test_round_trip_query_finds_each_one_shot(pca_library, sample_folder):
    out, _ = pca_library
    lib = Library.open(out)
    emb = lib.load_embedder(get("pca"))
    fe = emb.frontend()
    hits = 0
    for fam in FAMILIES:
        for midi in PITCHES:
            x, _ = load_audio(sample_folder / fam / f"{fam}_{midi}.wav", sr=16000)
            fw = file_windows(x, frontend=fe, window=4, hop=1, oneshot_max_s=5, silence_db=-60)
            v = embed_windows(emb, fw.windows, batch=64)
            for phase in (v[0], v[-1]):  # the attack and the last window are both indexed
                ids, dist = lib.search(phase, 3)
                assert dist[0] <= dist[1] <= dist[2] and len(set(ids)) == 3
                hits += lib.names[ids[0]] == f"{fam}/{fam}_{midi}" and dist[0] < 1e-2
    assert hits == 2 * len(FAMILIES) * len(PITCHES)  # the same sound finds itself


def test_long_file_items_have_offsets(pca_library):
    lib = Library.open(pca_library[0])
    long_ids = [i for i, n in enumerate(lib.names) if n.startswith("long/phrase@")]
    items = lib.items(long_ids)
    offsets = [it.offset_s for it in items]
    assert 6 <= len(items) <= 8 and offsets == sorted(offsets) and offsets[0] == 0.0
    assert sum(it.length_s for it in items) == pytest.approx(12.0, abs=0.01)  # tiles the file
    assert items[-1].offset_s < 12.0 and items[0].file == "long/phrase.flac"
    assert items[0].labels == {"folder": "long"}


def test_xyz_map_is_normalised(pca_library):
    lib = Library.open(pca_library[0])
    assert lib.xyz.shape == (lib.count, 3)
    assert 0.3 < np.abs(lib.xyz).max() <= 1.0  # items are means of their vectors' points
    np.testing.assert_allclose(lib.project(np.zeros(32, np.float32)),
                               lib.projection(np.zeros(32, np.float32)))


def test_library_for_another_embedder_is_refused(pca_library):
    from dataclasses import replace

    from rtsim.embed import EmbedderPlugin
    from rtsim.features import CQTSpec

    lib = Library.open(pca_library[0])
    pca = get("pca")
    aligned = EmbedderPlugin(spec=replace(pca.spec, frontend=CQTSpec()), build=pca.build,
                             fit=pca.fit)
    with pytest.raises(LibraryMismatchError, match=r"mode='low_latency' \(running: 'aligned'\)"):
        lib.load_embedder(aligned)
    other = EmbedderPlugin(spec=replace(pca.spec, name="timbre", dim=3), build=pca.build,
                           fit=pca.fit)
    with pytest.raises(LibraryMismatchError, match="embedder 'pca' \\(running: 'timbre'\\)"):
        lib.check(other.load(state=lib.embedder_state))


def test_changed_weights_are_refused(pca_library):
    lib = Library.open(pca_library[0])
    state = {k: v.clone() for k, v in lib.embedder_state.items()}
    state["mean"] += 0.01
    with pytest.raises(LibraryMismatchError, match="model changed"):
        lib.check(get("pca").load(state=state))


def test_bit_flip_is_detected(pca_library, tmp_path):
    lib_dir = tmp_path / "lib"
    shutil.copytree(pca_library[0], lib_dir)
    raw = bytearray((lib_dir / "index.faiss").read_bytes())
    raw[len(raw) // 2] ^= 0x10
    (lib_dir / "index.faiss").write_bytes(bytes(raw))
    with pytest.raises(LibraryError, match="index.faiss is corrupt"):
        Library.open(lib_dir)


def test_missing_and_foreign_folders(tmp_path):
    with pytest.raises(LibraryError, match="not found"):
        Library.open(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(LibraryError, match="not an rtsim library"):
        Library.open(tmp_path / "plain")


def test_empty_folder_writes_nothing(tmp_path, sample_folder):
    bad_only = tmp_path / "bad"
    shutil.copytree(sample_folder / "bad", bad_only)
    with pytest.raises(LibraryError,
                       match="no audio to index.*3 unreadable or not audio, 1 silent"):
        build_library(bad_only, tmp_path / "lib", plugin=get("pca"), progress=False)
    assert not (tmp_path / "lib").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_rebuild_replaces_atomically_and_refuses_foreign_folder(tmp_path, sample_folder):
    out = tmp_path / "lib"
    sub = tmp_path / "one"
    shutil.copytree(sample_folder / "pluck", sub / "pluck")
    build_library(sub, out, plugin=get("pca"), progress=False)
    assert Library.open(out).count == 3
    shutil.copytree(sample_folder / "organ", sub / "organ")
    build_library(sub, out, plugin=get("pca"), progress=False, existing="overwrite")
    assert Library.open(out).count == 6
    assert sorted(os.listdir(tmp_path)) == ["lib", "one"]  # no temporary left behind
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"jpg")
    with pytest.raises(LibraryError, match="not an rtsim library"):
        build_library(sub, foreign, plugin=get("pca"), progress=False)
    assert (foreign / "cat.jpg").exists()


def test_failure_midway_leaves_previous_library(tmp_path, sample_folder, monkeypatch):
    out = tmp_path / "lib"
    build_library(sample_folder / "pluck", out, plugin=get("pca"), progress=False)
    before = (out / "manifest.json").read_text()

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("rtsim.index.library.write_items", boom)
    with pytest.raises(LibraryError, match="could not write the library .*disk full"):
        build_library(sample_folder / "organ", out, plugin=get("pca"), progress=False,
                      existing="replace")
    assert (out / "manifest.json").read_text() == before
    assert Library.open(out).count == 3
    assert sorted(os.listdir(tmp_path)) == ["lib"]  # no backup of a build that failed


def test_build_options_are_validated():
    from rtsim.errors import ConfigError

    with pytest.raises(ConfigError, match="batch=0"):
        BuildConfig(batch=0)


def test_oneshot_vectors_keep_attack_and_end():
    from rtsim.index.build import oneshot_vectors

    v = np.arange(10, dtype=np.float32)[:, None] * np.ones((1, 4), np.float32)
    np.testing.assert_array_equal(oneshot_vectors(v, n=3, metric="l2")[:, 0], [0, 4, 9])
    np.testing.assert_array_equal(oneshot_vectors(v[:2], n=8, metric="l2")[:, 0], [0, 1])
    mean = oneshot_vectors(v, n=0, metric="cosine")
    assert mean.shape == (1, 4) and np.linalg.norm(mean) == pytest.approx(1.0)


def test_golden_self_test_catches_a_model_that_computes_differently(pca_library, monkeypatch):
    """Same declarations and weights hash, different computation: refused."""
    lib = Library.open(pca_library[0])
    emb = lib.load_embedder(get("pca"))
    assert len(lib.manifest.golden) == 32
    original = emb._forward
    monkeypatch.setattr(emb, "_forward", lambda x: original(x) * 1.01)
    with pytest.raises(LibraryMismatchError, match="self-test embedding differs"):
        lib.check(emb)


def test_a_disk_library_maps_its_vectors_and_answers_as_the_exact_one(tmp_path, sample_folder,
                                                                    capsys):
    from rtsim.cli.main import main

    flat = build_library(sample_folder, tmp_path / "flat", plugin=get("sample"), progress=False)
    disk = build_library(sample_folder, tmp_path / "disk", plugin=get("sample"), progress=False,
                         config=BuildConfig(index=IndexSpec(kind="auto", ram_max_mb=1,
                                                            exact_max=10)))
    assert (flat.manifest.index_kind, disk.manifest.index_kind) == ("flat", "hnsw")
    disk = build_library(sample_folder, tmp_path / "disk2", plugin=get("sample"), progress=False,
                         config=BuildConfig(index=IndexSpec(kind="disk")))
    assert disk.manifest.index_kind == "disk" and "vectors.npy" in disk.manifest.files
    a, b = Library.open(tmp_path / "flat"), Library.open(tmp_path / "disk2")
    assert isinstance(b.vectors(), np.memmap)
    np.testing.assert_allclose(a.vectors(), b.vectors(), atol=1e-6)
    for i in range(0, a.manifest.rows, 7):
        ia, da = a.search(a.vectors()[i], 3, unit=True)
        ib, db = b.search(b.vectors()[i], 3, unit=True)
        assert ib[0] == ia[0] and abs(db[0] - da[0]) < 1e-5
    (tmp_path / "disk2" / "vectors.npy").write_bytes(b"\x93NUMPY broken")
    with pytest.raises(LibraryError, match="corrupt"):
        Library.open(tmp_path / "disk2")
    with pytest.raises(LibraryError, match="cannot map vectors.npy"):
        Library.open(tmp_path / "disk2", verify=False)
    capsys.readouterr()
    assert main(["index", "info", str(tmp_path / "flat")]) == 0
    out = capsys.readouterr().out
    assert "flat (this one)" in out and "disk " in out and "RAM" in out
