"""JSON conversion of serializer output, matching DRF's JSONRenderer, and orjson encoding.

`to_json_safe` turns what a serializer returns into plain dicts, lists, strings, numbers,
booleans and None. It converts every other value the way `rest_framework.utils.encoders.JSONEncoder`
(DRF 3.18) does, so a flat instance stored in MongoDB or sent to a browser reads exactly like
the same data rendered by a DRF API view. `dumps` and `loads` use orjson and produce the same
JSON values.
"""

import datetime
import decimal
import ipaddress
import json
import uuid

import orjson
from django.db.models.query import QuerySet
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.functional import Promise

_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})

# Values that DRF renders with str().
_STRING_TYPES = (
    uuid.UUID,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)

# Datetimes and dataclasses go through json_default, as in DRF's encoder: orjson would
# write UTC as "+00:00" and would accept dataclasses that DRF rejects.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def json_default(value):
    """Convert one value that JSON has no type for, as DRF's JSONEncoder.default does.

    The result may still need conversion (a QuerySet becomes a tuple of model instances,
    for example). Raises TypeError for a value DRF cannot render either.
    """
    if isinstance(value, Promise):
        return force_str(value)
    if isinstance(value, datetime.datetime):
        text = value.isoformat()
        if text.endswith("+00:00"):
            text = text[:-6] + "Z"
        return text
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        if timezone.is_aware(value):
            raise ValueError(f"JSON cannot represent the timezone-aware time {value!r}. Use a naive time.")
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value.total_seconds())
    if isinstance(value, decimal.Decimal):
        # DRF's DecimalField returns a string unless COERCE_DECIMAL_TO_STRING or
        # coerce_to_string is False, so a Decimal reaches this point only in that case.
        return float(value)
    if isinstance(value, _STRING_TYPES):
        return str(value)
    if isinstance(value, QuerySet):
        return tuple(value)
    if isinstance(value, bytes):
        return value.decode()
    if hasattr(value, "tolist"):
        # NumPy arrays and scalars.
        return value.tolist()
    if hasattr(value, "__getitem__"):
        container = list if isinstance(value, list | tuple) else dict
        try:
            return container(value)
        except (TypeError, ValueError):
            pass
    elif hasattr(value, "__iter__"):
        return tuple(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_key(key):
    """Convert a dict key as json.dumps does: strings stay, numbers, booleans and None become text."""
    if isinstance(key, str):
        return str.__str__(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return _float_key(key)
    raise TypeError(f"JSON object keys must be str, int, float, bool or None, not {type(key).__name__}")


def _float_key(key):
    if key != key:
        return "NaN"
    if key == float("inf"):
        return "Infinity"
    if key == float("-inf"):
        return "-Infinity"
    return float.__repr__(key)


def to_json_safe(value):
    """Return `value` as plain JSON types, equal to what DRF's JSONRenderer output parses back to.

    Plain str, int, float, bool and None values return unchanged without further checks.
    Dict subclasses (such as DRF's ReturnDict) become dicts, tuples and lists become lists,
    and every other value is converted by `json_default`.
    NOTE: floats stay as they are, so NaN and infinity pass through, while DRF's renderer
    rejects them when STRICT_JSON is on (the default) and orjson writes them as null.
    """
    value_type = type(value)
    if value_type in _PLAIN_TYPES:
        return value
    if value_type is list:
        return [to_json_safe(item) for item in value]
    if value_type is dict or isinstance(value, dict):
        return {_json_key(key): to_json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_safe(item) for item in value]
    # Subclasses of the plain types (SafeString, IntEnum, TextChoices members) render as their base value.
    if isinstance(value, str):
        # str() returns a SafeString unchanged, but str.__str__ copies it into a plain str.
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return to_json_safe(json_default(value))


def dumps(value) -> bytes:
    """Encode `value` as compact UTF-8 JSON bytes with orjson.

    Integers outside the signed 64-bit range, which orjson rejects, fall back to the
    standard json module with the same conversions. `loads` reads such integers back as floats.
    """
    try:
        return orjson.dumps(value, default=json_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError as error:
        if "Integer exceeds 64-bit range" not in str(error):
            raise
    text = json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))
    return text.encode()


def loads(data):
    """Decode JSON from bytes, bytearray, memoryview or str with orjson."""
    return orjson.loads(data)
