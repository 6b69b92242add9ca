"""TypeScript types of Python type hints, for values that travel as JSON.

The mapping follows what `rxdjango.serialization.to_json_safe` produces: datetimes, dates,
times, durations and UUIDs become strings, Decimals become numbers, tuples and sets become
arrays. A hint that has no JSON form maps to `unknown`.
"""

import collections.abc
import datetime
import decimal
import enum
import inspect
import types
import typing
import uuid

from rxdjango.typescript import tstypes

_SCALARS = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    decimal.Decimal: "number",
    datetime.datetime: "string",
    datetime.date: "string",
    datetime.time: "string",
    datetime.timedelta: "string",
    uuid.UUID: "string",
    bytes: "string",
    type(None): tstypes.NULL,
}

_SEQUENCES = (list, set, frozenset, collections.abc.Sequence, collections.abc.Set, collections.abc.Iterable)
_MAPPINGS = (dict, collections.abc.Mapping)


def resolve_hints(obj) -> dict:
    """Return the evaluated type hints of a function or class, or its raw annotations when they fail to evaluate.

    A hint that stays a string (a forward reference that cannot be resolved) maps to `unknown`.
    """
    try:
        return typing.get_type_hints(obj)
    except (NameError, TypeError, AttributeError):
        return dict(getattr(obj, "__annotations__", {}))


def python_type_to_ts(hint) -> str:
    """Return the TypeScript type of values described by a Python type hint."""
    if hint is inspect.Parameter.empty or hint is typing.Any or hint is object or isinstance(hint, str):
        return tstypes.UNKNOWN
    if hint is None or hint is type(None):
        return tstypes.NULL

    origin = typing.get_origin(hint)
    args = typing.get_args(hint)

    if origin is typing.Annotated:
        return python_type_to_ts(args[0])
    if origin is typing.Union or origin is types.UnionType:
        return tstypes.union(*(python_type_to_ts(arg) for arg in args))
    if origin is typing.Literal:
        return tstypes.union(*(tstypes.literal(_json_scalar(arg)) for arg in args))
    if origin is tuple:
        return _tuple_to_ts(args)
    if origin in _MAPPINGS or (isinstance(origin, type) and issubclass(origin, collections.abc.Mapping)):
        value_type = python_type_to_ts(args[1]) if len(args) == 2 else tstypes.UNKNOWN
        return tstypes.record_of(value_type)
    if origin in _SEQUENCES or (isinstance(origin, type) and issubclass(origin, collections.abc.Iterable)):
        item_type = python_type_to_ts(args[0]) if args else tstypes.UNKNOWN
        return tstypes.array_of(item_type)

    if typing.is_typeddict(hint):
        return typed_dict_to_ts(hint)
    if isinstance(hint, type):
        return _class_to_ts(hint)
    return tstypes.UNKNOWN


def typed_dict_to_ts(typed_dict) -> str:
    """Return an inline object type with the keys of a TypedDict, marking its optional keys with `?`."""
    hints = resolve_hints(typed_dict)
    optional = getattr(typed_dict, "__optional_keys__", frozenset())
    members = []
    for name, hint in hints.items():
        marker = "?" if name in optional else ""
        members.append(f"{tstypes.property_name(name)}{marker}: {python_type_to_ts(hint)}")
    if not members:
        return "Record<string, never>"
    return "{ " + "; ".join(members) + " }"


def _tuple_to_ts(args) -> str:
    if not args:
        return tstypes.array_of(tstypes.UNKNOWN)
    if len(args) == 2 and args[1] is Ellipsis:
        return tstypes.array_of(python_type_to_ts(args[0]))
    if args == ((),):
        return "[]"
    return "[" + ", ".join(python_type_to_ts(arg) for arg in args) + "]"


def _class_to_ts(cls: type) -> str:
    if issubclass(cls, enum.Enum):
        return tstypes.union(*(tstypes.literal(_json_scalar(member.value)) for member in cls))
    for scalar, ts_type in _SCALARS.items():
        # bool is an int subclass, and datetime a date subclass: the exact class is found first.
        if cls is scalar:
            return ts_type
    for scalar, ts_type in _SCALARS.items():
        if issubclass(cls, scalar):
            return ts_type
    if issubclass(cls, collections.abc.Mapping):
        return tstypes.record_of(tstypes.UNKNOWN)
    if issubclass(cls, list | tuple | set | frozenset):
        return tstypes.array_of(tstypes.UNKNOWN)
    return tstypes.UNKNOWN


def _json_scalar(value):
    """Return the JSON scalar that a Literal or enum value renders as."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
