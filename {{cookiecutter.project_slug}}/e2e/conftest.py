"""Fixtures that run the real stack for browser tests.

The backend runs under daphne with the built frontend, against the Redis and MongoDB
named by REDIS_URL and MONGO_URL (or the project's .env), with a fresh SQLite database.
Build the frontend first: `cd frontend && npm run build`.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
BACKEND_DIR = PROJECT_DIR / "backend"
FRONTEND_DIR = PROJECT_DIR / "frontend"
FRONTEND_DIST_DIR = FRONTEND_DIR / "dist"
# The example board app, absent from projects generated without it.
HAS_EXAMPLE_APP = (BACKEND_DIR / "board").is_dir()

DEMO_PASSWORD = "demo-password"
SERVER_START_TIMEOUT = 30
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url, process, log_path):
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with status {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"daphne did not become healthy at {url}/healthz within {SERVER_START_TIMEOUT} s; see {log_path}"
    )


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=BACKEND_DIR, env=env, check=True, capture_output=True)


@pytest.fixture(scope="session")
def server_env(tmp_path_factory):
    """Environment of the backend under test: a fresh SQLite database, served frontend."""
    if not (FRONTEND_DIST_DIR / "index.html").is_file():
        pytest.fail(f"{FRONTEND_DIST_DIR / 'index.html'} is missing: run `npm run build` in frontend/ first.")

    database = tmp_path_factory.mktemp("db") / "e2e.sqlite3"
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "FRONTEND_DIST_DIR": str(FRONTEND_DIST_DIR),
        }
    )
    manage(env, "migrate", "--noinput")
    manage(env, "create_demo_users", "--password", DEMO_PASSWORD)
    if HAS_EXAMPLE_APP:
        manage(env, "seed_demo")
    return env


@pytest.fixture(scope="session")
def django_orm(server_env):
    """Set up Django in the test process on the server's database, for ORM changes made by tests.

    Saves made here reach the server's clients the way any Django process's saves do:
    through rxdjango's signals, Redis and MongoDB.
    """
    os.environ.update(server_env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Playwright's sync API runs an event loop in the test thread, where Django otherwise
    # raises SynchronousOnlyOperation for database calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    if str(BACKEND_DIR) not in sys.path:
        sys.path.insert(0, str(BACKEND_DIR))
    import django

    django.setup()


@pytest.fixture(scope="session")
def live_server(server_env, tmp_path_factory):
    """Base URL of a daphne process serving the API, WebSockets and the built frontend."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("logs") / "daphne.log"

    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=BACKEND_DIR,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(url, process, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def bundled_chromium_installed():
    browsers = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    return browsers.is_dir() and any(browsers.glob("chromium*"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Playwright's own Chromium, or the system one where it cannot be downloaded.

    PLAYWRIGHT_CHROMIUM_EXECUTABLE names a browser explicitly; otherwise /usr/bin/chromium
    is used when `playwright install chromium` has not run.
    """
    args = dict(browser_type_launch_args)
    executable = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE")
    if not executable and not bundled_chromium_installed() and SYSTEM_CHROMIUM.exists():
        executable = str(SYSTEM_CHROMIUM)

    if executable:
        args["executable_path"] = executable
        args["args"] = [
            *args.get("args", []),
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to start its sandbox as root, which containers and CI often are.
        args["chromium_sandbox"] = False
    return args


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_server):
    return {**browser_context_args, "base_url": live_server}


def log_in(page, username):
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("home-username").wait_for()


@pytest.fixture(scope="session")
def storage_state(browser, browser_context_args, tmp_path_factory):
    """Return the storage state file of a user who has logged in once through the page."""
    paths = {}

    def state_of(username):
        if username not in paths:
            context = browser.new_context(**browser_context_args)
            page = context.new_page()
            log_in(page, username)
            paths[username] = tmp_path_factory.mktemp("auth") / f"{username}.json"
            context.storage_state(path=paths[username])
            context.close()
        return paths[username]

    return state_of


@pytest.fixture(scope="session")
def alice_storage_state(storage_state):
    return storage_state("alice")
