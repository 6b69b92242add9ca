"""Shared helpers for the template tests: baking projects and running their commands."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_PROJECT_DIR = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"

# Contexts baked by the rendering tests: each value differs from the defaults somewhere.
CONTEXTS = {
    "defaults": {},
    "spaces_dashes_digits": {"project_name": "Shop 24-7 Ops Center"},
    "capitals_unicode": {
        "project_name": "ACME Realtime Dashboard",
        "description": "Tableau de bord en temps réel — ünïcode ✓ \"quoted\" and 'single'",
        "author_name": "Zoë Ñúñez",
        "timezone": "America/Sao_Paulo",
    },
    "no_example_app": {
        "project_name": "Café Board",
        "include_example_app": "n",
        "timezone": "Europe/Paris",
    },
    "custom_slug": {"project_name": "Whatever Name", "project_slug": "custom_slug2"},
}


def bake(output_dir, **extra_context):
    """Generate a project from the template without prompts and return its folder."""
    path = cookiecutter(str(TEMPLATE_DIR), no_input=True, extra_context=extra_context, output_dir=str(output_dir))
    return Path(path)


def run(command, cwd, env=None, timeout=900):
    """Run a command and fail the test with its output when it exits non-zero."""
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if completed.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command))} exited with {completed.returncode} in {cwd}\n"
            f"--- stdout ---\n{completed.stdout[-20000:]}\n--- stderr ---\n{completed.stderr[-20000:]}",
            pytrace=False,
        )
    return completed


def python_env(**overrides):
    """Environment for the generated project's Python commands, using this interpreter."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def baked_projects(tmp_path_factory):
    """Bake each context once per session, lazily; maps a context name to its folder."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = bake(tmp_path_factory.mktemp(name), **CONTEXTS[name])
        return cache[name]

    return get
