"""The control plane's transports: item pages packed into datagrams."""

from rtsim.engine.commands import ItemPage
from rtsim.engine.control_servers import page_bundles
from rtsim.publish.oscin import decode_datagram
from rtsim.publish.schema import load_schema


def test_an_item_page_fits_datagrams_and_keeps_every_row():
    schema = load_schema()
    rows = [(i, f"/lib/{'d' * 150}/hit_{i:03d}.wav", 0.25 * i, 1.0) for i in range(100)]
    rows[7] = (7, "/" + "x" * 2000 + ".wav", 0.0, 1.0)  # no datagram holds it
    bundles = page_bundles(schema, ItemPage("stem/bass", 0, 5000, rows))
    assert len(bundles) > 10 and all(len(b) <= schema.max_packet_bytes for b in bundles)
    messages = [m for b in bundles for m in decode_datagram(b)]
    items = [args for address, args in messages if address == "/rtsim/stem/bass/item"]
    assert [i for i, *_ in items] == list(range(100))
    assert items[7][1] == "" and items[8][1] == rows[8][1]  # sent empty, never cut
    assert messages[-1] == ("/rtsim/stem/bass/items/page", (0, 100, 5000))
