"""The baked projects' own test suites, run against the real services."""

import shutil

import pytest

from tests.conftest import python_env, run

pytestmark = pytest.mark.slow

SUITE_CONTEXTS = ["defaults", "no_example_app"]


@pytest.fixture(scope="module", params=SUITE_CONTEXTS)
def project(request, baked_projects):
    return baked_projects(request.param)


@pytest.fixture(scope="module")
def frontend(project):
    """The project's frontend folder with its locked dependencies installed."""
    if shutil.which("npm") is None:
        pytest.fail("npm is not installed: install Node.js 20.19 or newer")
    frontend_dir = project / "frontend"
    run(["npm", "ci", "--no-audit", "--no-fund"], cwd=frontend_dir)
    return frontend_dir


def test_backend_suite(project):
    run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project / "backend", env=python_env())


def test_generated_typescript_current(project):
    run(["python", "manage.py", "makefrontend", "--dry-run"], cwd=project / "backend", env=python_env())


def test_frontend_lint(frontend):
    run(["npm", "run", "lint"], cwd=frontend)


def test_frontend_typecheck(frontend):
    run(["npm", "run", "typecheck"], cwd=frontend)


def test_frontend_unit_tests(frontend):
    run(["npm", "test"], cwd=frontend)


def test_frontend_build(frontend):
    run(["npm", "run", "build"], cwd=frontend)

    assert (frontend / "dist" / "index.html").is_file()


def test_end_to_end_suite(project, frontend):
    if not (frontend / "dist" / "index.html").is_file():
        run(["npm", "run", "build"], cwd=frontend)

    run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "e2e"], cwd=project, env=python_env())


def test_benchmarks_quick_run(project, frontend):
    """Every benchmark scenario runs at small sizes; the numbers are printed, never checked."""
    result = run(["python", "-m", "benchmarks", "--quick"], cwd=project / "backend", env=python_env())

    for heading in ["Initial load", "Fan-out", "Write round trip", "Client", "Memory"]:
        assert heading in result.stdout, heading
