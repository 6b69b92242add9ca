"""Rendering of `<app>.interfaces.ts`: one interface per serializer of an app's channel states."""

from rest_framework import serializers

from rxdjango.state_model import instance_type_of
from rxdjango.typescript import tstypes
from rxdjango.typescript.fields import FieldTyper, serializer_name


class SerializerNames:
    """TypeScript names of the serializer classes in one generated file.

    A name is the class name without the "Serializer" suffix, followed by "Type" for the state
    interface or "Payload" for the writable fields, or preceded by a channel's name for the
    state type with write methods in that channel. Two classes with the same name (from
    different modules) get a number after the name, counted in instance type order.
    """

    def __init__(self, serializer_classes):
        self._bases = {}
        name_counts = {}
        for serializer_class in sorted(serializer_classes, key=instance_type_of):
            base = serializer_name(serializer_class)
            count = name_counts.get(base, 0) + 1
            name_counts[base] = count
            self._bases[serializer_class] = base if count == 1 else f"{base}{count}"

    def interface(self, serializer_class) -> str:
        return f"{self._bases[serializer_class]}Type"

    def payload(self, serializer_class) -> str:
        return f"{self._bases[serializer_class]}Payload"

    def channel_state(self, channel_name, serializer_class) -> str:
        return f"{channel_name}{self._bases[serializer_class]}"


def collect_serializers(root_serializers) -> dict:
    """Return {serializer class: bound serializer instance} for every serializer nested in the given ones.

    The first instance found of each class represents the class, since the fields of a
    ModelSerializer class do not depend on where it is nested.
    """
    found = {}
    pending = list(root_serializers)
    while pending:
        serializer = pending.pop(0)
        if isinstance(serializer, serializers.ListSerializer):
            serializer = serializer.child
        serializer_class = type(serializer)
        if serializer_class in found:
            continue
        found[serializer_class] = serializer
        pending.extend(field for field in serializer.fields.values() if isinstance(field, serializers.BaseSerializer))
    return found


def render_interface(serializer, names: SerializerNames) -> str:
    """Render the interface of a serializer's output, with nested serializers as their interfaces."""
    serializer_class = type(serializer)
    typer = FieldTyper(names.interface)
    members = [
        f"  {tstypes.property_name(name)}: {typer.field_type(field)};"
        for name, field in serializer.fields.items()
        if not field.write_only
    ]
    return _render_object_type(
        names.interface(serializer_class),
        f"State of one {instance_type_of(serializer_class)} instance.",
        members,
    )


def render_payload(serializer_class, flat_serializer_class, names: SerializerNames) -> str:
    """Render the writable fields of a serializer, as a client sends them with save or create.

    Fields that the serializer does not require on create are optional.
    """
    typer = FieldTyper(names.interface, flat=True)
    members = []
    for name, field in flat_serializer_class().fields.items():
        if field.read_only:
            continue
        marker = "" if field.required else "?"
        members.append(f"  {tstypes.property_name(name)}{marker}: {typer.field_type(field)};")
    return _render_object_type(
        names.payload(serializer_class),
        f"Writable fields of {instance_type_of(serializer_class)}.",
        members,
    )


def _render_object_type(name, description, members) -> str:
    if not members:
        # An empty interface is the `{}` type, which accepts any value, so an empty record is used instead.
        return f"/** {description} */\nexport type {name} = Record<string, never>;\n"
    body = "\n".join(members)
    return f"/** {description} */\nexport interface {name} {{\n{body}\n}}\n"
