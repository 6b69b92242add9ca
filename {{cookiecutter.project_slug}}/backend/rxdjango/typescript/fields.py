"""TypeScript types of DRF serializer fields and Django model fields.

Each type describes the JSON value that the field's `to_representation` output becomes after
`rxdjango.serialization.to_json_safe`, as DRF 3.18 renders it.
"""

import inspect

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.settings import api_settings

from rxdjango.state_model import find_relation
from rxdjango.typescript import tstypes
from rxdjango.typescript.python_types import python_type_to_ts, resolve_hints

# Serializer field classes whose output is always a string. Subclasses of CharField (EmailField,
# RegexField, SlugField, URLField, IPAddressField) and the date and time fields belong here.
_STRING_FIELDS = (
    drf_fields.CharField,
    drf_fields.DateTimeField,
    drf_fields.DateField,
    drf_fields.TimeField,
    drf_fields.DurationField,
    relations.StringRelatedField,
    relations.HyperlinkedRelatedField,
)

# Model field classes whose raw value renders as a JSON string.
_STRING_MODEL_FIELDS = (
    models.CharField,
    models.TextField,
    models.UUIDField,
    models.DateField,
    models.TimeField,
    models.DurationField,
    models.GenericIPAddressField,
    models.BinaryField,
)


def serializer_name(serializer_class) -> str:
    """Return the base of a serializer's TypeScript names: its class name without the "Serializer" suffix."""
    name = serializer_class.__name__
    if name.endswith("Serializer") and name != "Serializer":
        name = name[: -len("Serializer")]
    return name


class FieldTyper:
    """Map the fields of bound serializers to TypeScript types.

    `interface_name` returns the TypeScript interface name of a nested serializer class.
    With `flat=True`, nested serializers map to the primary key (or array of keys) that a
    flat instance contains in their place.
    """

    def __init__(self, interface_name, flat=False):
        self.interface_name = interface_name
        self.flat = flat

    def field_type(self, field) -> str:
        """Return the TypeScript type of a bound serializer field's output, including `| null` when it can be null.

        A field can be null when it allows null, and also when its source is a nullable model
        field or a reverse one-to-one relation, because DRF outputs None for a None attribute
        without calling the field.
        """
        ts_type = self._base_type(field)
        if field_is_nullable(field):
            ts_type = tstypes.nullable(ts_type)
        return ts_type

    def _base_type(self, field) -> str:
        if isinstance(field, serializers.ListSerializer):
            return tstypes.array_of(self._nested_type(field.child, field))
        if isinstance(field, serializers.BaseSerializer):
            return self._nested_type(field, field)
        if isinstance(field, relations.ManyRelatedField):
            return tstypes.array_of(self._related_type(field.child_relation, field))
        if isinstance(field, relations.RelatedField):
            return self._related_type(field, field)
        if isinstance(field, serializers.SerializerMethodField):
            return self._method_type(field)
        if isinstance(field, serializers.ReadOnlyField):
            return self._read_only_type(field)
        if isinstance(field, serializers.ModelField):
            return model_field_type(field.model_field)
        return scalar_field_type(field, self.field_type)

    def _nested_type(self, serializer, field) -> str:
        if not self.flat:
            return self.interface_name(type(serializer))
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        if model is None:
            return tstypes.UNKNOWN
        return primary_key_type(model)

    def _related_type(self, relation, source_field) -> str:
        if isinstance(relation, relations.HyperlinkedRelatedField | relations.StringRelatedField):
            return "string"
        related_model = _related_model(relation, source_field)
        if isinstance(relation, relations.PrimaryKeyRelatedField):
            if relation.pk_field is not None:
                return scalar_field_type(relation.pk_field, self.field_type)
            return primary_key_type(related_model) if related_model is not None else tstypes.UNKNOWN
        if isinstance(relation, relations.SlugRelatedField) and related_model is not None:
            try:
                return model_field_type(related_model._meta.get_field(relation.slug_field))
            except FieldDoesNotExist:
                return tstypes.UNKNOWN
        return tstypes.UNKNOWN

    def _method_type(self, field) -> str:
        method = getattr(field.parent, field.method_name, None)
        if method is None:
            return tstypes.UNKNOWN
        return python_type_to_ts(resolve_hints(method).get("return", inspect.Parameter.empty))

    def _read_only_type(self, field) -> str:
        model = _parent_model(field)
        if model is None or field.source == "*":
            return tstypes.UNKNOWN
        return source_type(model, field.source_attrs)


def scalar_field_type(field, field_type) -> str:
    """Return the TypeScript type of a DRF field that is not a relation, without its allow_null part.

    `field_type` maps a child field (of a ListField or DictField) with its allow_null part.
    """
    if isinstance(field, drf_fields.MultipleChoiceField):
        return tstypes.array_of(_choice_type(field))
    if isinstance(field, drf_fields.ChoiceField):
        return _choice_type(field)
    if isinstance(field, drf_fields.UUIDField):
        return "number" if field.uuid_format == "int" else "string"
    if isinstance(field, drf_fields.FileField):
        # FileField and ImageField render a missing file as null.
        return tstypes.nullable("string")
    if isinstance(field, _STRING_FIELDS):
        return "string"
    if isinstance(field, drf_fields.BooleanField):
        return "boolean"
    if isinstance(field, drf_fields.BigIntegerField):
        coerce = getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
        return "string" if coerce else "number"
    if isinstance(field, drf_fields.IntegerField | drf_fields.FloatField):
        return "number"
    if isinstance(field, drf_fields.DecimalField):
        coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
        return "string" if coerce else "number"
    if isinstance(field, drf_fields.HStoreField):
        return tstypes.record_of(tstypes.nullable("string"))
    if isinstance(field, drf_fields.ListField):
        return tstypes.array_of(field_type(field.child))
    if isinstance(field, drf_fields.DictField):
        return tstypes.record_of(field_type(field.child))
    return tstypes.UNKNOWN


