"""Corpora named in training configs: cache folders, and old one-shot corpora upgraded."""

import pytest

from rtsim.training.corpora import corpus_name, ensure_corpus
from rtsim.training.data.oneshots import plan_oneshots, read_labels


def test_a_cached_oneshot_corpus_without_recordings_gets_them(tmp_path, monkeypatch):
    from rtsim.errors import ConfigError
    from rtsim.training.data.fluid import resolve_soundfont

    try:
        sf2 = resolve_soundfont("timgm6mb")
    except ConfigError as e:
        pytest.skip(str(e))
    monkeypatch.setenv("RTSIM_CACHE", str(tmp_path))
    spec = {"kind": "oneshots", "soundfont": "timgm6mb"}
    folder = tmp_path / "corpora" / corpus_name(spec)
    folder.mkdir(parents=True)
    (folder / "render.json").write_text("{}")  # rendered: no audio is rendered again
    kick = next(r for r in plan_oneshots(str(sf2), source="timgm6mb") if r["pitch"] == 36)
    (folder / "labels.csv").write_text(
        "path,label,kind,group,source,detail\n"
        f"audio/{kick['name']}.wav,kick,drum,{kick['group']},timgm6mb,kick\n")
    assert ensure_corpus(spec, progress=False) == folder
    assert read_labels(folder / "labels.csv")[0]["recording"] == "Bass Drum New"
    ensure_corpus(spec, progress=False)  # a second use leaves it as it is
    assert len(read_labels(folder / "labels.csv")) == 1
