"""runserver with `--makefrontend`, which regenerates the TypeScript files each time the server starts.

This extends Daphne's runserver (or Django's when Daphne is not installed). Django uses the
runserver of the first app in INSTALLED_APPS that provides one, so "rxdjango" must be listed
before "daphne" for this command to replace Daphne's.
"""

import logging
from pathlib import Path

from rxdjango.typescript import GenerationError, apply_changes, generate, plan_changes
from rxdjango.typescript.generator import frontend_dir

try:
    from daphne.management.commands.runserver import Command as BaseRunserverCommand
except ImportError:  # pragma: no cover - Daphne is a dependency of the project
    from django.core.management.commands.runserver import Command as BaseRunserverCommand

logger = logging.getLogger("rxdjango.makefrontend")


class Command(BaseRunserverCommand):
    help = (
        f"{BaseRunserverCommand.help} With --makefrontend, also writes the TypeScript files of "
        "`manage.py makefrontend` at start and after every code reload."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--makefrontend",
            action="store_true",
            help=(
                "regenerate the TypeScript interfaces and channel classes in RX_FRONTEND_DIR when the server "
                "starts and each time the autoreloader restarts it after a change (such as to a serializers.py "
                "or channels.py)"
            ),
        )

    def inner_run(self, *args, **options):
        # With the autoreloader, inner_run runs in a new process after every change to a loaded
        # Python module, serializers.py and channels.py included, so this regenerates on change.
        if options.get("makefrontend"):
            self.make_frontend()
        return super().inner_run(*args, **options)

    def make_frontend(self) -> None:
        """Write the generated TypeScript files that changed and list them.

        A failed generation is printed or logged, and the server starts anyway.
        """
        output_dir = frontend_dir()
        try:
            generation = generate(output_dir)
            changes = plan_changes(generation, output_dir)
            apply_changes(changes)
        except GenerationError as error:
            self.stderr.write(f"makefrontend failed: {error}")
            return
        except Exception:
            # The server keeps running so the developer can fix the code and let it reload.
            logger.exception("makefrontend failed while starting the development server")
            return

        for warning in generation.warnings:
            self.stderr.write(self.style.WARNING(f"makefrontend warning: {warning}"))
        for change in changes:
            verb = "deleted" if change.new is None else "wrote"
            self.stdout.write(f"makefrontend {verb} {_relative(change.path)}")
        if not changes:
            self.stdout.write(f"makefrontend: the generated files in {_relative(output_dir)} are up to date")


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
