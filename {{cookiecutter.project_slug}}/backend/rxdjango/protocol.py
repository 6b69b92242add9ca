"""Client frames of the wire protocol: parsing and validation.

Every frame is one JSON object with a "type". `parse_frame` turns the raw text into a
typed message or raises `FrameError` with the code and message to send back.
"""

from dataclasses import dataclass, field
from typing import Any

import orjson

# Error codes sent to clients, as HTTP status codes.
BAD_REQUEST = 400
UNAUTHORIZED = 401
FORBIDDEN = 403
NOT_FOUND = 404
PAYLOAD_TOO_LARGE = 413
INTERNAL_ERROR = 500

# WebSocket close codes: 4000 plus the HTTP-like status.
CLOSE_AUTH_FAILED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_SLOW_CONSUMER = 4429
# The standard WebSocket code for a server error; clients reconnect after it.
CLOSE_INTERNAL_ERROR = 1011


class FrameError(Exception):
    """A client frame is invalid. `code` and the message are sent back in an error frame.

    `write_id` is the frame's writeId when the frame is a write whose writeId is valid, else None.
    """

    def __init__(self, code, message, write_id=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.write_id = write_id


@dataclass(frozen=True)
class AuthMessage:
    token: str
    last_update: float | None


@dataclass(frozen=True)
class ActionMessage:
    call_id: int
    action: str
    params: list


@dataclass(frozen=True)
class WriteMessage:
    write_id: int
    operation: str
    instance_type: str
    data: dict = field(default_factory=dict)
    instance_id: Any = None
    parent_type: str | None = None
    parent_id: Any = None
    relation_name: str | None = None


def is_int(value):
    # bool is a subclass of int, but true/false are not valid ids.
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_instance_id(value):
    return is_int(value) or (isinstance(value, str) and value != "")


def require(payload, name, check, expected):
    if name not in payload:
        raise FrameError(BAD_REQUEST, f"missing field {name!r}: expected {expected}")
    value = payload[name]
    if not check(value):
        raise FrameError(BAD_REQUEST, f"invalid field {name!r}: expected {expected}, got {type_name(value)}")
    return value


def type_name(value):
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number" if is_number(value) else type(value).__name__
    )


def parse_auth(payload):
    token = require(payload, "token", lambda value: isinstance(value, str) and value != "", "a non-empty string")
    last_update = payload.get("lastUpdate")
    if last_update is not None and not is_number(last_update):
        raise FrameError(
            BAD_REQUEST, f"invalid field 'lastUpdate': expected a number or null, got {type_name(last_update)}"
        )
    return AuthMessage(token=token, last_update=last_update)


def parse_action(payload):
    call_id = require(payload, "callId", is_int, "an integer")
    action = require(payload, "action", lambda value: isinstance(value, str) and value != "", "a non-empty string")
    params = payload.get("params", [])
    if not isinstance(params, list):
        raise FrameError(BAD_REQUEST, f"invalid field 'params': expected an array, got {type_name(params)}")
    return ActionMessage(call_id=call_id, action=action, params=params)


def parse_write(payload):
    write_id = require(payload, "writeId", is_int, "an integer")
    try:
        return parse_write_fields(payload, write_id)
    except FrameError as error:
        # The client can match the rejection to its pending write.
        error.write_id = write_id
        raise


def parse_write_fields(payload, write_id):
    operation = require(
        payload, "operation", lambda value: value in ("save", "create", "delete"), "'save', 'create' or 'delete'"
    )
    instance_type = require(payload, "instanceType", lambda value: isinstance(value, str) and value != "", "a string")
    data = payload.get("data", {})
    if not isinstance(data, dict):
        raise FrameError(BAD_REQUEST, f"invalid field 'data': expected an object, got {type_name(data)}")

    if operation == "create":
        return WriteMessage(
            write_id=write_id,
            operation=operation,
            instance_type=instance_type,
            data=data,
            parent_type=require(
                payload, "parentType", lambda value: isinstance(value, str) and value != "", "a string"
            ),
            parent_id=require(payload, "parentId", is_instance_id, "an integer or a non-empty string"),
            relation_name=require(
                payload, "relationName", lambda value: isinstance(value, str) and value != "", "a string"
            ),
        )
    return WriteMessage(
        write_id=write_id,
        operation=operation,
        instance_type=instance_type,
        data=data,
        instance_id=require(payload, "instanceId", is_instance_id, "an integer or a non-empty string"),
    )


PARSERS = {
    "auth": parse_auth,
    "action": parse_action,
    "write": parse_write,
}


def parse_frame(text, bytes_data, max_bytes):
    """Parse one client frame into an AuthMessage, ActionMessage or WriteMessage."""
    if bytes_data is not None:
        raise FrameError(BAD_REQUEST, "binary frames are not supported: send JSON text frames")
    if text is None:
        raise FrameError(BAD_REQUEST, "empty frame: send a JSON object with a 'type'")
    if len(text) > max_bytes or len(text.encode()) > max_bytes:
        raise FrameError(PAYLOAD_TOO_LARGE, f"frame larger than {max_bytes} bytes")

    try:
        payload = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise FrameError(BAD_REQUEST, f"frame is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise FrameError(BAD_REQUEST, f"frame must be a JSON object, got {type_name(payload)}")

    message_type = payload.get("type")
    if message_type is None:
        raise FrameError(BAD_REQUEST, "missing field 'type'")
    if not isinstance(message_type, str):
        raise FrameError(BAD_REQUEST, f"invalid field 'type': expected a string, got {type_name(message_type)}")
    parser = PARSERS.get(message_type)
    if parser is None:
        raise FrameError(BAD_REQUEST, f"unknown message type {message_type!r}: expected one of {', '.join(PARSERS)}")
    return parser(payload)


def encode(message):
    """Encode a server frame as JSON text."""
    return orjson.dumps(message).decode()


def error_frame(code, message):
    return encode({"type": "error", "code": code, "message": message})
