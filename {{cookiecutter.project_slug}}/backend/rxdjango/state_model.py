"""The state model: a channel's nested serializer split into flat layers.

Every serializer occurrence in the nested serializer tree of `ContextChannel.Meta.state` is
one `Layer`. A layer serializes its rows flat: each nested serializer field becomes the
related primary key, or a list of keys for `many=True`. A layer also finds, with one ORM
query, the anchors (the top-most rows of the tree) that contain a given row. `StateModel`
builds the layers, validates the serializer `Meta` options that rxdjango reads, loads every
flat instance of an anchor, and rebuilds the nested representation from flat instances.
"""

import math
import threading
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import NamedTuple

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.fields.reverse_related import ForeignObjectRel, ManyToManyRel, OneToOneRel
from rest_framework import relations, serializers

from .exceptions import ChannelConfigError
from .related_properties import RelatedProperty
from .serialization import to_json_safe

INITIAL_STATE = "initial_state"
OPERATIONS = frozenset({INITIAL_STATE, "create", "update", "delete"})

# Keys that flat instances and cached documents add to the serializer fields.
RESERVED_FIELD_NAMES = frozenset({"_instance_type", "_tstamp", "_operation", "_id", "_anchor", "_user", "_deleted"})

DEFAULT_OPTIMISTIC_TIMEOUT = 3


def instance_type_of(serializer_class) -> str:
    """Return the instance type of a serializer class: its dotted path."""
    return f"{serializer_class.__module__}.{serializer_class.__qualname__}"


class RelatedPropertyWatch(NamedTuple):
    """A model whose changes re-serialize the rows of a layer that shows a related_property.

    The rows to re-serialize after a change to the watched row `pk` are
    `layer.model._default_manager.filter(**{lookup: pk})`.
    """

    watched_model: type[models.Model]
    layer: "Layer"
    lookup: str


class Relation(NamedTuple):
    """A relation from a parent model to the model of a nested serializer."""

    related_model: type[models.Model]
    to_many: bool
    # "foreign_key", "one_to_one", "many_to_many", "reverse_foreign_key",
    # "reverse_one_to_one" or "reverse_many_to_many", as seen from the parent.
    kind: str
    # ORM lookup from the parent model to the related model.
    query_name: str
    # ORM lookup from the related model back to the parent, or None when the relation's
    # related_name ends with "+" and no related_query_name is set.
    reverse_query_name: str | None


def _concrete(model):
    return model._meta.concrete_model


def _reverse_query_name_of(field) -> str | None:
    """Return the lookup from a forward relation's target back to its model, or None if hidden."""
    remote = field.remote_field
    if getattr(remote, "symmetrical", False) and field.related_model == field.model:
        return field.name
    if remote.hidden and not remote.related_query_name:
        return None
    return field.related_query_name()


def find_relation(model, name) -> Relation | None:
    """Return the relation that attribute `name` of `model` follows, or None if it is no relation.

    `name` is an attribute name as a serializer source uses it: a ForeignKey, OneToOneField or
    ManyToManyField name, or a reverse accessor such as `task_set` or a related_name.
    """
    for field in model._meta.get_fields():
        if isinstance(field, ForeignObjectRel):
            if field.get_accessor_name() != name:
                continue
            if not isinstance(field.field, models.ForeignKey | models.ManyToManyField):
                return None
            if isinstance(field, OneToOneRel):
                kind, to_many = "reverse_one_to_one", False
            elif isinstance(field, ManyToManyRel):
                kind, to_many = "reverse_many_to_many", True
            else:
                kind, to_many = "reverse_foreign_key", True
            return Relation(field.related_model, to_many, kind, field.name, field.field.name)
        if field.name != name:
            continue
        if isinstance(field, models.OneToOneField):
            kind, to_many = "one_to_one", False
        elif isinstance(field, models.ForeignKey):
            kind, to_many = "foreign_key", False
        elif isinstance(field, models.ManyToManyField):
            kind, to_many = "many_to_many", True
        else:
            return None
        return Relation(field.related_model, to_many, kind, field.name, _reverse_query_name_of(field))
    return None


def _relation_names(model) -> list[str]:
    names = []
    for field in model._meta.get_fields():
        if isinstance(field, ForeignObjectRel):
            name = field.get_accessor_name()
        else:
            name = field.name
        if name and find_relation(model, name) is not None:
            names.append(name)
    return names


