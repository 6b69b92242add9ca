import pytest

from rxdjango.protocol import ActionMessage, AuthMessage, FrameError, WriteMessage, parse_frame
from tests.rx.frames import MALFORMED_FRAMES, MAX_FRAME_BYTES


@pytest.mark.parametrize(
    ("text", "code"),
    [(text, code) for _, text, code in MALFORMED_FRAMES],
    ids=[name for name, _, _ in MALFORMED_FRAMES],
)
def test_malformed_frame_rejected(text, code):
    with pytest.raises(FrameError) as raised:
        parse_frame(text, None, MAX_FRAME_BYTES)

    assert raised.value.code == code
    assert raised.value.message


def test_table_has_thirty_cases():
    assert len(MALFORMED_FRAMES) >= 30


def test_binary_frame_rejected():
    with pytest.raises(FrameError) as raised:
        parse_frame(None, b"\x00\x01", MAX_FRAME_BYTES)

    assert raised.value.code == 400


def test_auth_parsed():
    message = parse_frame('{"type": "auth", "token": "abc", "lastUpdate": 12.5}', None, MAX_FRAME_BYTES)

    assert message == AuthMessage(token="abc", last_update=12.5)


def test_auth_without_last_update():
    message = parse_frame('{"type": "auth", "token": "abc"}', None, MAX_FRAME_BYTES)

    assert message.last_update is None


def test_action_parsed():
    message = parse_frame(
        '{"type": "action", "callId": 3, "action": "ping", "params": [1, "a"]}', None, MAX_FRAME_BYTES
    )

    assert message == ActionMessage(call_id=3, action="ping", params=[1, "a"])


def test_save_write_parsed():
    text = (
        '{"type": "write", "writeId": 9, "operation": "save", "instanceType": "a.B", "instanceId": 4, "data": {"x": 1}}'
    )

    message = parse_frame(text, None, MAX_FRAME_BYTES)

    assert message == WriteMessage(write_id=9, operation="save", instance_type="a.B", instance_id=4, data={"x": 1})


def test_create_write_parsed():
    text = (
        '{"type": "write", "writeId": 1, "operation": "create", "instanceType": "a.B",'
        ' "parentType": "a.C", "parentId": 2, "relationName": "bs"}'
    )

    message = parse_frame(text, None, MAX_FRAME_BYTES)

    assert message.parent_type == "a.C"
    assert message.parent_id == 2
    assert message.relation_name == "bs"
    assert message.data == {}


def test_multibyte_frame_measured_in_bytes():
    text = '{"type": "auth", "token": "' + "\u00e9" * 600 + '"}'

    with pytest.raises(FrameError) as raised:
        parse_frame(text, None, 1000)

    assert raised.value.code == 413
