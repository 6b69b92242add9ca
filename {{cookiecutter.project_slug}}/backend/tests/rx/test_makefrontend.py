"""`manage.py makefrontend` and `runserver --makefrontend` writing the generated TypeScript files."""

import io
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.test import override_settings

from rxdjango.management.commands import runserver
from rxdjango.typescript import GenerationError
from rxdjango.typescript.generator import HEADER

# A routing module without routes, for the unrouted-channel tests (RX_ROUTING_MODULE names this module).
websocket_urlpatterns = []

GENERATED_NAMES = ["rxapp.channels.ts", "rxapp.interfaces.ts"]


@pytest.fixture
def output_dir(tmp_path):
    folder = tmp_path / "generated"
    with override_settings(RX_FRONTEND_DIR=folder, RX_ROUTING_MODULE="tests.rxapp.routing"):
        yield folder


def makefrontend(*args):
    """Run the command and return (exit status, stdout, stderr)."""
    stdout = io.StringIO()
    stderr = io.StringIO()
    try:
        call_command("makefrontend", *args, stdout=stdout, stderr=stderr)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, stdout.getvalue(), stderr.getvalue()


def rxapp_files(folder):
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("rxapp."))


def test_dry_run_missing_files_fails(output_dir):
    status, stdout, _ = makefrontend("--dry-run")
    assert status == 1
    assert not output_dir.exists()
    assert "out of date (dry run, nothing written)" in stdout


def test_dry_run_prints_new_file_diff(output_dir):
    _, stdout, _ = makefrontend("--dry-run")
    assert "--- /dev/null" in stdout
    assert "rxapp.channels.ts" in stdout
    assert "+export class ProjectChannel extends ContextChannel<ProjectType, ProjectChannelRuntimeState> {" in stdout


def test_run_writes_files_and_fails(output_dir):
    status, stdout, _ = makefrontend()
    assert status == 1
    assert rxapp_files(output_dir) == GENERATED_NAMES
    assert "Updated" in stdout


def test_second_run_changes_nothing(output_dir):
    makefrontend()
    before = {name: (output_dir / name).read_bytes() for name in GENERATED_NAMES}

    status, stdout, _ = makefrontend()

    assert status == 0
    assert "up to date" in stdout
    assert {name: (output_dir / name).read_bytes() for name in GENERATED_NAMES} == before


def test_dry_run_after_run_succeeds(output_dir):
    makefrontend()
    status, stdout, _ = makefrontend("--dry-run")
    assert status == 0
    assert "up to date" in stdout


def test_diff_shows_changed_line(output_dir):
    makefrontend()
    interfaces = output_dir / "rxapp.interfaces.ts"
    edited = interfaces.read_text().replace("  budget: string;", "  budget: number;")
    interfaces.write_text(edited)

    status, stdout, _ = makefrontend("--dry-run")

    assert status == 1
    assert "-  budget: number;" in stdout
    assert "+  budget: string;" in stdout
    assert interfaces.read_text() == edited


def test_run_restores_edited_file(output_dir):
    makefrontend()
    interfaces = output_dir / "rxapp.interfaces.ts"
    original = interfaces.read_text()
    interfaces.write_text(original.replace("  budget: string;", "  budget: number;"))

    status, _, _ = makefrontend()

    assert status == 1
    assert interfaces.read_text() == original


def test_quiet_prints_nothing(output_dir):
    status, stdout, _ = makefrontend("--quiet")
    assert status == 1
    assert stdout == ""
    assert rxapp_files(output_dir) == GENERATED_NAMES


def test_force_rewrites_unchanged_files(output_dir):
    makefrontend()
    channels = output_dir / "rxapp.channels.ts"
    content = channels.read_bytes()
    # Files are replaced by a new file, so a rewrite gives a new inode.
    inode = channels.stat().st_ino

    status, stdout, _ = makefrontend("--force")

    assert status == 0
    assert "Rewrote" in stdout
    assert channels.stat().st_ino != inode
    assert channels.read_bytes() == content


def test_force_dry_run_writes_nothing(output_dir):
    makefrontend()
    channels = output_dir / "rxapp.channels.ts"
    inode = channels.stat().st_ino

    status, _, _ = makefrontend("--force", "--dry-run")

    assert status == 0
    assert channels.stat().st_ino == inode


