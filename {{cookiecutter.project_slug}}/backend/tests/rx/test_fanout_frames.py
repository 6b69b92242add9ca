"""The ready WebSocket frames that the fan-out writes to daphne's transports."""

from types import SimpleNamespace

import pytest
from twisted.internet.testing import StringTransport
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from rxdjango import fanout

OPEN = 3
GROUND = 0


def parse(wire):
    """Decode one server frame with the websockets library's parser."""
    reader = StreamReader()
    reader.feed_data(wire)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value
    raise AssertionError("the frame is incomplete")


@pytest.mark.parametrize("length", [0, 125, 126, 65535, 65536])
def test_text_frame_decodes(length):
    payload = ("é" * length).encode()[:length]

    frame = parse(fanout.text_frame(payload))

    assert frame.opcode == Opcode.TEXT
    assert frame.fin is True
    assert frame.data == payload


def stand_in_protocol(**changes):
    """An object with the attributes of an open autobahn protocol that write_frame reads."""
    attributes = {
        "STATE_OPEN": OPEN,
        "SEND_STATE_GROUND": GROUND,
        "state": OPEN,
        "send_state": GROUND,
        "_perMessageCompress": None,
        "autoFragmentSize": 0,
        "maxMessagePayloadSize": 1024,
        "send_queue": [],
        "transport": StringTransport(),
    }
    attributes.update(changes)
    return SimpleNamespace(**attributes)


def test_write_frame_writes_to_open_socket():
    protocol = stand_in_protocol()
    wire = fanout.text_frame(b'{"type":"instances"}')

    assert fanout.write_frame(protocol, wire, 20) is True
    assert protocol.transport.value() == wire


@pytest.mark.parametrize(
    "changes",
    [
        {"state": OPEN + 1},
        {"send_state": GROUND + 1},
        {"_perMessageCompress": object()},
        {"autoFragmentSize": 10},
        {"maxMessagePayloadSize": 10},
        {"send_queue": [(b"queued", False)]},
    ],
    ids=["closing", "inside-message", "compressed", "fragmented", "too-large", "queued"],
)
def test_write_frame_takes_usual_path(changes):
    protocol = stand_in_protocol(**changes)

    assert fanout.write_frame(protocol, fanout.text_frame(b"x" * 20), 20) is False
    assert protocol.transport.value() == b""


def test_write_frame_without_autobahn_attributes():
    protocol = SimpleNamespace(transport=StringTransport())

    assert fanout.write_frame(protocol, fanout.text_frame(b"x"), 1) is False
