"""``rtsim query LIB --genre A.wav --tempo B.wav``: each subspace from its own example."""

import numpy as np
import pytest

from rtsim.cli.main import main
from rtsim.index import Library
from rtsim.index.build import build_library, clip_vector


def test_query_by_several_examples(tmp_path, sample_folder, subspace_embedder, capsys):
    lib = tmp_path / "lib"
    build_library(sample_folder, lib, plugin=subspace_embedder, progress=False)
    a = sample_folder / "organ" / "organ_60.wav"
    b = sample_folder / "pluck" / "pluck_48.wav"
    assert main(["query", str(lib), "--genre", str(a), "--tempo", str(b), "-k", "3",
                 "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "genre=" in out and "tempo=" in out and "weights [1.0, 0.0, 0.0, 1.0]" in out
    # the same ranking as a search by hand with the two subspaces spliced together
    library = Library.open(lib)
    emb = library.load_embedder(subspace_embedder)
    q = np.zeros(32, np.float32)
    q[:8], q[24:] = clip_vector(emb, a)[:8], clip_vector(emb, b)[24:]
    ids, _ = library.search(q, 3, weights=np.array([1, 0, 0, 1], np.float32))
    first = out.splitlines()[1]
    assert library.names[ids[0]] in first


def test_query_errors(tmp_path, sample_folder, subspace_embedder, capsys):
    lib = tmp_path / "lib"
    build_library(sample_folder / "organ", lib, plugin=subspace_embedder, progress=False)
    a = str(sample_folder / "organ" / "organ_60.wav")
    assert main(["query", str(lib), "--example", f"colour={a}"]) == 2
    assert "no subspace ['colour']" in capsys.readouterr().err
    assert main(["query", str(lib), "--genre", a, "--weights", "0,0,0,0"]) == 2
    assert main(["query", str(lib)]) == 2
    assert "give an AUDIO" in capsys.readouterr().err


@pytest.mark.parametrize("weights", ["1,0,0,0", "0,0,1,1"])
def test_weights_flag(tmp_path, sample_folder, subspace_embedder, capsys, weights):
    lib = tmp_path / "lib"
    build_library(sample_folder / "bell", lib, plugin=subspace_embedder, progress=False)
    a = str(sample_folder / "bell" / "bell_60.wav")
    assert main(["query", str(lib), a, "--weights", weights, "-k", "1"]) == 0
    assert "bell/bell_60" in capsys.readouterr().out
