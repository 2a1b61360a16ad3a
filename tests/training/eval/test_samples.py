"""``rtsim eval samples``: own-group-excluded k-NN accuracy against MFCC and pca."""

import json

import numpy as np
import pytest

from rtsim.embed import get
from rtsim.errors import ConfigError
from rtsim.training.eval.samples import confusion, evaluate_samples, read_table
from tests.commands import run


def test_read_table_checks_columns_files_and_groups(two_kits, tmp_path):
    root, table = two_kits
    rows = read_table(root, table, label="label", group="kit")
    assert len(rows) == 30 and {r["group"] for r in rows} == {"kitA", "kitB"}
    with pytest.raises(ConfigError, match="no column 'pack'.*columns: label, kit, kind"):
        read_table(root, table, label="label", group="pack")
    bad = tmp_path / "bad.csv"
    bad.write_text("path,label,kit\nkitA/kick_0.wav,kick,kitA\nkitA/nope.wav,kick,kitB\n")
    with pytest.raises(ConfigError, match="unknown file.*nope.wav"):
        read_table(root, bad, label="label", group="kit")
    one = tmp_path / "one.csv"
    one.write_text("path,label,kit\nkitA/kick_0.wav,kick,kitA\nkitA/snare_0.wav,snare,kitA\n")
    with pytest.raises(ConfigError, match="'kit' has one value only"):
        read_table(root, one, label="label", group="kit")
    with pytest.raises(ConfigError, match="no such file"):
        read_table(root, tmp_path / "missing.csv", label="label", group="kit")


def test_where_filters_rows(two_kits):
    root, table = two_kits
    with pytest.raises(ConfigError, match="'kit' has one value only"):
        read_table(root, table, label="label", group="kit", where={"kit": "kitA"})
    rows = read_table(root, table, label="label", group="kit", where={"kind": "drum"})
    assert len(rows) == 18 and {r["label"] for r in rows} == {"kick", "snare", "hat"}
    rows = read_table(root, table, label="label", group="kit",
                      where={"kind": "drum", "label": "!hat"})
    assert len(rows) == 12 and {r["label"] for r in rows} == {"kick", "snare"}


def test_confusion_counts():
    cm = confusion(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    assert cm.tolist() == [[1, 1], [0, 1]]


def test_evaluate_against_baselines(two_kits, tmp_path):
    root, table = two_kits
    rows = read_table(root, table, label="label", group="kit")
    res = evaluate_samples(rows, {"timbre": get("timbre").load()}, tmp_path, k=3)
    assert res["items"] == 30 and res["groups"] == 2 and res["skipped"] == 0
    for method in ("mfcc_stats", "pca", "timbre"):
        r = res[method]
        assert 0 <= r["accuracy"] <= 1 and np.sum(r["confusion"]) == 30
        assert set(r["per_label"]) == {"kick", "snare", "hat", "pluck", "organ"}
        assert (tmp_path / f"confusion_{method}.png").stat().st_size > 1000
    # the other kit's kick, snare and hat are the nearest to MFCC statistics: well above chance
    assert res["mfcc_stats"]["accuracy"] > 2 * res["chance"] and res["mfcc_stats"]["vs_mfcc"] == 1


def test_unreadable_files_are_skipped_and_counted(two_kits, tmp_path):
    root, table = two_kits
    rows = read_table(root, table, label="label", group="kit")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt junk")
    rows.append({"path": broken, "key": "broken.wav", "label": "kick", "group": "kitA"})
    res = evaluate_samples(rows, {}, tmp_path, pca=False, figures=False)
    assert res["items"] == 30 and res["skipped"] == 1 and "pca" not in res


def test_cli_end_to_end_and_bad_labels(two_kits, tmp_path):
    root, table = two_kits
    out = tmp_path / "ev"
    done = run("rtsim", "eval", "samples", root, "--labels", table, "--group", "kit",
               "--embedder", "timbre", "--out", out, "-k", "3", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "mfcc_stats" in done.stdout and "own group excluded" in done.stdout
    res = json.loads((out / "results.json").read_text())
    assert res["items"] == 30 and {"timbre", "pca", "mfcc_stats"} <= set(res)
    bad = run("rtsim", "eval", "samples", root, "--labels", table, "--group", "pack")
    assert bad.returncode == 2 and "no column 'pack'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    miss = run("rtsim", "eval", "samples", root, "--group", "kit")
    assert miss.returncode == 2 and "--labels" in miss.stderr


def _with_recordings(table, tmp_path):
    """The kits' table plus a ``rec`` column: every kick of both kits is one recording
    (layered with a click in kitB), the other sounds their own."""
    import csv

    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    out = tmp_path / "rec.csv"
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, [*rows[0], "rec"])
        w.writeheader()
        for r in rows:
            kick = r["label"] == "kick"
            w.writerow({**r, "rec": ("kick|click" if r["kit"] == "kitB" else "kick")
                        if kick else ""})
    return out


def test_hidden_recordings_leave_a_reused_sound_unanswerable(two_kits, tmp_path):
    root, table = two_kits
    rec = _with_recordings(table, tmp_path)
    rows = read_table(root, rec, label="label", group="kit", hide="rec")
    assert {r["hide"] for r in rows} == {frozenset(), frozenset({"kick"}),
                                         frozenset({"kick", "click"})}
    plain = evaluate_samples(read_table(root, rec, label="label", group="kit"), {}, tmp_path,
                             k=3, pca=False, figures=False)
    hidden = evaluate_samples(rows, {}, tmp_path, k=3, pca=False, figures=False)
    assert not plain["hidden_recordings"] and plain["answerable"] == 30
    assert hidden["hidden_recordings"] and hidden["answerable"] == 24  # the six kicks
    assert plain["mfcc_stats"]["per_label"]["kick"] > 0
    assert hidden["mfcc_stats"]["per_label"]["kick"] == 0
    assert hidden["mfcc_stats"]["accuracy"] <= 24 / 30
    with pytest.raises(ConfigError, match="no column 'sample'"):
        read_table(root, rec, label="label", group="kit", hide="sample")


def test_cli_hides_recordings(two_kits, tmp_path):
    root, table = two_kits
    rec = _with_recordings(table, tmp_path)
    out = tmp_path / "ev"
    done = run("rtsim", "eval", "samples", root, "--labels", rec, "--group", "kit",
               "--hide", "rec", "--embedder", "timbre", "--out", out, "-k", "3", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "own group and own recording excluded; 24 answerable" in done.stdout
    assert json.loads((out / "results.json").read_text())["answerable"] == 24
