"""Rendering of the state types of a channel with Meta.writable, for `<app>.channels.ts`.

In the browser, the objects of a writable instance type get `save(data)` and `delete()`
methods, and the relation arrays whose child type allows create get `create(data?)`. These
types add the methods to the interfaces of `<app>.interfaces.ts`. Each channel gets its own
types, named after the channel and the serializer (`BoardChannelTask`), because two channels
may allow different operations on one serializer. A serializer gets a type when its objects
have methods or contain objects or arrays that have methods; any other serializer keeps its
interface.
"""

from dataclasses import dataclass, field

from rest_framework import serializers

from rxdjango.operations import CREATE, DELETE, SAVE
from rxdjango.state_model import instance_type_of
from rxdjango.typescript import tstypes
from rxdjango.typescript.channel_classes import GenerationError
from rxdjango.typescript.fields import FieldTyper, field_is_nullable
from rxdjango.typescript.interfaces import SerializerNames

# Types of the client library that the rendered types use, by the operation that needs them.
SAVABLE = "Savable"
DELETABLE = "Deletable"
CREATABLE_LIST = "CreatableList"

# Method names that the client adds to objects, which a serializer field of the type must not use.
INSTANCE_METHODS = {SAVE: "save", DELETE: "delete"}


@dataclass
class ChannelStateTypes:
    """The state types of one channel.

    `state_type` is the type argument of the channel class: the anchor's state type, or its
    interface when the channel declares nothing writable. `client_types` and `interfaces` are
    the names that the types use from the client library and from `<app>.interfaces.ts`.
    """

    state_type: str
    sections: list[str] = field(default_factory=list)
    client_types: set[str] = field(default_factory=set)
    interfaces: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class NestedField:
    name: str
    field: object
    serializer_class: type
    many: bool


def render_channel_state_types(channel_class, serializers_by_class, names: SerializerNames) -> ChannelStateTypes:
    """Render the state types of a channel, in the order of a depth-first walk that puts children first."""
    anchor_class = channel_class.state_model.root.serializer_class
    writable = {instance_type: frozenset(operations) for instance_type, operations in channel_class.writable.items()}
    walker = _StateTypeWalker(channel_class, writable, serializers_by_class, names)
    if not writable or not walker.needs_type(anchor_class):
        interface = names.interface(anchor_class)
        return ChannelStateTypes(state_type=interface, interfaces={interface})

    result = ChannelStateTypes(state_type=walker.type_name(anchor_class))
    walker.render(anchor_class, result, set())
    return result


class _StateTypeWalker:
    def __init__(self, channel_class, writable, serializers_by_class, names):
        self.channel_class = channel_class
        self.writable = writable
        self.serializers_by_class = serializers_by_class
        self.names = names
        self._needs = {}
        self.typer = FieldTyper(self.element_name)

    def operations(self, serializer_class) -> frozenset:
        return self.writable.get(instance_type_of(serializer_class), frozenset())

    def type_name(self, serializer_class) -> str:
        return self.names.channel_state(self.channel_class.__name__, serializer_class)

    def element_name(self, serializer_class) -> str:
        """Return the type of one object of a serializer in this channel's state."""
        if self.needs_type(serializer_class):
            return self.type_name(serializer_class)
        return self.names.interface(serializer_class)

    def nested_fields(self, serializer_class) -> list[NestedField]:
        serializer = self.serializers_by_class[serializer_class]
        nested = []
        for name, bound in serializer.fields.items():
            if bound.write_only or not isinstance(bound, serializers.BaseSerializer):
                continue
            many = isinstance(bound, serializers.ListSerializer)
            child = bound.child if many else bound
            nested.append(NestedField(name, bound, type(child), many))
        return nested

    def needs_type(self, serializer_class) -> bool:
        """Tell whether a serializer's objects have write methods or contain anything that has them."""
        cached = self._needs.get(serializer_class)
        if cached is not None:
            return cached
        needs = bool(self.operations(serializer_class) & {SAVE, DELETE}) or any(
            self.is_creatable(nested) or self.needs_type(nested.serializer_class)
            for nested in self.nested_fields(serializer_class)
        )
        self._needs[serializer_class] = needs
        return needs

    def is_creatable(self, nested: NestedField) -> bool:
        return nested.many and CREATE in self.operations(nested.serializer_class)

    def render(self, serializer_class, result: ChannelStateTypes, rendered: set) -> None:
        if serializer_class in rendered:
            return
        rendered.add(serializer_class)
        overrides = []
        for nested in self.nested_fields(serializer_class):
            if not (self.is_creatable(nested) or self.needs_type(nested.serializer_class)):
                continue
            if self.needs_type(nested.serializer_class):
                self.render(nested.serializer_class, result, rendered)
            overrides.append((nested.name, self.override_type(nested, result)))
        result.sections.append(self.render_type(serializer_class, overrides, result))

    def override_type(self, nested: NestedField, result: ChannelStateTypes) -> str:
        """Return the type of a nested field whose objects or array have write methods."""
        if not self.is_creatable(nested):
            return self.typer.field_type(nested.field)
        element = self.element_name(nested.serializer_class)
        if not self.needs_type(nested.serializer_class):
            result.interfaces.add(element)
        payload = self.names.payload(nested.serializer_class)
        result.client_types.add(CREATABLE_LIST)
        result.interfaces.add(payload)
        ts_type = f"{CREATABLE_LIST}<{element}, {payload}>"
        return tstypes.nullable(ts_type) if field_is_nullable(nested.field) else ts_type

    def render_type(self, serializer_class, overrides, result: ChannelStateTypes) -> str:
        operations = self.operations(serializer_class)
        self.check_method_names(serializer_class, operations)
        interface = self.names.interface(serializer_class)
        result.interfaces.add(interface)

        if overrides:
            omitted = " | ".join(tstypes.string_literal(name) for name, _ in overrides)
            parts = [f"Omit<{interface}, {omitted}>"]
        else:
            parts = [interface]
        if SAVE in operations:
            payload = self.names.payload(serializer_class)
            result.client_types.add(SAVABLE)
            result.interfaces.add(payload)
            parts.append(f"{SAVABLE}<{payload}>")
        if DELETE in operations:
            result.client_types.add(DELETABLE)
            parts.append(DELETABLE)
        if overrides:
            members = "\n".join(f"  {tstypes.property_name(name)}: {ts_type};" for name, ts_type in overrides)
            parts.append(f"{{\n{members}\n}}")

        channel_name = self.channel_class.__name__
        description = f"{interface} in the state of {channel_name}, with the write methods of its Meta.writable."
        return f"/** {description} */\nexport type {self.type_name(serializer_class)} = {' & '.join(parts)};\n"

    def check_method_names(self, serializer_class, operations):
        serializer = self.serializers_by_class[serializer_class]
        for operation, method in INSTANCE_METHODS.items():
            if operation in operations and method in serializer.fields:
                raise GenerationError(
                    f"{serializer_class.__name__} has a field named {method!r}, which the {method}() method that "
                    f"{self.channel_class.__name__}.Meta.writable adds in the browser would hide: rename the field "
                    f"(keeping its source), or remove {operation.upper()} from Meta.writable."
                )