def test_writable_channel_written_stable(output_dir):
    makefrontend()
    channels = (output_dir / "rxapp.channels.ts").read_text()

    status, _, _ = makefrontend("--dry-run")

    assert status == 0
    assert "export class WritableProjectChannel extends ContextChannel<WritableProjectChannelProject> {" in channels
    assert "  static override readonly writable = {" in channels
    assert "    optimisticTimeoutMs: {" in channels


def test_stale_generated_file_deleted(output_dir):
    output_dir.mkdir()
    stale = output_dir / "gone.channels.ts"
    stale.write_text(HEADER + "\nexport const gone = 1;\n")
    handwritten = output_dir / "mine.channels.ts"
    handwritten.write_text("export const mine = 1;\n")

    status, stdout, _ = makefrontend()

    assert status == 1
    assert not stale.exists()
    assert handwritten.exists()
    assert "+++ /dev/null" in stdout


def test_unrouted_channel_warns(tmp_path):
    with override_settings(RX_FRONTEND_DIR=tmp_path, RX_ROUTING_MODULE=__name__):
        status, _, stderr = makefrontend("--quiet")
    assert status == 1
    assert "tests.rxapp.channels.ProjectChannel is not in websocket_urlpatterns" in stderr
    channels = (tmp_path / "rxapp.channels.ts").read_text()
    assert "  constructor(routePath: string, kwargs: Record<string, string | number>, token: string," in channels


def test_missing_routing_module_fails(tmp_path):
    with override_settings(RX_FRONTEND_DIR=tmp_path, RX_ROUTING_MODULE="tests.no_such_routing"):
        with pytest.raises(CommandError, match="RX_ROUTING_MODULE is 'tests.no_such_routing'"):
            makefrontend()
    assert list(tmp_path.iterdir()) == []


def test_output_same_across_processes(tmp_path):
    """Two processes with different hash seeds write identical files, so set ordering never leaks into the output."""
    outputs = []
    for seed in ("1", "2"):
        folder = tmp_path / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "RX_FRONTEND_DIR": str(folder)}
        env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
        result = subprocess.run(
            [sys.executable, "manage.py", "makefrontend", "--quiet"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1, result.stderr
        outputs.append({path.name: path.read_bytes() for path in sorted(folder.iterdir())})
    assert outputs[0] == outputs[1]
    assert "rxapp.channels.ts" in outputs[0]


# runserver --makefrontend


@pytest.fixture
def started_servers(monkeypatch):
    """Replace the server start of Daphne's runserver, recording each call instead of serving."""
    calls = []
    monkeypatch.setattr(
        runserver.BaseRunserverCommand, "inner_run", lambda self, *args, **options: calls.append(options)
    )
    return calls


def run_inner(**options):
    stdout = io.StringIO()
    stderr = io.StringIO()
    command = runserver.Command(stdout=stdout, stderr=stderr)
    command.inner_run(**options)
    return stdout.getvalue(), stderr.getvalue()


def test_runserver_has_makefrontend_option():
    parser = runserver.Command().create_parser("manage.py", "runserver")
    assert parser.parse_args(["--makefrontend"]).makefrontend is True
    assert parser.parse_args([]).makefrontend is False


def test_runserver_makefrontend_writes_files(output_dir, started_servers):
    stdout, _ = run_inner(makefrontend=True)
    assert rxapp_files(output_dir) == GENERATED_NAMES
    assert "makefrontend wrote" in stdout
    assert started_servers == [{"makefrontend": True}]


def test_runserver_restart_reports_up_to_date(output_dir, started_servers):
    run_inner(makefrontend=True)
    stdout, _ = run_inner(makefrontend=True)
    assert "up to date" in stdout
    assert len(started_servers) == 2


def test_runserver_without_option_writes_nothing(output_dir, started_servers):
    run_inner(makefrontend=False)
    assert not output_dir.exists()
    assert len(started_servers) == 1


def test_runserver_starts_despite_generation_error(output_dir, started_servers, monkeypatch):
    def fail(output_dir):
        raise GenerationError("The action x.y has the name of a member")

    monkeypatch.setattr(runserver, "generate", fail)
    _, stderr = run_inner(makefrontend=True)
    assert "makefrontend failed: The action x.y" in stderr
    assert len(started_servers) == 1


def test_runserver_command_is_rxdjango():
    app = get_commands()["runserver"]
    assert app == "rxdjango", (
        f"manage.py runserver resolves to the app {app!r}: list 'rxdjango' before 'daphne' in INSTALLED_APPS "
        "so that runserver --makefrontend exists."
    )
