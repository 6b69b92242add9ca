"""Generation of the TypeScript interfaces and channel classes that the browser client uses.

`generate()` renders the files, `plan_changes()` compares them with the files on disk and
`apply_changes()` writes them. `manage.py makefrontend` and `runserver --makefrontend` use them.
"""

from rxdjango.typescript.channel_classes import GenerationError
from rxdjango.typescript.generator import FileChange, Generation, apply_changes, generate, plan_changes

__all__ = ["FileChange", "Generation", "GenerationError", "apply_changes", "generate", "plan_changes"]
