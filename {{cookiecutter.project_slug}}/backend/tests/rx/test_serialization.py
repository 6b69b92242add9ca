import datetime
import decimal
import enum
import ipaddress
import json
import uuid
from collections import OrderedDict
from zoneinfo import ZoneInfo

import orjson
import pytest
from django.db import models
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict

from rxdjango.serialization import dumps, json_default, loads, to_json_safe
from rxdjango.state_model import StateModel
from tests.rxapp.models import Project, Tag
from tests.rxapp.serializers import ProjectSerializer

TSTAMP = 1750000000.5


def render(value):
    """Parse what DRF's JSONRenderer writes for `value`."""
    return json.loads(JSONRenderer().render(value))


class Priority(enum.IntEnum):
    HIGH = 1


class Color(models.TextChoices):
    TEAL = "teal", "Teal"


CONVERTED_VALUES = {
    "utc datetime": datetime.datetime(2025, 3, 1, 9, 30, 5, 123456, tzinfo=datetime.UTC),
    "offset datetime": datetime.datetime(2025, 3, 1, 9, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    "zero offset zone": datetime.datetime(2025, 1, 15, 8, 0, tzinfo=ZoneInfo("Europe/London")),
    "naive datetime": datetime.datetime(2025, 3, 1, 9, 30),
    "date": datetime.date(2025, 3, 1),
    "time": datetime.time(9, 30, 15),
    "timedelta": datetime.timedelta(days=1, seconds=5),
    "decimal": decimal.Decimal("1234.50"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "ipv4 address": ipaddress.IPv4Address("10.0.0.1"),
    "ipv6 network": ipaddress.IPv6Network("2001:db8::/32"),
    "bytes": b"raw text",
    "tuple": (1, "two", None),
    "set": {7},
    "frozenset": frozenset({"only"}),
    "lazy translation": gettext_lazy("Hello"),
    "safe string": mark_safe("<b>bold</b>"),
    "int enum": Priority.HIGH,
    "text choice": Color.TEAL,
    "non-string keys": {2: "two", 2.5: "two and a half", True: "yes", None: "nothing"},
    "ordered dict": OrderedDict([("b", 1), ("a", datetime.date(2025, 1, 2))]),
    "return dict": ReturnDict({"when": datetime.date(2025, 1, 2)}, serializer=None),
    "nested": {"rows": [{"at": datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC), "ids": (uuid.UUID(int=1),)}]},
}


@pytest.mark.parametrize("value", [None, True, 0, -5, 1.25, "", "text", [], {}, [1, "a"], {"a": {"b": [None]}}])
def test_plain_values_unchanged(value):
    assert to_json_safe(value) == value
    assert loads(dumps(value)) == value


@pytest.mark.parametrize("value", [None, True, 7, 1.5, "text"])
def test_plain_scalars_returned_as_is(value):
    assert to_json_safe(value) is value


@pytest.mark.parametrize("name", CONVERTED_VALUES)
def test_to_json_safe_matches_renderer(name):
    value = CONVERTED_VALUES[name]

    assert to_json_safe(value) == render(value)


@pytest.mark.parametrize("name", CONVERTED_VALUES)
def test_dumps_matches_renderer(name):
    value = CONVERTED_VALUES[name]

    assert loads(dumps(value)) == render(value)


def test_converted_values_have_plain_types():
    converted = to_json_safe(CONVERTED_VALUES)

    assert type(converted["ordered dict"]) is dict
    assert type(converted["return dict"]) is dict
    assert type(converted["tuple"]) is list
    assert type(converted["safe string"]) is str
    assert type(converted["int enum"]) is int
    assert type(converted["text choice"]) is str
    assert type(converted["lazy translation"]) is str


def test_datetime_formats():
    assert to_json_safe(CONVERTED_VALUES["utc datetime"]) == "2025-03-01T09:30:05.123456Z"
    assert to_json_safe(CONVERTED_VALUES["offset datetime"]) == "2025-03-01T09:30:00+02:00"
    assert to_json_safe(CONVERTED_VALUES["zero offset zone"]) == "2025-01-15T08:00:00Z"
    assert to_json_safe(CONVERTED_VALUES["naive datetime"]) == "2025-03-01T09:30:00"


def test_decimal_becomes_float():
    assert to_json_safe(decimal.Decimal("1234.50")) == 1234.5


def test_generator_becomes_list():
    assert to_json_safe(number * 2 for number in range(3)) == [0, 2, 4]
    assert loads(dumps(number * 2 for number in range(3))) == [0, 2, 4]


def test_queryset_becomes_list(db):
    Tag.objects.create(name="b")
    Tag.objects.create(name="a")
    names = Tag.objects.values_list("name", flat=True)

    assert to_json_safe(names) == ["a", "b"]
    assert loads(dumps(names)) == ["a", "b"]


def test_aware_time_rejected():
    aware = datetime.time(9, 30, tzinfo=datetime.UTC)

    with pytest.raises(ValueError, match="timezone-aware time"):
        to_json_safe(aware)
    with pytest.raises(orjson.JSONEncodeError) as error:
        dumps({"at": aware})
    assert isinstance(error.value.__cause__, ValueError)
    assert "timezone-aware time" in str(error.value.__cause__)


def test_unsupported_type_rejected():
    class Opaque:
        pass

    with pytest.raises(TypeError, match="Object of type Opaque is not JSON serializable"):
        to_json_safe({"value": Opaque()})
    with pytest.raises(TypeError, match="Opaque"):
        dumps({"value": Opaque()})
    with pytest.raises(TypeError, match="Opaque"):
        json_default(Opaque())


def test_unsupported_key_rejected():
    with pytest.raises(TypeError, match="keys must be"):
        to_json_safe({(1, 2): "tuple key"})


def test_dumps_compact_bytes():
    encoded = dumps({"a": [1, 2], "b": "é"})

    assert encoded == '{"a":[1,2],"b":"é"}'.encode()


def test_dumps_integer_beyond_64_bits():
    encoded = dumps({"n": 2**70})

    assert json.loads(encoded) == {"n": 2**70}


def test_loads_accepts_bytes_and_str():
    assert loads(b'{"a": 1}') == {"a": 1}
    assert loads('{"a": 1}') == {"a": 1}


def test_flat_layers_match_renderer(project_tree, second_project):
    state_model = StateModel(ProjectSerializer(), "ProjectChannel")
    anchor_ids = [project_tree.project.pk, second_project.project.pk]

    for layer in state_model.layers:
        for row in layer.queryset_for_anchors(anchor_ids):
            flat = layer.serialize(row, TSTAMP)
            fields = {name: value for name, value in flat.items() if not name.startswith("_")}
            expected = render(layer.flat_serializer_class(row).data)
            assert orjson.loads(dumps(fields)) == expected, layer
            assert fields == expected, layer


class RichProjectSerializer(serializers.ModelSerializer):
    budget_number = serializers.DecimalField(
        source="budget", max_digits=12, decimal_places=2, coerce_to_string=False, read_only=True
    )
    snapshot = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "budget", "budget_number", "snapshot"]

    def get_snapshot(self, project) -> dict:
        return {
            "starts_at": project.starts_at,
            "day": project.starts_at.date(),
            "budget": project.budget,
            "public_id": project.public_id,
            "tag_ids": tuple(tag.pk for tag in project.tags.all()),
        }


def test_method_field_values_rendered_like_drf(project_tree):
    project = project_tree.project
    layer = StateModel(RichProjectSerializer(), "RichChannel").root

    flat = layer.serialize(project, TSTAMP)

    assert flat["budget"] == "1234.50"
    assert flat["budget_number"] == 1234.5
    assert flat["snapshot"] == {
        "starts_at": "2025-03-01T09:30:00Z",
        "day": "2025-03-01",
        "budget": 1234.5,
        "public_id": str(project.public_id),
        "tag_ids": [project_tree.tags.backend.pk, project_tree.tags.urgent.pk],
    }
    fields = {name: value for name, value in flat.items() if not name.startswith("_")}
    assert fields == render(RichProjectSerializer(project).data)
