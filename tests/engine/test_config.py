import pytest

from rtsim.engine.config import RtsimConfig, apply_overrides, from_dict, load_config, to_toml
from rtsim.errors import ConfigError

TOML = """
[source]
kind = "live"
device = "Scarlett"
channels = [0, 1]

[[embedder]]
name = "pca"
library = "/libs/pca"
k = 8
channel = 1

[osc]
port = 9001
timetag = "immediate"

[onset]
threshold_db = -35
"""


def test_toml_file_and_defaults(tmp_path):
    p = tmp_path / "show.toml"
    p.write_text(TOML)
    cfg = load_config(p)
    assert cfg.source.kind == "live" and cfg.source.channels == (0, 1)
    assert cfg.embedder[0].k == 8 and cfg.embedder[0].channel == 1
    assert cfg.osc.port == 9001 and cfg.zmq.endpoint == "tcp://127.0.0.1:5556"
    assert cfg.onset.threshold_db == -35.0 and isinstance(cfg.onset.threshold_db, float)


def test_round_trip_through_toml(tmp_path):
    p = tmp_path / "show.toml"
    p.write_text(TOML)
    cfg = load_config(p)
    again = tmp_path / "again.toml"
    again.write_text(to_toml(cfg))
    assert load_config(again) == cfg


def test_overrides_and_patch(tmp_path):
    p = tmp_path / "show.toml"
    p.write_text(TOML)
    cfg = load_config(p, patch={"osc": {"host": "10.0.0.2"}},
                      overrides=["osc.port=9100", "embedder.0.k=3", "source.device=Focusrite"])
    assert (cfg.osc.host, cfg.osc.port, cfg.embedder[0].k) == ("10.0.0.2", 9100, 3)
    assert cfg.source.device == "Focusrite"
    with pytest.raises(ConfigError, match=r"no entry 5 \(there are 1: 0..0\)"):
        apply_overrides({"embedder": [{}]}, ["embedder.5.k=3"])
    with pytest.raises(ConfigError, match=r"embedder is a list of 1 table\(s\); say which entry, "
                                          r"e.g. embedder.0.update_divisor=-1"):
        apply_overrides({"embedder": [{}]}, ["embedder.update_divisor=-1"])
    with pytest.raises(ConfigError, match="must look like"):
        load_config(None, overrides=["nonsense"])


@pytest.mark.parametrize("data,match", [
    ({"osc": {"prot": 9000}}, r"unknown key\(s\) \['prot'\] in \[config.osc\]"),
    ({"osc": {"port": "nine"}}, "config.osc.port='nine' must be int"),
    ({"osc": {"port": 70000}}, "port=70000"),
    ({"embedder": [{"name": "pca", "library": "x", "k": 0}]}, "k=0"),
    ({"embedder": [{"name": "pca"}]}, "library= is required"),
    ({"engine": {"device": "tpu"}}, "device='tpu'"),
    ({"onset": {"min_gap_ms": -5}}, "min_gap_ms=-5"),
    ({"source": {"channels": "left"}}, "channels"),
])
def test_invalid_values_are_named(data, match):
    with pytest.raises(ConfigError, match=match):
        from_dict(data)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[osc\nport=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


def test_defaults_are_a_valid_config():
    assert from_dict({}) == RtsimConfig()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused_wherever_they_are(value):
    with pytest.raises(ConfigError, match=r"config.engine.silence_db=.* must be a finite number"):
        from_dict({"engine": {"silence_db": value}})
    with pytest.raises(ConfigError, match=r"config.onset.threshold_db=.* must be a finite"):
        from_dict({"onset": {"threshold_db": value}})


def test_every_error_of_a_config_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        from_dict({"engine": {"silence_db": float("nan")}, "osc": {"port": 0},
                   "zmq": {"colour": 1},
                   "embedder": [{"name": "pca", "library": "x", "k": "many"},
                                {"name": "timbre", "library": "y", "k": 99}]})
    lines = str(err.value).splitlines()
    assert len(lines) == 5, lines
    for want in ("silence_db=nan", "port=0", "['colour']", "embedder[0].k='many'", "k=99"):
        assert any(want in line for line in lines), want


def test_backends_and_search_are_checked_and_agree_with_the_embed_layer():
    from rtsim.embed.backends import BACKENDS as EMBED_BACKENDS
    from rtsim.engine.config import BACKENDS
    from rtsim.engine.settings import EngineConfig

    assert BACKENDS == EMBED_BACKENDS
    with pytest.raises(ConfigError, match="search='gpu' must be auto, faiss or torch"):
        EngineConfig(search="gpu")
    assert EngineConfig(search="torch").search == "torch"
