"""Each baked context renders cleanly and passes the static checks."""

import fnmatch
import json
import py_compile
import shutil

import pytest

from tests.conftest import CONTEXTS, TEMPLATE_DIR, TEMPLATE_PROJECT_DIR, python_env, run

SKIPPED_DIRS = {"node_modules", ".git", "__pycache__", "dist"}


def project_files(root):
    for path in sorted(root.rglob("*")):
        if path.is_file() and not SKIPPED_DIRS & set(path.relative_to(root).parts):
            yield path


def text_of(path):
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


@pytest.fixture(params=list(CONTEXTS), scope="module")
def context_name(request):
    return request.param


@pytest.fixture(scope="module")
def project(context_name, baked_projects):
    return baked_projects(context_name)


def test_no_template_variables_left(project):
    leftovers = []
    for path in project_files(project):
        text = text_of(path)
        if text is not None and ("cookiecutter." in text or "{{ cookiecutter" in text):
            leftovers.append(str(path.relative_to(project)))

    assert leftovers == []


def test_no_template_variables_in_paths(project):
    assert [path for path in project.rglob("*") if "cookiecutter" in path.name] == []


def test_copied_files_unchanged(project):
    """Files listed in _copy_without_render keep their braces byte for byte."""
    patterns = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())["_copy_without_render"]
    checked = 0
    for source in project_files(TEMPLATE_PROJECT_DIR):
        relative = source.relative_to(TEMPLATE_PROJECT_DIR).as_posix()
        if not any(fnmatch.fnmatch(relative, pattern) for pattern in patterns):
            continue
        baked = project / relative
        if not baked.exists():
            continue  # Removed on purpose by the post-generation hook.
        assert baked.read_bytes() == source.read_bytes(), relative
        checked += 1

    assert checked > 10


def test_python_files_compile(project):
    for path in project_files(project):
        if path.suffix == ".py":
            py_compile.compile(str(path), doraise=True)


def test_ruff_clean(project):
    run(["ruff", "check", "backend", "e2e"], cwd=project, env=python_env())
    run(["ruff", "format", "--check", "backend", "e2e"], cwd=project, env=python_env())


def test_django_check(project):
    run(["python", "manage.py", "check", "--fail-level", "WARNING"], cwd=project / "backend", env=python_env())


def test_migrations_complete(project):
    run(["python", "manage.py", "makemigrations", "--check", "--dry-run"], cwd=project / "backend", env=python_env())


@pytest.mark.parametrize("compose_file", ["compose.yaml", "compose.prod.yaml"])
def test_compose_file_valid(project, compose_file):
    docker_compose = shutil.which("docker-compose")
    if docker_compose is None:
        pytest.fail("docker-compose is not installed: apt-get install docker-compose (no engine needed)")
    env = python_env(ALLOWED_HOSTS="example.com")

    run([docker_compose, "-f", compose_file, "config", "-q"], cwd=project, env=env)


def test_readme_names_project(project, context_name):
    readme = (project / "README.md").read_text(encoding="utf-8")
    defaults = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    name = CONTEXTS[context_name].get("project_name", defaults["project_name"])

    assert readme.startswith(f"# {name}")
