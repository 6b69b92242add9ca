"""Write operations a channel may allow on an instance type, in ContextChannel.Meta.writable."""

SAVE = "save"
CREATE = "create"
DELETE = "delete"

ALL_OPERATIONS = frozenset({SAVE, CREATE, DELETE})