def _choice_type(field) -> str:
    values = list(field.choices)
    if getattr(field, "allow_blank", False):
        values.append("")
    if not values:
        # Choices that are filled in later (for example from the database) leave nothing to list.
        return tstypes.UNKNOWN
    return tstypes.union(*(tstypes.literal(_choice_value(value)) for value in values))


def _choice_value(value):
    if value is None or isinstance(value, bool | int | float | str):
        # Enum members of TextChoices and IntegerChoices are str and int subclasses.
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str.__str__(value)
        return value
    return str(value)


def model_field_type(model_field) -> str:
    """Return the TypeScript type of a model field's raw value as JSON, including `| null` for null=True.

    A relation maps to the type of the key it stores.
    """
    ts_type = _model_field_base_type(model_field)
    if getattr(model_field, "null", False):
        ts_type = tstypes.nullable(ts_type)
    return ts_type


def _model_field_base_type(model_field) -> str:
    if model_field.is_relation:
        target = getattr(model_field, "target_field", None)
        if model_field.many_to_many or model_field.one_to_many or target is None:
            return tstypes.UNKNOWN
        return _model_field_base_type(target)
    if model_field.choices:
        return tstypes.union(*(tstypes.literal(_choice_value(value)) for value, _label in model_field.flatchoices))
    if isinstance(model_field, models.BooleanField):
        return "boolean"
    if isinstance(model_field, models.AutoField | models.BigAutoField | models.SmallAutoField):
        return "number"
    if isinstance(model_field, models.IntegerField | models.FloatField | models.DecimalField):
        # A raw Decimal renders as a JSON number, as DRF's JSONEncoder does.
        return "number"
    if isinstance(model_field, _STRING_MODEL_FIELDS):
        return "string"
    return tstypes.UNKNOWN


def primary_key_type(model) -> str:
    """Return the TypeScript type of a model's primary key values."""
    return _model_field_base_type(model._meta.pk)


def source_type(model, source_attrs) -> str:
    """Return the TypeScript type of the value reached from `model` through a dotted source.

    The source may pass through forward relations and end at a model field, a property or a
    method. Properties and methods map by their return annotation, or to `unknown` without one.
    """
    current = model
    for index, attribute in enumerate(source_attrs):
        last = index == len(source_attrs) - 1
        try:
            model_field = current._meta.get_field(attribute)
        except FieldDoesNotExist:
            if not last:
                return tstypes.UNKNOWN
            return _attribute_type(current, attribute)
        if last:
            return model_field_type(model_field)
        if not (model_field.is_relation and (model_field.many_to_one or model_field.one_to_one)):
            return tstypes.UNKNOWN
        current = model_field.related_model
    return tstypes.UNKNOWN


def _attribute_type(model, attribute) -> str:
    value = inspect.getattr_static(model, attribute, None)
    if isinstance(value, property):
        function = value.fget
    elif inspect.isfunction(value):
        function = value
    else:
        return tstypes.UNKNOWN
    return python_type_to_ts(resolve_hints(function).get("return", inspect.Parameter.empty))


def field_is_nullable(field) -> bool:
    """Tell whether a bound serializer field's output can be null, as `FieldTyper.field_type` describes."""
    return bool(getattr(field, "allow_null", False)) or source_is_nullable(field)


def source_is_nullable(field) -> bool:
    """Tell whether the model attribute that a to-one field reads can be None."""
    if isinstance(field, serializers.ListSerializer | relations.ManyRelatedField) or field.source == "*":
        return False
    model = _parent_model(field)
    source_attrs = getattr(field, "source_attrs", None)
    if model is None or not source_attrs:
        return False
    for attribute in source_attrs[:-1]:
        relation = find_relation(model, attribute)
        if relation is None or relation.to_many:
            return False
        model = relation.related_model

    last = source_attrs[-1]
    relation = find_relation(model, last)
    if relation is not None and relation.kind == "reverse_one_to_one":
        return True
    try:
        model_field = model._meta.get_field(last)
    except FieldDoesNotExist:
        return False
    return bool(getattr(model_field, "null", False)) and not model_field.many_to_many and not model_field.one_to_many


def _parent_model(field):
    parent = field.parent
    while parent is not None and not isinstance(parent, serializers.BaseSerializer):
        parent = parent.parent
    if isinstance(parent, serializers.ListSerializer):
        parent = parent.child
    return getattr(getattr(parent, "Meta", None), "model", None)


def _related_model(relation, source_field):
    """Return the model that a related field points to, from its queryset or from the serializer's model."""
    queryset = getattr(relation, "queryset", None)
    if queryset is not None:
        return queryset.model
    model = _parent_model(source_field)
    if model is None or source_field.source == "*":
        return None
    for attribute in source_field.source_attrs:
        relation = find_relation(model, attribute)
        if relation is None:
            return None
        model = relation.related_model
    return model
