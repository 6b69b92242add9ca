"""The generated TypeScript channel class, run in Node against the real server."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

FRONTEND_DIR = Path(__file__).resolve().parent.parent / "frontend"

NODE_TEST_TIMEOUT = 120


@pytest.fixture
def launch_task(django_orm):
    from board.models import Task

    task = Task.objects.filter(board__name="Launch plan", locked=False).order_by("id").first()
    original_title = task.title
    yield task
    Task.objects.filter(pk=task.pk).update(title=original_title)


def alice_token():
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=get_user_model().objects.get(username="alice"))
    return token.key


def wait_for_file(path, process, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return
        if process.poll() is not None:
            return
        time.sleep(0.05)
    raise AssertionError(f"the Node test did not write {path} within {timeout} s")


def test_django_save_reaches_node_client(live_server, launch_task, tmp_path):
    npx = shutil.which("npx")
    assert npx is not None, "npx is not on PATH: install Node.js 20 or later"
    ready_file = tmp_path / "ready"
    new_title = "Title saved by Django"
    env = {
        **os.environ,
        "RX_SERVER_URL": live_server,
        "RX_TOKEN": alice_token(),
        "RX_BOARD_ID": str(launch_task.board_id),
        "RX_TASK_ID": str(launch_task.pk),
        "RX_TITLE_BEFORE": launch_task.title,
        "RX_TITLE_AFTER": new_title,
        "RX_READY_FILE": str(ready_file),
    }
    process = subprocess.Popen(
        [npx, "vitest", "run", "--config", "vitest.integration.config.ts"],
        cwd=FRONTEND_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_file(ready_file, process, NODE_TEST_TIMEOUT)
        if process.poll() is None:
            launch_task.title = new_title
            launch_task.save()
        output, _ = process.communicate(timeout=NODE_TEST_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "1 passed" in output, output
