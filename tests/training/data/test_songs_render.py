import numpy as np
import pytest
import soundfile as sf
import yaml

from rtsim.errors import ConfigError
from rtsim.training.data.loaders import load_role, slakh_tracks
from rtsim.training.data.songs.track import TrackJob, make_track

from .conftest import needs_fluidsynth

pytestmark = needs_fluidsynth


def test_rendered_songs_read_back(rendered_songs):
    (track,) = slakh_tracks(rendered_songs)
    assert track.name == "Track00001" and track.split is None
    assert {"drums", "bass", "piano", "guitar"} <= track.roles
    lab = track.labels
    assert lab["seed"] == 5 and lab["index"] == 0 and lab["seconds"] == 6.0
    assert set(lab) >= {"genre", "mood", "instruments", "tempo_bpm", "key", "mode", "preset"}
    meta = yaml.safe_load((track.folder / "metadata.yaml").read_text())
    drums = [s for s in meta["stems"].values() if s["is_drum"]]
    assert drums == [dict(drums[0], inst_class="Drums", program_num=128)]
    info = sf.info(track.mix_path)
    assert info.samplerate == 22050 and info.channels == 1 and info.frames == 6 * 22050
    stems = sum(sf.read(s.path, dtype="float32")[0] for s in track.stems)
    mix = sf.read(track.mix_path, dtype="float32")[0]
    np.testing.assert_allclose(stems, mix, atol=len(track.stems) * 2**-15)
    assert 0.05 < np.abs(mix).max() <= 10 ** (-1 / 20) + 1e-3
    for role in ("drums", "bass", "piano", "guitar"):
        y = load_role(track, role, sr=16000)
        assert y.shape == (6 * 16000,) and np.sqrt(np.mean(y**2)) > 1e-3, role
    with pytest.raises(ConfigError, match="no rendered 'vocals'"):
        load_role(track, "vocals")


def test_song_render_is_deterministic(rendered_songs, soundfont, tmp_path):
    job = TrackJob(out=str(tmp_path), seed=5, index=0, seconds=6.0, sr=22050,
                   soundfont=soundfont, midi_only=False)
    again = tmp_path / "Track00001"
    assert make_track(job) == str(again)
    first = rendered_songs / "Track00001"
    for mid in ["all_src.mid", *(f"MIDI/{p.name}" for p in (first / "MIDI").iterdir())]:
        assert (first / mid).read_bytes() == (again / mid).read_bytes()
    a, b = sf.read(first / "mix.flac")[0], sf.read(again / "mix.flac")[0]
    np.testing.assert_allclose(a, b, atol=1e-3)
