"""The pre- and post-generation hooks."""

import stat
import subprocess
import sys

import pytest

from tests.conftest import TEMPLATE_DIR, bake


def bake_with_cli(tmp_path, *assignments):
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), str(TEMPLATE_DIR), *assignments],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("project_slug=My-App", "project_slug 'My-App' is invalid"),
        ("project_slug=9lives", "project_slug '9lives' is invalid"),
        ("project_slug=caf\u00e9", "project_slug 'caf\u00e9' is invalid"),
        ("project_slug=_private", "project_slug '_private' is invalid"),
        ("project_slug=class", "project_slug 'class' is a Python keyword"),
        ("project_slug=django", "shadows the Python package 'django'"),
        ("project_slug=rxdjango", "shadows the Python package 'rxdjango'"),
        ("project_slug=channels", "shadows the Python package 'channels'"),
        ("project_slug=test", "shadows the Python package 'test'"),
        ("project_slug=config", "shadows the Python package 'config'"),
        ("project_slug=json", "shadows the Python package 'json'"),
        ("timezone=Mars/Olympus", "timezone 'Mars/Olympus' is not a known IANA time zone"),
        ("author_email=nobody", "author_email 'nobody' is invalid"),
    ],
)
def test_pre_gen_rejects(tmp_path, assignment, message):
    result = bake_with_cli(tmp_path, assignment)

    assert result.returncode != 0
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_slug_derived_from_name(tmp_path):
    project = bake(tmp_path, project_name="Caf\u00e9 R\u00e9al-Time 2")

    assert project.name == "cafe_real_time_2"


def test_env_written_with_fresh_secret(tmp_path):
    first = bake(tmp_path / "one")
    second = bake(tmp_path / "two")

    keys = []
    for project in (first, second):
        env_lines = (project / ".env").read_text().splitlines()
        secret_lines = [line for line in env_lines if line.startswith("SECRET_KEY=")]
        assert len(secret_lines) == 1
        keys.append(secret_lines[0].removeprefix("SECRET_KEY="))

    assert keys[0] != keys[1]
    for key in keys:
        assert len(key) >= 50
        assert not set(key) & set("'\"$`\\# \t")


def test_env_has_every_example_setting(tmp_path):
    project = bake(tmp_path)

    def names(path):
        return [line.split("=", 1)[0] for line in path.read_text().splitlines() if line and not line.startswith("#")]

    assert names(project / ".env") == names(project / ".env.example")


def test_env_readable_only_by_owner(tmp_path):
    project = bake(tmp_path)

    mode = stat.S_IMODE((project / ".env").stat().st_mode)

    assert mode == 0o600


def test_scripts_executable(tmp_path):
    project = bake(tmp_path)

    for path in [project / "scripts" / "services.sh", project / "backend" / "manage.py"]:
        assert path.stat().st_mode & stat.S_IXUSR, path


def test_example_app_removed_when_off(tmp_path):
    with_app = bake(tmp_path / "on")
    without_app = bake(tmp_path / "off", include_example_app="n")

    sys.path.insert(0, str(TEMPLATE_DIR / "hooks"))
    try:
        from post_gen_project import EXAMPLE_APP_PATHS
    finally:
        sys.path.pop(0)

    for relative in EXAMPLE_APP_PATHS:
        assert (with_app / relative).exists(), relative
        assert not (without_app / relative).exists(), relative
    assert '"board"' not in (without_app / "backend" / "config" / "settings.py").read_text()
    assert "board" not in (without_app / "backend" / "config" / "routing.py").read_text()
    assert "./board/" not in (without_app / "frontend" / "src" / "routes.tsx").read_text()
    assert "./board/" in (with_app / "frontend" / "src" / "routes.tsx").read_text()


def test_next_steps_printed(tmp_path):
    result = bake_with_cli(tmp_path)

    assert result.returncode == 0, result.stderr
    assert "docker compose up" in result.stdout
    assert "scripts/services.sh start" in result.stdout
    assert "pytest" in result.stdout
