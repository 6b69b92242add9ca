import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rxdjango.typescript import GenerationError, apply_changes, generate, plan_changes
from rxdjango.typescript.generator import frontend_dir, write_file


class Command(BaseCommand):
    help = (
        "Write the TypeScript interfaces and channel classes of every app with ContextChannels into "
        "RX_FRONTEND_DIR, as <app>.interfaces.ts and <app>.channels.ts, and print a diff of what changed. "
        "Exits with status 1 when a file changed (or would change with --dry-run) and 0 when all were up to date."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print what would change without writing any file; exits with 1 when the files are out of date",
        )
        parser.add_argument("--quiet", action="store_true", help="print no diff and no file list, only warnings")
        parser.add_argument("--force", action="store_true", help="rewrite every generated file, also when unchanged")

    def handle(self, *args, dry_run, quiet, force, **options):
        output_dir = frontend_dir()
        try:
            generation = generate(output_dir)
        except GenerationError as error:
            raise CommandError(str(error)) from error
        for warning in generation.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))

        changes = plan_changes(generation, output_dir)
        base = Path.cwd()
        if not quiet:
            for change in changes:
                self.stdout.write(change.diff(base), ending="")

        if not dry_run:
            apply_changes(changes)
            if force:
                changed_paths = {change.path for change in changes}
                for path, content in generation.files.items():
                    if path not in changed_paths:
                        write_file(path, content)

        if not quiet:
            self.stdout.write(self._summary(changes, generation, dry_run, force, output_dir))
        if changes:
            # A non-zero status lets CI run `makefrontend --dry-run` to catch stale generated files.
            sys.exit(1)

    def _summary(self, changes, generation, dry_run, force, output_dir) -> str:
        if not generation.files:
            return f"No installed app has ContextChannels, so nothing is generated in {output_dir}."
        count = len(changes)
        files = "file" if count == 1 else "files"
        if dry_run:
            if changes:
                return f"{count} generated {files} in {output_dir} out of date (dry run, nothing written)."
            return f"The generated files in {output_dir} are up to date."
        if changes:
            return f"Updated {count} generated {files} in {output_dir}."
        if force:
            return f"Rewrote {len(generation.files)} unchanged generated files in {output_dir}."
        return f"The generated files in {output_dir} are up to date."
