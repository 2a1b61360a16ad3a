import sys
import textwrap

import pytest

from rtsim.embed import registry
from rtsim.errors import EmbedderError


def test_unknown_embedder_lists_the_available_ones():
    with pytest.raises(EmbedderError, match=r"unknown embedder 'nope'; available: .*pca"):
        registry.get("nope")


def test_builtin_is_registered_once():
    assert registry.get("pca") is registry.get("pca")
    assert "pca" in registry.names()


def test_duplicate_name_is_an_error():
    pca = registry.get("pca")
    from dataclasses import replace

    with pytest.raises(EmbedderError, match="already registered"):
        registry.register(replace(pca))


def test_third_party_entry_point(tmp_path, monkeypatch):
    """A package declaring the rtsim.embedders group is found without code changes."""
    (tmp_path / "my_embedder.py").write_text(textwrap.dedent('''
        from dataclasses import replace
        from rtsim.embed.pca import plugin as _pca
        plugin = replace(_pca, spec=replace(_pca.spec, name="mine"))
    '''))
    dist = tmp_path / "my_embedder-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-embedder\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[rtsim.embedders]\nmine = my_embedder:plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))
    assert registry.get("mine").spec.name == "mine"
    assert "mine" in registry.names()
    sys.modules.pop("my_embedder", None)
