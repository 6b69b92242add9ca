"""Malformed client frames with the error code each must get."""

import json

MAX_FRAME_BYTES = 256 * 1024

MALFORMED_FRAMES = [
    ("not json", "hello", 400),
    ("truncated json", '{"type": "action"', 400),
    ("json array", "[1, 2, 3]", 400),
    ("json string", '"auth"', 400),
    ("json number", "42", 400),
    ("json null", "null", 400),
    ("empty object", "{}", 400),
    ("type null", '{"type": null}', 400),
    ("type number", '{"type": 7}', 400),
    ("type object", '{"type": {"name": "auth"}}', 400),
    ("unknown type", '{"type": "subscribe"}', 400),
    ("type wrong case", '{"type": "ACTION"}', 400),
    ("action without callId", '{"type": "action", "action": "ping", "params": []}', 400),
    ("action callId string", '{"type": "action", "callId": "1", "action": "ping", "params": []}', 400),
    ("action callId float", '{"type": "action", "callId": 1.5, "action": "ping", "params": []}', 400),
    ("action callId boolean", '{"type": "action", "callId": true, "action": "ping", "params": []}', 400),
    ("action without name", '{"type": "action", "callId": 1, "params": []}', 400),
    ("action name number", '{"type": "action", "callId": 1, "action": 5, "params": []}', 400),
    ("action name empty", '{"type": "action", "callId": 1, "action": "", "params": []}', 400),
    ("action params object", '{"type": "action", "callId": 1, "action": "ping", "params": {"a": 1}}', 400),
    ("action params string", '{"type": "action", "callId": 1, "action": "ping", "params": "x"}', 400),
    ("write without writeId", '{"type": "write", "operation": "save", "instanceType": "a.B", "instanceId": 1}', 400),
    (
        "write writeId string",
        '{"type": "write", "writeId": "1", "operation": "save", "instanceType": "a.B", "instanceId": 1}',
        400,
    ),
    (
        "write unknown operation",
        '{"type": "write", "writeId": 1, "operation": "upsert", "instanceType": "a.B", "instanceId": 1}',
        400,
    ),
    ("write without instanceType", '{"type": "write", "writeId": 1, "operation": "save", "instanceId": 1}', 400),
    (
        "write instanceId object",
        '{"type": "write", "writeId": 1, "operation": "save", "instanceType": "a.B", "instanceId": {}}',
        400,
    ),
    (
        "write instanceId boolean",
        '{"type": "write", "writeId": 1, "operation": "delete", "instanceType": "a.B", "instanceId": false}',
        400,
    ),
    (
        "write data array",
        '{"type": "write", "writeId": 1, "operation": "save", "instanceType": "a.B", "instanceId": 1, "data": []}',
        400,
    ),
    (
        "create without parentId",
        '{"type": "write", "writeId": 1, "operation": "create", "instanceType": "a.B", "parentType": "a.C",'
        ' "relationName": "bs"}',
        400,
    ),
    (
        "create without relationName",
        '{"type": "write", "writeId": 1, "operation": "create", "instanceType": "a.B", "parentType": "a.C",'
        ' "parentId": 1}',
        400,
    ),
    ("auth token number", '{"type": "auth", "token": 12345}', 400),
    (
        "oversized frame",
        json.dumps({"type": "action", "callId": 1, "action": "x", "params": ["a" * MAX_FRAME_BYTES]}),
        413,
    ),
]