def resolve_lookup(model, lookup) -> tuple[str, type[models.Model]] | None:
    """Resolve an ORM lookup across relations, accepting reverse accessor names as well.

    Returns the lookup written with query names (`comment_set` becomes `comment`) and the
    model it reaches, or None when a part of it is not a relation.
    """
    parts = []
    for part in lookup.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            relation = find_relation(model, part)
            if relation is None:
                return None
            parts.append(relation.query_name)
            model = relation.related_model
            continue
        if not field.is_relation or field.related_model is None:
            return None
        parts.append(field.name)
        model = field.related_model
    return "__".join(parts), model


def _batched(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


class NestedField(NamedTuple):
    """A nested serializer field of a layer's declared serializer."""

    name: str
    source: str
    many: bool
    allow_null: bool


# Attribute of a model instance with preloaded key lists: {flat field name: [primary keys]}.
PRELOADED_KEYS = "_rx_keys"


class PrimaryKeyListField(relations.ManyRelatedField):
    """The primary keys of a to-many relation, in the order of its related manager.

    `Layer.serialize_many` preloads the keys of all its rows with one query per relation;
    a row without them reads the related manager.
    """

    def get_attribute(self, instance):
        preloaded = getattr(instance, PRELOADED_KEYS, None)
        if preloaded is not None and self.field_name in preloaded:
            return preloaded[self.field_name]
        return [row.pk for row in super().get_attribute(instance)]

    def to_representation(self, iterable):
        return list(iterable)


_flat_serializer_classes = {}


def flat_serializer_class_for(serializer_class, nested_fields: tuple[NestedField, ...]):
    """Return a subclass of `serializer_class` whose nested serializer fields are primary keys.

    The subclass keeps the declared fields, SerializerMethodFields, methods and Meta of the
    serializer. Each nested serializer field becomes a read-only PrimaryKeyRelatedField with
    the same source, and `many=True` gives a list of keys in the order the nested serializer
    would list the rows. Classes are cached, so equal arguments return the same class.
    """
    key = (serializer_class, nested_fields)
    cached = _flat_serializer_classes.get(key)
    if cached is not None:
        return cached

    class FlatSerializer(serializer_class):
        def get_fields(self):
            fields = super().get_fields()
            for nested in nested_fields:
                kwargs = {"read_only": True}
                if nested.source != nested.name:
                    kwargs["source"] = nested.source
                if nested.many:
                    fields[nested.name] = PrimaryKeyListField(
                        child_relation=serializers.PrimaryKeyRelatedField(read_only=True), **kwargs
                    )
                    continue
                if nested.allow_null:
                    kwargs["allow_null"] = True
                fields[nested.name] = serializers.PrimaryKeyRelatedField(**kwargs)
            return fields

    FlatSerializer.__name__ = f"Flat{serializer_class.__name__}"
    FlatSerializer.__qualname__ = f"Flat{serializer_class.__qualname__}"
    FlatSerializer.__module__ = serializer_class.__module__
    FlatSerializer.__doc__ = f"{serializer_class.__name__} with nested serializers replaced by primary keys."
    _flat_serializer_classes[key] = FlatSerializer
    return FlatSerializer


class Layer:
    """One serializer occurrence in the nested serializer tree of a channel's state."""

    def __init__(self, *, serializer_class, model, parent, relation_name, source, relation, many):
        self.instance_type: str = instance_type_of(serializer_class)
        self.model: type[models.Model] = model
        self.serializer_class = serializer_class
        self.flat_serializer_class = None
        self.parent: Layer | None = parent
        # Field name in the parent serializer, and the parent model attribute it reads.
        self.relation_name: str | None = relation_name
        self.source: str | None = source
        self.relation: Relation | None = relation
        self.many: bool = many
        self.children: list[Layer] = []
        self.anchor_model: type[models.Model] = parent.anchor_model if parent else model
        # ORM lookups from this layer's model to the anchor model and back, both None for the
        # anchor layer. path_to_anchor is also None when a relation on the way up hides its
        # reverse lookup with related_name="+", and anchor_ids then queries from the anchor side.
        self.path_to_anchor: str | None = None
        self.path_from_anchor: str | None = None
        self.user_key: str | None = None
        self.optimistic: bool = False
        self.optimistic_timeout: float = DEFAULT_OPTIMISTIC_TIMEOUT
        # Output field names of the flat serializer, in the serializer's order.
        self.field_names: list[str] = []
        self._children_by_name: dict[str, Layer] = {}
        self._select_related: list[str] = []
        # Many-relations that the flat serializer lists as primary keys, with the lookup
        # from the related model back to this layer's model: (field name, related model, lookup).
        self._key_lists: list[tuple[str, type[models.Model], str]] = []
        # Sources of the other many-relations, prefetched: a field that reads more than the
        # row's columns, such as a SerializerMethodField, may read them, or the related model
        # has no lookup back (a many-to-many field with related_name="+").
        self._prefetch_related: list[str] = []
        # One flat serializer per thread, kept for serialize().
        self._local = threading.local()

    def __repr__(self):
        return f"<Layer {self.instance_type} at {self.path_from_anchor or 'anchor'}>"

    @property
    def is_anchor(self) -> bool:
        return self.parent is None

    def child(self, relation_name) -> "Layer | None":
        """Return the child layer nested under the parent serializer field `relation_name`."""
        return self._children_by_name.get(relation_name)

    def serialize(self, instance, tstamp: float, operation: str = INITIAL_STATE) -> dict:
        """Serialize one row as a flat instance with JSON-safe values."""
        _check_operation(operation)
        data = self._flat_serializer().to_representation(instance)
        return self._flat_instance(instance.pk, data, tstamp, operation)

    def _flat_serializer(self):
        # A ModelSerializer inspects its model to build its fields, which costs more than
        # serializing one row, so each thread builds them once and reuses the serializer.
        serializer = getattr(self._local, "serializer", None)
        if serializer is None:
            serializer = self._local.serializer = self.flat_serializer_class()
        return serializer

    def serialize_many(self, instances: Iterable, tstamp: float, operation: str = INITIAL_STATE) -> list[dict]:
        """Serialize rows as flat instances, building the serializer fields once for all rows."""
        _check_operation(operation)
        rows = list(instances)
        if not rows:
            return []
        self.preload_keys(rows)
        serializer = self._flat_serializer()
        return [self._flat_instance(row.pk, serializer.to_representation(row), tstamp, operation) for row in rows]

    def preload_keys(self, rows):
        """Read the key lists of the rows' to-many relations, one query per relation.

        Each row keeps them in its PRELOADED_KEYS attribute, where PrimaryKeyListField finds them.
        """
        if not self._key_lists:
            return
        pks = [row.pk for row in rows]
        for name, related_model, lookup in self._key_lists:
            keys = {}
            pairs = related_model._default_manager.filter(**{f"{lookup}__in": pks}).values_list(lookup, "pk")
            for parent_pk, pk in pairs:
                keys.setdefault(parent_pk, []).append(pk)
            for row in rows:
                preloaded = row.__dict__.setdefault(PRELOADED_KEYS, {})
                preloaded[name] = keys.get(row.pk, [])

    def _flat_instance(self, pk, data, tstamp, operation):
        # "id" is always the primary key, also when the serializer has no "id" field.
        flat = {
            "id": to_json_safe(pk),
            "_instance_type": self.instance_type,
            "_tstamp": tstamp,
            "_operation": operation,
        }
        for name, value in data.items():
            if name != "id":
                flat[name] = to_json_safe(value)
        return flat

    def user_id_of(self, flat: dict):
        """Return the primary key of the user who owns a flat instance of a user_key layer, else None."""
        if self.user_key is None:
            return None
        return flat.get(self.user_key)

    def anchor_ids(self, pk, restrict_to=None) -> list:
        """Return the primary keys of the anchors whose tree contains row `pk` of this layer's model.

        Runs one query, except for the anchor layer, which returns `[pk]` without checking
        that the row exists. `restrict_to`, an iterable of anchor ids, limits the result to
        those anchors. The query starts from the base manager, so a row that the default
        manager hides still finds its anchors.
        """
        if restrict_to is not None:
            restrict_to = list(restrict_to)
            if not restrict_to:
                return []

        if self.is_anchor:
            anchor_pk = self.model._meta.pk.to_python(pk)
            if restrict_to is not None and str(anchor_pk) not in {str(anchor) for anchor in restrict_to}:
                return []
            return [anchor_pk]

        if self.path_to_anchor is not None:
            queryset = self.model._base_manager.filter(pk=pk)
            if restrict_to is not None:
                queryset = queryset.filter(**{f"{self.path_to_anchor}__in": restrict_to})
            values = queryset.values_list(self.path_to_anchor, flat=True)
        else:
            queryset = self.anchor_model._base_manager.filter(**{self.path_from_anchor: pk})
            if restrict_to is not None:
                queryset = queryset.filter(pk__in=restrict_to)
            values = queryset.values_list("pk", flat=True)
        return list(dict.fromkeys(value for value in values.order_by() if value is not None))

    def queryset_for_anchors(self, anchor_ids) -> models.QuerySet:
        """Return the rows of this layer under the given anchors, each row once.

        The queryset selects and prefetches the relations that the flat serializer reads,
        so serializing its rows costs one query per many-relation, not one per row.
        Serializer fields that run their own queries (a SerializerMethodField, a property)
        still run them per row.
        """
        anchor_ids = list(anchor_ids)
        manager = self.model._default_manager
        if self.is_anchor:
            queryset = manager.filter(pk__in=anchor_ids)
        elif self.path_to_anchor is not None:
            row_ids = self.model._base_manager.filter(**{f"{self.path_to_anchor}__in": anchor_ids}).values("pk")
            queryset = manager.filter(pk__in=row_ids)
        else:
            row_ids = self.anchor_model._base_manager.filter(pk__in=anchor_ids).values(self.path_from_anchor)
            queryset = manager.filter(pk__in=row_ids)
        if self._select_related:
            queryset = queryset.select_related(*self._select_related)
        if self._prefetch_related:
            queryset = queryset.prefetch_related(*self._prefetch_related)
        return queryset


def _check_operation(operation):
    if operation not in OPERATIONS:
        raise ValueError(f"Invalid operation {operation!r}. Expected one of: {', '.join(sorted(OPERATIONS))}.")


class StateModel:
    """The layers of a channel state and the operations on them.

    `serializer` is the ModelSerializer instance of `ContextChannel.Meta.state`. With
    `many=True` the channel is a list channel. `owner` names the channel class in the
    ChannelConfigError messages raised for an invalid serializer.
    """

    def __init__(self, serializer, owner: str):
        self.owner = owner
        self.many = isinstance(serializer, serializers.ListSerializer)
        root_serializer = serializer.child if self.many else serializer
        if not isinstance(root_serializer, serializers.ModelSerializer):
            raise ChannelConfigError(self._describe_invalid_state(serializer))

        self.layers: list[Layer] = []
        self.root: Layer = self._build_layer(root_serializer, parent=None, nested_field=None, relation=None)
        self.anchor_model = self.root.model
        self.related_property_watches: list[RelatedPropertyWatch] = self._find_related_property_watches()

    def __repr__(self):
        return f"<StateModel of {self.owner}: {len(self.layers)} layers>"

    # Lookups

    def layers_for_model(self, model) -> list[Layer]:
        """Return the layers whose model is `model`, comparing concrete models so proxies match."""
        concrete = _concrete(model)
        return [layer for layer in self.layers if _concrete(layer.model) is concrete]

    def layers_for_serializer(self, serializer_class) -> list[Layer]:
        """Return the layers of a serializer class, or of an instance type string."""
        if isinstance(serializer_class, str):
            return [layer for layer in self.layers if layer.instance_type == serializer_class]
        return [layer for layer in self.layers if layer.serializer_class is serializer_class]

    # Loading and nesting

    def load_anchor(self, anchor_id, tstamp: float, batch_size: int) -> Iterator[list[dict]]:
        """Yield every flat instance of an anchor's tree in lists of at most `batch_size`.

        Layers are read in pre-order, the anchor first. Each layer costs one query, plus one
        query per prefetched many-relation for every `batch_size` rows. An instance type and id
        that appear in several layers are yielded once. Instances of user_key layers are
        included for every user, and `Layer.user_id_of` returns the owner of each. Yields
        nothing when the anchor row does not exist.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size!r}.")
        seen = set()
        batch = []
        for layer in self.layers:
            queryset = layer.queryset_for_anchors([anchor_id])
            for rows in _batched(queryset.iterator(chunk_size=batch_size), batch_size):
                for flat in layer.serialize_many(rows, tstamp):
                    key = (flat["_instance_type"], flat["id"])
                    if key in seen:
                        continue
                    seen.add(key)
                    batch.append(flat)
                    if len(batch) >= batch_size:
                        yield batch
                        batch = []
        if batch:
            yield batch

    def nest(self, flat_instances: Iterable[dict], anchor_id) -> dict:
        """Rebuild the nested representation of an anchor from flat instances.

        Instances are applied in order: a later instance with the same instance type and
        id updates the fields of an earlier one (so deltas apply), and a "delete" operation
        removes it. Related ids that match no instance are left out of lists and become
        None for single relations. With the complete flat state of the anchor, the result
        equals the nested serializer's `.data` rendered as JSON.
        Raises LookupError when no instance of the anchor is given.
        """
        index = {}
        for flat in flat_instances:
            key = (flat["_instance_type"], str(flat["id"]))
            if flat.get("_operation") == "delete":
                index.pop(key, None)
                continue
            previous = index.get(key)
            index[key] = {**previous, **flat} if previous else flat

        root = index.get((self.root.instance_type, str(anchor_id)))
        if root is None:
            raise LookupError(f"No flat instance of anchor {anchor_id!r} ({self.root.instance_type}) was given.")
        return self._nest_instance(self.root, root, index)

    def _nest_instance(self, layer, flat, index):
        nested = {}
        for name in layer.field_names:
            if name not in flat:
                continue
            value = flat[name]
            child = layer.child(name)
            if child is None:
                nested[name] = value
            elif child.many:
                items = []
                for related_id in value or []:
                    related = index.get((child.instance_type, str(related_id)))
                    if related is not None:
                        items.append(self._nest_instance(child, related, index))
                nested[name] = items
            else:
                related = None if value is None else index.get((child.instance_type, str(value)))
                nested[name] = None if related is None else self._nest_instance(child, related, index)
        return nested

    # Building the layers

    def _build_layer(self, serializer, parent, nested_field, relation):
        serializer_class = type(serializer)
        model = self._model_of(serializer_class)
        layer = Layer(
            serializer_class=serializer_class,
            model=model,
            parent=parent,
            relation_name=nested_field.name if nested_field else None,
            source=nested_field.source if nested_field else None,
            relation=relation,
            many=nested_field.many if nested_field else False,
        )
        if parent is not None:
            layer.path_from_anchor = _join_lookup(relation.query_name, parent.path_from_anchor, reverse=True)
            if relation.reverse_query_name is not None and (parent.is_anchor or parent.path_to_anchor is not None):
                layer.path_to_anchor = _join_lookup(relation.reverse_query_name, parent.path_to_anchor)
        self.layers.append(layer)

        depth = getattr(serializer_class.Meta, "depth", 0)
        if depth:
            raise self._error(
                f"{serializer_class.__name__}.Meta.depth",
                f"is {depth!r}, but nested serializers built by depth have no class of their own to name their layer",
                "Remove Meta.depth and declare each nested serializer as a field.",
            )

        fields = serializer.fields
        self._check_reserved_names(serializer_class, fields)

        nested_fields = []
        for name, field in fields.items():
            if isinstance(field, serializers.BaseSerializer):
                nested_fields.append(self._nested_field_of(serializer_class, model, name, field))

        layer.flat_serializer_class = flat_serializer_class_for(serializer_class, tuple(nested_fields))
        flat_fields = layer.flat_serializer_class().fields
        layer.field_names = [name for name, field in flat_fields.items() if not field.write_only]
        self._read_meta_options(layer, fields)

        # The key lists of to-many relations are read with one values query each, unless
        # another field may read the related rows and should find them prefetched.
        keys_alone = _reads_own_columns(model, flat_fields, {nested.name for nested in nested_fields})
        for nested_field in nested_fields:
            field = fields[nested_field.name]
            child_serializer = field.child if nested_field.many else field
            child_relation = find_relation(model, nested_field.source)
            child = self._build_layer(child_serializer, layer, nested_field, child_relation)
            layer.children.append(child)
            layer._children_by_name[nested_field.name] = child
            if nested_field.many and keys_alone and child_relation.reverse_query_name is not None:
                layer._key_lists.append(
                    (nested_field.name, child_relation.related_model, child_relation.reverse_query_name)
                )
            elif nested_field.many:
                layer._prefetch_related.append(nested_field.source)
            elif child_relation.kind == "reverse_one_to_one":
                layer._select_related.append(child_relation.query_name)
        layer._select_related.extend(_forward_paths_of_sources(model, flat_fields, layer._children_by_name))
        return layer

    def _nested_field_of(self, serializer_class, model, name, field) -> NestedField:
        """Validate a nested serializer field and describe it."""
        option = f"{serializer_class.__name__}.{name}"
        many = isinstance(field, serializers.ListSerializer)
        child = field.child if many else field
        if not isinstance(child, serializers.ModelSerializer):
            raise self._error(
                option,
                f"is a {type(child).__name__}, which is not a ModelSerializer",
                "Nested serializers of a channel state must be ModelSerializer subclasses with Meta.model set. "
                f"Make {type(child).__name__} a ModelSerializer or replace the field with a SerializerMethodField.",
            )

        source = field.source
        relation = None if source == "*" or "." in source else find_relation(model, source)
        if relation is None:
            choices = ", ".join(repr(name) for name in _relation_names(model)) or "none"
            raise self._error(
                option,
                f"has source {source!r}, which is not a relation of {model.__name__}",
                "Set the field's source to the name of one ForeignKey, OneToOneField, ManyToManyField or reverse "
                f"accessor of {model.__name__} (available: {choices}).",
            )

        if relation.to_many and not many:
            raise self._error(
                option,
                f"nests the {relation.kind.replace('_', ' ')} {source!r} without many=True",
                f"Declare it as {type(child).__name__}(many=True, read_only=True).",
            )
        if many and not relation.to_many:
            raise self._error(
                option,
                f"has many=True, but {source!r} is a {relation.kind.replace('_', ' ')} to a single row",
                f"Declare it as {type(child).__name__}(read_only=True), without many=True.",
            )

        child_model = self._model_of(type(child))
        if _concrete(child_model) is not _concrete(relation.related_model):
            raise self._error(
                option,
                f"serializes {child_model.__name__} rows, but {source!r} leads to {relation.related_model.__name__}",
                f"Nest a serializer whose Meta.model is {relation.related_model.__name__}.",
            )
        return NestedField(name=name, source=source, many=many, allow_null=bool(getattr(field, "allow_null", False)))

    def _model_of(self, serializer_class):
        model = getattr(getattr(serializer_class, "Meta", None), "model", None)
        if not (isinstance(model, type) and issubclass(model, models.Model)):
            raise self._error(
                f"{serializer_class.__name__}.Meta.model",
                "is missing",
                f"Declare class Meta with model = <the model class> in {serializer_class.__name__}.",
            )
        return model

    def _check_reserved_names(self, serializer_class, fields):
        for name in fields:
            if name in RESERVED_FIELD_NAMES:
                raise self._error(
                    f"{serializer_class.__name__}.{name}",
                    "uses a name that rxdjango reserves for flat instances and cached documents",
                    f"Rename the field. Reserved names are: {', '.join(sorted(RESERVED_FIELD_NAMES))}.",
                )

    def _read_meta_options(self, layer, fields):
        """Validate and copy the serializer Meta options user_key, optimistic and optimistic_timeout."""
        meta = layer.serializer_class.Meta
        name = layer.serializer_class.__name__
        model = layer.model

        user_key = getattr(meta, "user_key", None)
        if user_key is not None:
            readable = [field_name for field_name, field in fields.items() if not field.write_only]
            if user_key not in readable:
                raise self._error(
                    f"{name}.Meta.user_key",
                    f"is {user_key!r}, which is not a field of {name}",
                    f"Add {user_key!r} to {name}.Meta.fields, or set user_key to one of: "
                    f"{', '.join(repr(field_name) for field_name in readable)}.",
                )
            source = fields[user_key].source
            try:
                model._meta.get_field(source)
            except FieldDoesNotExist:
                raise self._error(
                    f"{name}.Meta.user_key",
                    f"is {user_key!r}, whose source {source!r} is not a field of {model.__name__}",
                    f"Point user_key at a field of {model.__name__} that stores the owning user, "
                    "such as a ForeignKey to the user model.",
                ) from None
            layer.user_key = user_key

        optimistic = getattr(meta, "optimistic", False)
        if not isinstance(optimistic, bool):
            raise self._error(
                f"{name}.Meta.optimistic",
                f"is {optimistic!r}, not a boolean",
                "Set optimistic = True or optimistic = False.",
            )
        layer.optimistic = optimistic

        timeout = getattr(meta, "optimistic_timeout", DEFAULT_OPTIMISTIC_TIMEOUT)
        valid_number = isinstance(timeout, int | float) and not isinstance(timeout, bool) and math.isfinite(timeout)
        if not valid_number or timeout <= 0:
            raise self._error(
                f"{name}.Meta.optimistic_timeout",
                f"is {timeout!r}, not a positive number of seconds",
                f"Set optimistic_timeout to a number above 0, or remove it to use the default of "
                f"{DEFAULT_OPTIMISTIC_TIMEOUT} seconds.",
            )
        layer.optimistic_timeout = float(timeout)

    def _find_related_property_watches(self) -> list[RelatedPropertyWatch]:
        """Find the serializer fields whose source is a related_property and the models they watch."""
        watches = []
        for layer in self.layers:
            for field_name, field in layer.flat_serializer_class().fields.items():
                if layer.child(field_name) is not None or not field.source_attrs:
                    continue
                watches.extend(self._watches_of_source(layer, field_name, field.source_attrs))
        return list(dict.fromkeys(watches))

    def _watches_of_source(self, layer, field_name, source_attrs):
        # The property may sit on a model reached through relations, as in source="project.open_task_count".
        prefix = []
        model = layer.model
        for attribute in source_attrs[:-1]:
            relation = find_relation(model, attribute)
            if relation is None or relation.to_many:
                return []
            prefix.append(relation.query_name)
            model = relation.related_model

        prop = getattr(model, source_attrs[-1], None)
        if not isinstance(prop, RelatedProperty):
            return []

        watches = []
        for relation_lookup in prop.relations:
            resolved = resolve_lookup(model, relation_lookup)
            if resolved is None:
                raise self._error(
                    f"{layer.serializer_class.__name__}.{field_name}",
                    f"reads {model.__name__}.{source_attrs[-1]}, whose related_property lookup "
                    f"{relation_lookup!r} is not a relation path of {model.__name__}",
                    "Write each related_property argument as an ORM lookup across relations, "
                    f"e.g. one of: {', '.join(repr(name) for name in _relation_names(model)) or 'none'}.",
                )
            lookup, watched_model = resolved
            watches.append(RelatedPropertyWatch(watched_model, layer, "__".join([*prefix, lookup])))
        return watches

    # Errors

    def _error(self, option, problem, fix) -> ChannelConfigError:
        return ChannelConfigError(f"{self.owner}.Meta.state: {option} {problem}. {fix}")

    def _describe_invalid_state(self, serializer) -> str:
        if isinstance(serializer, type):
            name = serializer.__name__
            return (
                f"{self.owner}.Meta.state is the class {name}, not a serializer instance. "
                f"Write state = {name}(), or state = {name}(many=True) for a list channel."
            )
        name = type(serializer.child if self.many else serializer).__name__
        return (
            f"{self.owner}.Meta.state is a {name}, not a ModelSerializer instance. "
            "Set state to an instance of a ModelSerializer subclass, e.g. state = ProjectSerializer(), "
            "or ProjectSerializer(many=True) for a list channel."
        )


def _reads_own_columns(model, flat_fields, nested_names) -> bool:
    """Return whether the flat fields other than nested_names read only concrete fields of the row."""
    for name, field in flat_fields.items():
        if name in nested_names or field.write_only:
            continue
        if isinstance(field, serializers.SerializerMethodField) or field.source == "*":
            return False
        if len(field.source_attrs) != 1:
            return False
        try:
            model_field = model._meta.get_field(field.source_attrs[0])
        except FieldDoesNotExist:
            return False
        if not model_field.concrete:
            return False
    return True


def _join_lookup(step, rest, reverse=False):
    """Join two ORM lookups with `__`, putting `step` first unless `reverse` is true."""
    if not rest:
        return step
    return f"{rest}__{step}" if reverse else f"{step}__{rest}"


def _forward_paths_of_sources(model, flat_fields, children_by_name) -> list[str]:
    """Return select_related paths for dotted sources of plain fields, such as source="owner.username"."""
    paths = []
    for name, field in flat_fields.items():
        if name in children_by_name or len(field.source_attrs) < 2:
            continue
        parts = []
        current = model
        for attribute in field.source_attrs[:-1]:
            relation = find_relation(current, attribute)
            if relation is None or relation.to_many:
                break
            parts.append(relation.query_name)
            current = relation.related_model
        if parts:
            paths.append("__".join(parts))
    return list(dict.fromkeys(paths))
