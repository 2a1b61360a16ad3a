"""``build_library``: libraries are never lost, audio is checked, long files are cut."""

import shutil

import numpy as np
import pytest
import soundfile as sf

from rtsim.embed import get
from rtsim.errors import LibraryError
from rtsim.index import Library
from rtsim.index.build import BuildConfig, build_library
from tests.conftest import SR


def _copy(src, dst, *names):
    for n in names:
        shutil.copytree(src / n, dst / n)
    return dst


def _vectors_by_name(lib):
    v = lib.vectors()
    return {n: v[lib.row_item == i] for i, n in enumerate(lib.names)}


def test_an_existing_library_is_refused_unless_asked(tmp_path, sample_folder):
    out = tmp_path / "lib"
    build_library(_copy(sample_folder, tmp_path / "a", "pluck", "organ"), out,
                  plugin=get("pca"), progress=False)
    before = (out / "manifest.json").read_text()
    one = _copy(sample_folder, tmp_path / "b", "bell")
    with pytest.raises(LibraryError, match=r"already a library \(6 items.*--replace.*--update"):
        build_library(one, out, plugin=get("pca"), progress=False)
    assert (out / "manifest.json").read_text() == before
    report = build_library(one, out, plugin=get("pca"), progress=False, existing="replace")
    assert Library.open(out).count == 3
    assert report.backup is not None and report.backup.parent == tmp_path
    assert report.backup.name.startswith("lib.backup-")
    assert (report.backup / "manifest.json").read_text() == before  # the old one, intact
    assert Library.open(report.backup).count == 6


def test_update_embeds_only_what_changed(tmp_path, sample_folder, monkeypatch):
    src = _copy(sample_folder, tmp_path / "src", "pluck", "organ", "marimba")
    out = tmp_path / "lib"
    build_library(src, out, plugin=get("pca"), progress=False)
    old = _vectors_by_name(Library.open(out))
    shutil.rmtree(src / "marimba")                                   # removed
    shutil.copytree(sample_folder / "bell", src / "bell")            # added
    changed = src / "organ" / "organ_60.wav"
    y, sr = sf.read(changed, dtype="float32")
    sf.write(changed, 0.5 * y[: len(y) // 2], sr)                    # changed
    import rtsim.index.build as build

    embedded = []
    real = build.embed_windows
    monkeypatch.setattr(build, "embed_windows",
                        lambda emb, w, batch: embedded.append(len(w)) or real(emb, w, batch=batch))
    report = build_library(src, out, plugin=get("pca"), progress=False, existing="update")
    assert (report.kept, report.files_indexed, report.removed) == (5, 9, 3)
    assert len(embedded) == 4                      # three bells and the changed organ note
    lib = Library.open(out)
    assert sorted(lib.names) == sorted(
        [f"{f}/{f}_{m}" for f in ("pluck", "organ", "bell") for m in (48, 60, 72)])
    new = _vectors_by_name(lib)
    np.testing.assert_array_equal(new["pluck/pluck_48"], old["pluck/pluck_48"])
    assert new["organ/organ_60"].shape != old["organ/organ_60"].shape or \
        not np.allclose(new["organ/organ_60"], old["organ/organ_60"])
    assert lib.manifest.source["update"] == {"kept": 5, "embedded": 4, "removed": 3}
    again = build_library(src, out, plugin=get("pca"), progress=False, existing="update")
    assert again.kept == 9 and len(embedded) == 4  # nothing changed: nothing embedded


def test_an_update_that_would_shrink_the_library_stops(tmp_path, sample_folder):
    src = _copy(sample_folder, tmp_path / "src", "pluck", "organ", "marimba")
    out = tmp_path / "lib"
    build_library(src, out, plugin=get("pca"), progress=False)
    for fam in ("organ", "marimba"):
        shutil.rmtree(src / fam)
    with pytest.raises(LibraryError, match="shrink .* from 9 files to 3 .*6 no longer found"):
        build_library(src, out, plugin=get("pca"), progress=False, existing="update")
    assert Library.open(out).count == 9
    build_library(src, out, plugin=get("pca"), progress=False, existing="replace")
    assert Library.open(out).count == 3


def test_update_with_another_embedder_is_refused(tmp_path, sample_folder):
    out = tmp_path / "lib"
    build_library(_copy(sample_folder, tmp_path / "src", "pluck"), out, plugin=get("pca"),
                  progress=False)
    with pytest.raises(LibraryError, match="cannot --update .* with timbre.*--replace"):
        build_library(tmp_path / "src", out, plugin=get("timbre"), progress=False,
                      existing="update")


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "OGG"])
def test_truncated_files_are_skipped_and_counted(tmp_path, sample_folder, fmt):
    src = _copy(sample_folder, tmp_path / "src", "pluck")
    y = np.sin(np.arange(4 * SR) * 0.05).astype(np.float32) * 0.3
    whole = tmp_path / f"whole.{fmt.lower()}"
    sf.write(whole, y, SR, format=fmt)
    data = whole.read_bytes()
    (src / f"cut.{fmt.lower()}").write_bytes(data[: len(data) * 3 // 4])
    report = build_library(src, tmp_path / "lib", plugin=get("pca"), progress=False)
    assert report.files_indexed == 3
    skipped = {f for files in report.skipped.values() for f in files}
    assert skipped == {f"cut.{fmt.lower()}"}
    if fmt == "WAV":  # libsndfile itself would read the first quarter without a word
        assert report.skipped == {"truncated": ["cut.wav"]}
    assert sum(report.manifest.source["skipped"].values()) == 1


def _hits(seconds: float, every: float) -> np.ndarray:
    """A drum loop: a decaying noise burst every ``every`` s."""
    rng = np.random.default_rng(0)
    y = np.zeros(int(seconds * SR), np.float32)
    hit = rng.normal(size=int(0.12 * SR)) * np.exp(-np.arange(int(0.12 * SR)) / (0.02 * SR))
    for t in np.arange(0, seconds - 0.2, every):
        y[int(t * SR): int(t * SR) + len(hit)] += 0.5 * hit.astype(np.float32)
    return y


def test_long_files_become_one_item_per_sound(tmp_path):
    from rtsim.demo.sounds import render_note

    src = tmp_path / "src"
    src.mkdir()
    sf.write(src / "held.wav", render_note("organ", midi=60, seconds=9.0, sr=SR), SR)
    sf.write(src / "loop.wav", _hits(9.0, 0.25), SR)
    build_library(src, tmp_path / "lib", plugin=get("pca"), progress=False)
    names = Library.open(tmp_path / "lib").names
    assert 1 <= sum(n.startswith("held@") for n in names) <= 2       # a held note: few items
    assert sum(n.startswith("loop@") for n in names) == 36           # a loop: one per hit
    build_library(src, tmp_path / "win", plugin=get("pca"), progress=False,
                  config=BuildConfig(segment="windows", max_items_per_file=1000))
    assert sum(n.startswith("held@") for n in Library.open(tmp_path / "win").names) > 100
    build_library(src, tmp_path / "cap", plugin=get("pca"), progress=False,
                  config=BuildConfig(max_items_per_file=10))
    assert sum(n.startswith("loop@") for n in Library.open(tmp_path / "cap").names) == 10


def test_segment_options_are_checked():
    from rtsim.errors import ConfigError

    for bad in ({"segment": "bars"}, {"segment_max_s": 0}, {"max_items_per_file": 0},
                {"silence_db": float("nan")}, {"oneshot_max_s": float("inf")}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            BuildConfig(**bad)
