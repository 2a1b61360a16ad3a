"""MIDI out: the item -> note mappings, velocities, note timing, and a real virtual port
through the ALSA sequencer when the kernel offers one."""

import os
import time

import pytest

from rtsim.errors import AudioDeviceError, ConfigError
from rtsim.index import Library
from rtsim.publish.midi import (
    MidiConfig,
    MidiPublisher,
    csv_notes,
    label_notes,
    open_port,
    order_notes,
    velocity,
)

from .conftest import make_trigger

HAS_SEQ = os.path.exists("/dev/snd/seq")


class Port:
    """An output that keeps what it is sent (the MIDI messages themselves are mido's)."""

    def __init__(self):
        self.sent, self.closed = [], False

    def send(self, msg):
        self.sent.append(msg)

    def close(self):
        self.closed = True


class Pipe:
    def __init__(self, library, name="pca"):
        self.name, self.library = name, library


def test_mappings_and_velocity(tmp_path):
    assert order_notes(5, 36).tolist() == [36, 37, 38, 39, 40]
    assert order_notes(200, 36)[92] == 36  # wraps above 127
    assert label_notes(["snare", "kick", "snare", "hat"], 60).tolist() == [62, 61, 62, 60]
    (tmp_path / "m.csv").write_text("name,note\nb,64\n")
    assert csv_notes(tmp_path / "m.csv", ["a", "b", "c"]).tolist() == [-1, 64, -1]
    (tmp_path / "bad.csv").write_text("id,note\n1,200\n")
    with pytest.raises(ConfigError, match="row 2: note 200"):
        csv_notes(tmp_path / "bad.csv", ["a", "b"])
    (tmp_path / "cols.csv").write_text("item,pitch\n1,60\n")
    with pytest.raises(ConfigError, match="needs a 'note' column"):
        csv_notes(tmp_path / "cols.csv", ["a", "b"])
    assert [velocity(v, -6.0) for v in (0.0, -6.0, -26.0, -46.0, -90.0, float("nan"))] == [
        127, 127, 64, 1, 1, 1]
    with pytest.raises(ConfigError, match="mapping='csv' needs csv"):
        MidiConfig(mapping="csv")


def test_each_trigger_plays_its_items_note_then_lets_it_go(one_shot_library):
    import mido

    lib = Library.open(one_shot_library)
    port = Port()
    pub = MidiPublisher(MidiConfig(enabled=True, channel=10, note_ms=30, mapping="label"),
                        pipelines=[Pipe(lib)], port=port)
    folders = sorted({it.labels["folder"] for it in lib.items(range(lib.count))})
    item = 4
    want = 36 + folders.index(lib.items([item])[0].labels["folder"])
    pub.publish_trigger(make_trigger(embedder="pca", id=item, level_db=-26.0))
    pub.publish_trigger(make_trigger(embedder="other", id=item))  # not an engine embedder
    assert port.sent == [mido.Message("note_on", channel=9, note=want, velocity=64)]
    pub.publish_status(None)
    assert len(port.sent) == 1  # not yet due
    time.sleep(0.04)
    pub.publish_hop(None)
    assert port.sent[1] == mido.Message("note_off", channel=9, note=want)
    pub.publish_trigger(make_trigger(embedder="pca", id=0))
    pub.close()  # sounding notes are let go on close
    assert port.sent[-1].type == "note_off" and port.closed
    assert pub.counters == {"notes": 2, "unmapped": 0}


def test_a_switched_library_is_mapped_again(one_shot_library, pca_library):
    pipe, port = Pipe(Library.open(one_shot_library)), Port()
    pub = MidiPublisher(MidiConfig(enabled=True), pipelines=[pipe], port=port)
    pipe.library = Library.open(pca_library[0])
    last = pipe.library.count - 1
    pub.publish_trigger(make_trigger(embedder="pca", id=last))
    assert port.sent[0].note == int(order_notes(last + 1, 36)[last])
    with pytest.raises(ConfigError, match="'timbre' is not running"):
        MidiPublisher(MidiConfig(embedder="timbre"), pipelines=[pipe], port=Port())


@pytest.mark.skipif(HAS_SEQ, reason="checks the error when there is no sequencer")
def test_no_sequencer_is_a_clear_error():
    with pytest.raises(AudioDeviceError, match="MIDI port 'rtsim' cannot be opened.*sequencer"):
        open_port(MidiConfig(enabled=True))


@pytest.mark.skipif(not HAS_SEQ, reason="no ALSA sequencer here (/dev/snd/seq; modprobe "
                    "snd-seq): the virtual port cannot be tested")
def test_notes_reach_a_reader_of_the_virtual_port(one_shot_library):
    import mido

    mido.set_backend("mido.backends.rtmidi", load=True)
    lib = Library.open(one_shot_library)
    pub = MidiPublisher(MidiConfig(enabled=True, port="rtsim-test", note_ms=10),
                        pipelines=[Pipe(lib)])
    name = next(n for n in mido.get_input_names() if "rtsim-test" in n)
    with mido.open_input(name) as reader:
        time.sleep(0.1)
        pub.publish_trigger(make_trigger(embedder="pca", id=3, level_db=-6.0))
        time.sleep(0.05)
        pub.close()
        time.sleep(0.1)
        got = list(reader.iter_pending())
    assert [(m.type, m.note) for m in got] == [("note_on", 39), ("note_off", 39)]
    assert got[0].velocity == 127
