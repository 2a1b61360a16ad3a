"""The Pure Data example plays what rtsim matched: headless Pd, the real engine, real OSC.

The engine runs over a clip in real time with ``[osc] paths = true``, sending to
``osc_schemas/examples/pd/rtsim-play.pd`` in ``pd -nogui -nosound``; the patch loads each
trigger's file with ``soundfiler`` and plays it, and records what it plays with
``writesf~``. Each trigger's matched sample must be in that recording, in order.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from rtsim.publish.osc import encode_message
from tests.engine.helpers import run_file, write_clip
from tests.oscdump import free_udp_port

PATCH = Path(__file__).parents[2] / "osc_schemas" / "examples" / "pd" / "rtsim-play.pd"
NOTES = [(0.3, "organ", 60), (1.5, "marimba", 48), (2.7, "pluck", 72)]
SR = 44100

pytestmark = pytest.mark.skipif(shutil.which("pd") is None,
                                reason="Pure Data is not installed (apt-get install "
                                       "puredata-core)")

# beside the example: says when it is loaded; any OSC message on its own port stops the
# recording and, half a second later (writesf~ flushes from its own thread), quits Pd;
# it quits anyway after 60 s
HARNESS = """#N canvas 0 0 450 300 12;
#X obj 20 20 loadbang;
#X obj 20 50 print rtsim-harness;
#X obj 200 20 netreceive -u -b {port};
#X obj 200 50 oscparse;
#X obj 200 80 t b;
#X msg 200 110 \\; rtsim-stop bang;
#X obj 200 140 delay 500;
#X msg 200 170 \\; pd quit;
#X obj 20 80 delay 60000;
#X connect 0 0 1 0;
#X connect 0 0 8 0;
#X connect 2 0 3 0;
#X connect 3 0 4 0;
#X connect 4 0 5 0;
#X connect 4 0 6 0;
#X connect 6 0 7 0;
#X connect 8 0 7 0;
"""


def _best_ncc(x: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    c = np.correlate(x, ref, "valid")
    energy = np.convolve(x ** 2, np.ones(len(ref)), "valid")
    score = c / np.sqrt((ref ** 2).sum() * energy + 1e-12)
    i = int(np.argmax(score))
    return float(score[i]), i


def test_the_pd_example_plays_each_triggered_match(tmp_path, one_shot_library):
    clip = write_clip(tmp_path / "clip.wav", NOTES, seconds=4.0)
    port, stop_port, recording = free_udp_port(), free_udp_port(), tmp_path / "pd-out.wav"
    harness = tmp_path / "harness.pd"
    harness.write_text(HARNESS.format(port=stop_port))
    pd = subprocess.Popen(
        ["pd", "-nogui", "-nosound", "-r", str(SR), "-stderr", "-open", str(PATCH),
         "-open", str(harness), "-send", f"rtsim-port {port}; rtsim-record {recording}"],
        stderr=subprocess.PIPE, text=True)
    try:
        for line in pd.stderr:  # the patches are loaded
            if "rtsim-harness" in line:
                break
        time.sleep(0.3)  # the -send messages (port, recording) come after loading
        col, _ = run_file(clip, one_shot_library, realtime=True, patch={
            "osc": {"enabled": True, "port": port, "paths": True}})
        time.sleep(1.0)  # the last match plays out
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(encode_message("/stop", "i", [1]), ("127.0.0.1", stop_port))
        _, err = pd.communicate(timeout=30)
    finally:
        if pd.poll() is None:
            pd.kill()
    assert "error" not in err.lower(), err[-2000:]
    assert [t.name for t in col.triggers] == [f"{f}/{f}_{m}" for _, f, m in NOTES]
    heard, _ = sf.read(recording, dtype="float32")
    assert np.abs(heard).max() > 0.05
    places = []
    for trigger in col.triggers:
        sample, sr = sf.read(trigger.file, dtype="float32")
        assert sr != SR  # the fixture's one-shots are 22.05 kHz: Pd must play them at
        ref = scipy.signal.resample_poly(sample, SR, sr)  # their own rate, not an octave up
        score, at = _best_ncc(heard, ref[: int(0.3 * SR)])
        assert score > 0.95, (trigger.name, score)  # the matched file, as Pd played it
        places.append(at / SR)
    gaps = np.diff(places)  # each played at its own onset, 1.2 s apart
    np.testing.assert_allclose(gaps, np.diff([n[0] for n in NOTES]), atol=0.1)
