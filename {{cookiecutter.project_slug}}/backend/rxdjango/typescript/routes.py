"""Find the WebSocket route of each ContextChannel in a module's `websocket_urlpatterns`."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver
from django.urls.converters import IntConverter
from django.urls.resolvers import RegexPattern, RoutePattern

_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_METACHARACTERS = set("()[]{}*+?|^$\\.")


class UnsupportedRoute(ValueError):
    """A URL pattern that cannot be written as a path template with `{name}` placeholders."""


@dataclass(frozen=True)
class ChannelRoute:
    """A channel's route path, such as `ws/project/{project_id}/`, and the TypeScript types of its keyword arguments."""

    template: str
    parameters: tuple[tuple[str, str], ...]
    pattern: str


def find_channel_routes(urlpatterns) -> tuple[dict, list[str]]:
    """Return {channel class: ChannelRoute} for every routed channel, and warnings about routes that were skipped.

    A channel routed more than once keeps its first route. Nested `include()` lists and
    Channels `URLRouter` instances are followed.
    """
    routes = {}
    warnings = []
    _walk(urlpatterns, "", (), "", routes, warnings)
    return routes, warnings


def _walk(urlpatterns, prefix, parameters, pattern_text, routes, warnings):
    for entry in urlpatterns:
        text = pattern_text + str(entry.pattern)
        try:
            template, entry_parameters = _template_of(entry.pattern)
        except UnsupportedRoute as error:
            channel_class = _channel_class_of(entry)
            if channel_class is not None or isinstance(entry, URLResolver):
                warnings.append(f"The WebSocket route {text!r} is skipped: {error}")
            continue

        full_template = prefix + template
        full_parameters = parameters + entry_parameters
        if isinstance(entry, URLResolver):
            _walk(entry.url_patterns, full_template, full_parameters, text, routes, warnings)
            continue
        nested_routes = getattr(entry.callback, "routes", None)
        if isinstance(nested_routes, list | tuple):
            _walk(nested_routes, full_template, full_parameters, text, routes, warnings)
            continue

        channel_class = _channel_class_of(entry)
        if channel_class is not None and channel_class not in routes:
            routes[channel_class] = ChannelRoute(full_template, full_parameters, text)


def _channel_class_of(entry):
    if not isinstance(entry, URLPattern):
        return None
    consumer_class = getattr(entry.callback, "consumer_class", None)
    return getattr(consumer_class, "channel_class", None)


def _template_of(pattern) -> tuple[str, tuple[tuple[str, str], ...]]:
    if isinstance(pattern, RoutePattern):
        return _route_template(pattern)
    if isinstance(pattern, RegexPattern):
        return _regex_template(pattern._regex)
    raise UnsupportedRoute(f"{type(pattern).__name__} patterns are not supported")


def _route_template(pattern) -> tuple[str, tuple[tuple[str, str], ...]]:
    parameters = []

    def placeholder(match):
        name = match.group("name")
        converter = pattern.converters.get(name)
        # The kwargs are formatted into the path, so only int converters need a number.
        parameters.append((name, "number" if isinstance(converter, IntConverter) else "string"))
        return "{" + name + "}"

    template = _ROUTE_PARAMETER.sub(placeholder, str(pattern._route))
    return template, tuple(parameters)


def _regex_template(regex: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Turn a regex such as `^ws/items/(?P<item_id>[0-9]+)/$` into `ws/items/{item_id}/`."""
    text = regex.removeprefix("^")
    if text.endswith("\\Z"):
        text = text[:-2]
    elif text.endswith("$") and not text.endswith("\\$"):
        text = text[:-1]

    output = []
    parameters = []
    index = 0
    while index < len(text):
        if text.startswith("(?P<", index):
            name_end = text.index(">", index)
            name = text[index + 4 : name_end]
            index = _group_end(text, index)
            output.append("{" + name + "}")
            parameters.append((name, "string"))
            continue
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "/.-_":
            output.append(text[index + 1])
            index += 2
            continue
        if char in _REGEX_METACHARACTERS:
            raise UnsupportedRoute(
                f"the regular expression {regex!r} has {char!r} outside a named group, so it has no fixed path; "
                "use path() with converters, or a regex whose only variable parts are named groups"
            )
        output.append(char)
        index += 1
    return "".join(output), tuple(parameters)


def _group_end(text: str, start: int) -> int:
    """Return the index after the parenthesized group that opens at `start`."""
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise UnsupportedRoute(f"the group at position {start} of {text!r} is not closed")
