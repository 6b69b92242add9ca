"""Building blocks of TypeScript type expressions, kept as strings.

A type expression is a string such as `number`, `'open' | 'done'` or `Record<string, unknown>`.
The helpers here combine them without producing types that `tsc --strict` or
typescript-eslint's recommended rules reject, such as `unknown | null`.
"""

import json
import keyword
import re

UNKNOWN = "unknown"
NULL = "null"
NEVER = "never"

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")

# Words that cannot name a parameter or a variable in TypeScript's strict mode.
RESERVED_WORDS = frozenset(
    {
        "arguments",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "eval",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "implements",
        "import",
        "in",
        "instanceof",
        "interface",
        "let",
        "new",
        "null",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
    }
)


def string_literal(text: str) -> str:
    """Return `text` as a single-quoted TypeScript string literal."""
    escaped = json.dumps(str(text))[1:-1].replace('\\"', '"').replace("'", "\\'")
    return f"'{escaped}'"


def literal(value) -> str:
    """Return the TypeScript literal type of a JSON scalar: a string, number, boolean or None."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    return string_literal(value)


def property_name(name: str) -> str:
    """Return `name` as an object property key, quoted when it is not an identifier."""
    return name if _IDENTIFIER.match(name) else string_literal(name)


def parameter_name(name: str) -> str:
    """Return a parameter name valid in TypeScript, appending `_` to reserved words."""
    if name in RESERVED_WORDS or keyword.iskeyword(name):
        return f"{name}_"
    return name


def split_union(type_expression: str) -> list[str]:
    """Split a type expression at its top-level `|` separators."""
    parts = []
    depth = 0
    quote = None
    start = 0
    index = 0
    while index < len(type_expression):
        char = type_expression[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "<([{":
            depth += 1
        elif char in ">)]}":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(type_expression[start:index].strip())
            start = index + 1
        index += 1
    parts.append(type_expression[start:].strip())
    return [part for part in parts if part]


def union(*types: str) -> str:
    """Join type expressions with `|`, flattening unions and dropping duplicates.

    `unknown` absorbs every other member, and `never` disappears. `null` goes last.
    """
    members = []
    for type_expression in types:
        for member in split_union(type_expression):
            if member == UNKNOWN:
                return UNKNOWN
            if member != NEVER and member not in members:
                members.append(member)
    if not members:
        return NEVER
    if NULL in members:
        members.remove(NULL)
        members.append(NULL)
    return " | ".join(members)


def nullable(type_expression: str) -> str:
    """Add `| null` to a type expression."""
    return union(type_expression, NULL)


def array_of(type_expression: str) -> str:
    """Return the array type of a type expression, in parentheses when it is a union."""
    if len(split_union(type_expression)) > 1:
        return f"({type_expression})[]"
    return f"{type_expression}[]"


def record_of(type_expression: str) -> str:
    """Return the type of an object with string keys and values of the given type."""
    return f"Record<string, {type_expression}>"
