"""Rendering of the TypeScript class of one ContextChannel, for `<app>.channels.ts`."""

import inspect
from dataclasses import dataclass

from rxdjango.operations import CREATE, DELETE, SAVE
from rxdjango.typescript import tstypes
from rxdjango.typescript.python_types import python_type_to_ts, resolve_hints

# Members of the client's ContextChannel class, which an action method must not replace.
CLIENT_MEMBERS = frozenset(
    {
        "builder",
        "callAction",
        "constructor",
        "createInstance",
        "deleteInstance",
        "getInstance",
        "getSnapshot",
        "isPending",
        "model",
        "on",
        "saveInstance",
        "socket",
        "subscribe",
        "url",
        "writable",
        "writes",
    }
)

OPERATION_ORDER = (SAVE, CREATE, DELETE)


class GenerationError(Exception):
    """A channel that cannot be written as TypeScript. The message explains how to fix it."""


@dataclass(frozen=True)
class ActionParameter:
    name: str
    ts_type: str
    optional: bool = False
    rest: bool = False

    def render(self) -> str:
        if self.rest:
            return f"...{self.name}: {tstypes.array_of(self.ts_type)}"
        marker = "?" if self.optional else ""
        return f"{self.name}{marker}: {self.ts_type}"


def runtime_state_name(channel_class) -> str:
    return f"{channel_class.__name__}RuntimeState"


def render_runtime_state(channel_class) -> str | None:
    """Render the RuntimeState interface of a channel, or return None when it declares no variables.

    Every variable is null until the channel sets it, because the server starts the runtime
    state with None for each key.
    """
    runtime_state_class = channel_class.runtime_state_class
    if runtime_state_class is None:
        return None
    hints = resolve_hints(runtime_state_class)
    if not hints:
        return None
    members = "\n".join(
        f"  {tstypes.property_name(name)}: {tstypes.nullable(python_type_to_ts(hint))};" for name, hint in hints.items()
    )
    description = f"Runtime state of {_dotted_name(channel_class)}; each variable is null until the channel sets it."
    return f"/** {description} */\nexport interface {runtime_state_name(channel_class)} {{\n{members}\n}}\n"


def render_channel_class(channel_class, route, state_type: str, warnings: list[str]) -> str:
    """Render the class of one channel.

    `route` is its ChannelRoute, or None when it is not routed. `state_type` is the type of
    the anchor's state: its interface, or its state type with write methods.
    """
    name = channel_class.__name__
    type_arguments = state_type
    if render_runtime_state(channel_class) is not None:
        type_arguments += f", {runtime_state_name(channel_class)}"

    if route is None:
        description = f"Live state of {_dotted_name(channel_class)}, which no WebSocket route serves."
    else:
        description = f"Live state of {_dotted_name(channel_class)}, served at {route.pattern}."
    sections = [
        _render_model(channel_class),
        _render_writable(channel_class),
        _render_constructor(channel_class, route),
    ]
    for action_name in sorted(channel_class.actions):
        method = _render_action(channel_class, action_name, warnings)
        if method is not None:
            sections.append(method)
    body = "\n\n".join(sections)
    return f"/** {description} */\nexport class {name} extends ContextChannel<{type_arguments}> {{\n{body}\n}}\n"


def _render_model(channel_class) -> str:
    state_model = channel_class.state_model
    layers = {}
    lists = {}
    for layer in state_model.layers:
        if layer.instance_type in layers:
            continue
        layers[layer.instance_type] = [(child.relation_name, child.instance_type) for child in layer.children]
        array_fields = [child.relation_name for child in layer.children if child.many]
        if array_fields:
            lists[layer.instance_type] = array_fields

    lines = [
        "  static readonly model: ChannelModel = {",
        f"    anchor: {tstypes.string_literal(state_model.root.instance_type)},",
        f"    many: {'true' if state_model.many else 'false'},",
        "    layers: {",
    ]
    for instance_type, children in layers.items():
        if not children:
            lines.append(f"      {tstypes.string_literal(instance_type)}: {{}},")
            continue
        lines.append(f"      {tstypes.string_literal(instance_type)}: {{")
        lines.extend(
            f"        {tstypes.property_name(field)}: {tstypes.string_literal(child)}," for field, child in children
        )
        lines.append("      },")
    lines.append("    },")
    if lists:
        lines.append("    lists: {")
        for instance_type, fields in lists.items():
            quoted = ", ".join(tstypes.string_literal(field) for field in fields)
            lines.append(f"      {tstypes.string_literal(instance_type)}: [{quoted}],")
        lines.append("    },")
    else:
        lines.append("    lists: {},")
    lines.extend(_render_optimistic_timeouts(channel_class))
    lines.append("  };")
    return "\n".join(lines)


def _render_optimistic_timeouts(channel_class) -> list[str]:
    """Render `optimisticTimeoutMs`: the writable types whose serializer sets Meta.optimistic, with their timeouts.

    The client shows writes to the listed types at once, and writes to the other writable
    types once the server broadcasts them. A channel without Meta.writable gets no entry.
    """
    if not channel_class.writable:
        return []
    timeouts = []
    for instance_type in sorted(channel_class.writable):
        layer = channel_class.state_model.layers_for_serializer(instance_type)[0]
        if layer.optimistic:
            timeouts.append((instance_type, round(layer.optimistic_timeout * 1000)))
    if not timeouts:
        return ["    optimisticTimeoutMs: {},"]
    lines = ["    optimisticTimeoutMs: {"]
    lines.extend(f"      {tstypes.string_literal(instance_type)}: {ms}," for instance_type, ms in timeouts)
    lines.append("    },")
    return lines


