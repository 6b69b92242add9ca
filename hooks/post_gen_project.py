"""Finish the generated project: secrets, optional parts, permissions, next steps.

Each step is a small function called in order from main(). None of them needs Docker or
the network.
"""

import secrets
import shutil
import stat
import string
from pathlib import Path

PROJECT_DIR = Path.cwd()
PROJECT_SLUG = "{{ cookiecutter.project_slug }}"
INCLUDE_EXAMPLE_APP = "{{ cookiecutter.include_example_app }}" == "y"

# Everything that belongs to the example board app, relative to the project root.
EXAMPLE_APP_PATHS = [
    "backend/board",
    "backend/tests/test_board.py",
    "backend/tests/test_board_channels.py",
    "frontend/src/board",
    "frontend/src/generated/board.channels.ts",
    "frontend/src/generated/board.interfaces.ts",
    "frontend/integration/boardChannel.test.ts",
    "e2e/test_board.py",
    "e2e/test_generated_client.py",
]

# Letters, digits and punctuation that is safe unquoted in .env files and shells:
# no quotes, no '$', no '#', no backslash and no whitespace.
SECRET_KEY_ALPHABET = string.ascii_letters + string.digits + "!%&()*+,-./:;<=>?@[]^_{|}~"
SECRET_KEY_LENGTH = 64

EXECUTABLE_PATTERNS = ["scripts/*.sh", "docker/*.sh", "backend/manage.py"]


def generate_secret_key(length=SECRET_KEY_LENGTH):
    generator = secrets.SystemRandom()
    return "".join(generator.choice(SECRET_KEY_ALPHABET) for _ in range(length))


def write_env_file():
    """Write .env from .env.example with a fresh SECRET_KEY."""
    example = PROJECT_DIR / ".env.example"
    lines = []
    for line in example.read_text(encoding="utf-8").splitlines():
        if line.startswith("SECRET_KEY="):
            line = f"SECRET_KEY={generate_secret_key()}"
        lines.append(line)

    env_file = PROJECT_DIR / ".env"
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env_file.chmod(0o600)


def remove_example_app():
    if INCLUDE_EXAMPLE_APP:
        return
    for relative in EXAMPLE_APP_PATHS:
        path = PROJECT_DIR / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def make_scripts_executable():
    for pattern in EXECUTABLE_PATTERNS:
        for path in PROJECT_DIR.glob(pattern):
            mode = path.stat().st_mode
            path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def print_next_steps():
    demo_step = (
        "  python manage.py create_demo_users && python manage.py seed_demo\n"
        if INCLUDE_EXAMPLE_APP
        else "  python manage.py create_demo_users\n"
    )
    print(
        f"\nCreated {PROJECT_DIR}\n"
        "\n"
        "Run it with Docker:\n"
        f"  cd {PROJECT_SLUG} && docker compose up\n"
        "  open http://localhost:5173\n"
        "\n"
        "Run it without Docker (Python 3.11+, Node 20.19+, redis-server; MongoDB or Go):\n"
        f"  cd {PROJECT_SLUG}\n"
        "  scripts/services.sh start && eval \"$(scripts/services.sh env)\"\n"
        "  cd backend && python -m venv .venv && . .venv/bin/activate\n"
        "  pip install -r requirements-dev.txt\n"
        "  python manage.py migrate\n"
        f"{demo_step}"
        "  python manage.py runserver            # http://127.0.0.1:8000/api/\n"
        "  cd ../frontend && npm ci && npm run dev   # http://127.0.0.1:5173\n"
        "\n"
        "Run the tests:\n"
        "  cd backend && pytest\n"
        "  cd frontend && npm run lint && npm run typecheck && npm test\n"
        "  cd frontend && npm run build && cd .. && pytest e2e\n"
        "\n"
        "The settings live in .env (written now with a fresh SECRET_KEY; never commit it).\n"
    )


def main():
    write_env_file()
    remove_example_app()
    make_scripts_executable()
    print_next_steps()


if __name__ == "__main__":
    main()