def _render_writable(channel_class) -> str:
    if not channel_class.writable:
        return "  static override readonly writable = {} as const;"
    lines = ["  static override readonly writable = {"]
    for instance_type in sorted(channel_class.writable):
        operations = channel_class.writable[instance_type]
        quoted = ", ".join(
            tstypes.string_literal(operation) for operation in OPERATION_ORDER if operation in operations
        )
        lines.append(f"    {tstypes.string_literal(instance_type)}: [{quoted}],")
    lines.append("  } as const;")
    return "\n".join(lines)


def _render_constructor(channel_class, route) -> str:
    name = channel_class.__name__
    if route is None:
        return (
            "  constructor(routePath: string, kwargs: Record<string, string | number>, token: string, "
            "options?: ChannelOptions) {\n"
            f"    super({name}.model, routePath, kwargs, token, options);\n"
            "  }"
        )
    if route.parameters:
        members = "; ".join(f"{tstypes.property_name(key)}: {ts_type}" for key, ts_type in route.parameters)
        kwargs_type = f"{{ {members} }}"
    else:
        kwargs_type = "Record<string, never>"
    return (
        f"  constructor(kwargs: {kwargs_type}, token: string, options?: ChannelOptions) {{\n"
        f"    super({name}.model, {tstypes.string_literal(route.template)}, kwargs, token, options);\n"
        "  }"
    )


def _render_action(channel_class, action_name, warnings) -> str | None:
    """Render one @action as a method that sends its positional parameters and returns a Promise of its result."""
    dotted = f"{_dotted_name(channel_class)}.{action_name}"
    if action_name in CLIENT_MEMBERS:
        raise GenerationError(
            f"The action {dotted} has the name of a member of the client's ContextChannel class "
            f"({', '.join(sorted(CLIENT_MEMBERS))}): rename the action."
        )

    function, skip = _function_of(channel_class, action_name)
    hints = resolve_hints(function)
    parameters = list(inspect.signature(function).parameters.values())[skip:]
    has_rest = any(parameter.kind is inspect.Parameter.VAR_POSITIONAL for parameter in parameters)

    rendered = []
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            if parameter.default is inspect.Parameter.empty:
                warnings.append(
                    f"The action {dotted} is left out: its keyword-only parameter {parameter.name!r} has no default, "
                    "and the browser sends positional parameters only."
                )
                return None
            continue
        ts_type = python_type_to_ts(hints.get(parameter.name, inspect.Parameter.empty))
        rendered.append(
            ActionParameter(
                name=tstypes.parameter_name(parameter.name),
                ts_type=ts_type,
                # With *args after it, a parameter with a default must be sent to keep the positions.
                optional=parameter.default is not inspect.Parameter.empty and not has_rest,
                rest=parameter.kind is inspect.Parameter.VAR_POSITIONAL,
            )
        )

    return_hint = hints.get("return", inspect.Parameter.empty)
    return_type = "void" if return_hint is None or return_hint is type(None) else python_type_to_ts(return_hint)
    signature = ", ".join(parameter.render() for parameter in rendered)
    call = f"this.callAction<{return_type}>({tstypes.string_literal(action_name)}"

    fixed = [parameter for parameter in rendered if not parameter.rest]
    rest = [parameter for parameter in rendered if parameter.rest]
    items = [parameter.name for parameter in fixed] + [f"...{parameter.name}" for parameter in rest]
    array = f"[{', '.join(items)}]"
    lines = _doc_comment(function)
    lines.append(f"  {action_name}({signature}): Promise<{return_type}> {{")
    required_count = sum(1 for parameter in fixed if not parameter.optional)
    if required_count < len(fixed):
        # JSON turns undefined into null, so parameters left out must be dropped for their Python defaults to apply.
        lines.append(f"    const params: unknown[] = {array};")
        lines.append(f"    while (params.length > {required_count} && params[params.length - 1] === undefined) {{")
        lines.append("      params.pop();")
        lines.append("    }")
        lines.append(f"    return {call}, params);")
    else:
        lines.append(f"    return {call}, {array});")
    lines.append("  }")
    return "\n".join(lines)


def _doc_comment(function) -> list[str]:
    """Return the first paragraph of a function's docstring as JSDoc lines, or no lines."""
    docstring = inspect.getdoc(function)
    if not docstring:
        return []
    summary = " ".join(docstring.split("\n\n")[0].split()).replace("*/", "*\\/")
    return [f"  /** {summary} */"]


def _function_of(channel_class, name):
    """Return the function behind a channel method and how many leading parameters the binding fills."""
    raw = inspect.getattr_static(channel_class, name)
    if isinstance(raw, staticmethod):
        return raw.__func__, 0
    if isinstance(raw, classmethod):
        return raw.__func__, 1
    return raw, 1


def _dotted_name(channel_class) -> str:
    return f"{channel_class.__module__}.{channel_class.__qualname__}"
