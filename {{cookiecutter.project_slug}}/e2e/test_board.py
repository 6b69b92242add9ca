"""The example board in Chromium: live state, optimistic writes, rollbacks, reconnection."""

import io
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

BOARD_SOCKET = re.compile(r"/ws/boards/\d+/$")
SCREENSHOT_DIR = Path(__file__).resolve().parent / "test-results" / "screenshots"
# TaskSerializer.Meta.optimistic_timeout, in seconds.
TASK_OPTIMISTIC_TIMEOUT = 5


@pytest.fixture
def launch_board(django_orm):
    """A freshly seeded "Launch plan" board, with new row ids and so an empty cache."""
    from django.core.management import call_command

    from board.models import Board

    call_command("seed_demo", stdout=io.StringIO())
    return Board.objects.get(name="Launch plan")


def task_named(board, title):
    return board.tasks.get(title=title)


def task_row(page, task):
    return page.locator(f'[data-testid="task-row"][data-task-id="{task.pk}"]')


def open_board(context, board):
    page = context.new_page()
    page.goto(f"/boards/{board.pk}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-connected", "true")
    expect(page.get_by_test_id("task-list")).to_be_visible()
    return page


def screenshot(page, name):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT_DIR / f"{name}.png", full_page=True)


class HeldSocket:
    """Route the board socket through the test, which may hold or drop frames.

    While `holding`, frames from the server wait in `held` until `release()`. Frames from
    the page that `drop_from_page` accepts never reach the server.
    """

    def __init__(self, page):
        self.holding = False
        self.held = []
        self.routes = []
        self.drop_from_page = lambda frame: False
        page.route_web_socket(BOARD_SOCKET, self.handle)

    def handle(self, route):
        server = route.connect_to_server()
        self.routes.append(route)

        def from_page(message):
            if not self.drop_from_page(json.loads(message)):
                server.send(message)

        def from_server(message):
            if self.holding:
                self.held.append((route, message))
            else:
                route.send(message)

        route.on_message(from_page)
        server.on_message(from_server)

    def release(self):
        self.holding = False
        held, self.held = self.held, []
        for route, message in held:
            route.send(message)


@pytest.fixture
def alice_context(browser, browser_context_args, storage_state):
    context = browser.new_context(**browser_context_args, storage_state=storage_state("alice"))
    yield context
    context.close()


@pytest.fixture
def bob_context(browser, browser_context_args, storage_state):
    context = browser.new_context(**browser_context_args, storage_state=storage_state("bob"))
    yield context
    context.close()


def test_board_state_renders(alice_context, launch_board):
    page = alice_context.new_page()
    page.goto("/")
    expect(page.get_by_test_id("board-list-item")).to_have_count(2)
    page.get_by_role("link", name="Launch plan").click()

    expect(page.get_by_test_id("board-name")).to_have_text("Launch plan")
    expect(page.get_by_test_id("task-row")).to_have_count(3)
    locked = task_named(launch_board, "Sign the budget")
    expect(task_row(page, locked).get_by_test_id("task-locked")).to_be_visible()
    expect(page.get_by_test_id("private-note")).to_have_text("alice's private note")
    expect(page.get_by_test_id("board-viewers")).to_have_text("1")


def test_django_save_reaches_page(alice_context, launch_board):
    page = open_board(alice_context, launch_board)
    task = task_named(launch_board, "Book the venue")

    task.title = "Book the big venue"
    task.save()

    expect(task_row(page, task).get_by_test_id("task-title")).to_have_value("Book the big venue")


def test_save_shows_before_confirmation(alice_context, launch_board):
    page = alice_context.new_page()
    socket = HeldSocket(page)
    page.goto(f"/boards/{launch_board.pk}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-connected", "true")
    task = task_named(launch_board, "Book the venue")
    row = task_row(page, task)

    socket.holding = True
    row.get_by_test_id("task-status").select_option("done")

    expect(row.get_by_test_id("task-status")).to_have_value("done")
    expect(row).to_have_attribute("data-pending", "true")
    screenshot(page, "pending-state")

    socket.release()
    expect(row).to_have_attribute("data-pending", "false")
    expect(row.get_by_test_id("task-status")).to_have_value("done")
    task.refresh_from_db()
    assert task.status == "done"


def test_rejected_save_rolls_back(alice_context, launch_board):
    page = alice_context.new_page()
    socket = HeldSocket(page)
    page.goto(f"/boards/{launch_board.pk}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-connected", "true")
    locked = task_named(launch_board, "Sign the budget")
    title = task_row(page, locked).get_by_test_id("task-title")

    socket.holding = True
    title.fill("Budget signed by nobody")
    title.press("Enter")
    expect(title).to_have_value("Budget signed by nobody")

    socket.release()
    expect(title).to_have_value("Sign the budget")
    expect(page.get_by_test_id("write-error")).to_contain_text("403")
    screenshot(page, "rollback-message")
    locked.refresh_from_db()
    assert locked.title == "Sign the budget"


def test_rejected_create_removes_row(alice_context, launch_board):
    page = alice_context.new_page()
    socket = HeldSocket(page)
    page.goto(f"/boards/{launch_board.pk}")
    expect(page.get_by_test_id("task-row")).to_have_count(3)

    # Task titles have at most 200 characters, so the server's validation rejects this one.
    socket.holding = True
    page.get_by_test_id("new-task-title").fill("x" * 201)
    page.get_by_test_id("new-task-submit").click()
    expect(page.get_by_test_id("task-row")).to_have_count(4)

    socket.release()
    expect(page.get_by_test_id("task-row")).to_have_count(3)
    expect(page.get_by_test_id("write-error")).to_contain_text("400")
    assert launch_board.tasks.count() == 3


def test_rejected_delete_restores_position(alice_context, launch_board):
    from board.models import Task

    # A task after the locked one, so the locked task sits in the middle of the list.
    Task.objects.create(board=launch_board, title="Celebrate")
    page = alice_context.new_page()
    socket = HeldSocket(page)
    page.goto(f"/boards/{launch_board.pk}")
    rows = page.get_by_test_id("task-row")
    expect(rows).to_have_count(4)
    locked = task_named(launch_board, "Sign the budget")
    expect(rows.nth(2)).to_have_attribute("data-task-id", str(locked.pk))

    socket.holding = True
    task_row(page, locked).get_by_test_id("task-delete").click()
    expect(rows).to_have_count(3)

    socket.release()
    expect(rows).to_have_count(4)
    expect(rows.nth(2)).to_have_attribute("data-task-id", str(locked.pk))
    expect(page.get_by_test_id("write-error")).to_contain_text("403")


def test_users_see_each_others_edits(alice_context, bob_context, launch_board):
    alice = open_board(alice_context, launch_board)
    bob = open_board(bob_context, launch_board)
    expect(alice.get_by_test_id("board-viewers")).to_have_text("2")
    task = task_named(launch_board, "Write the announcement")

    title = task_row(alice, task).get_by_test_id("task-title")
    title.fill("Write the press release")
    title.press("Enter")
    expect(task_row(bob, task).get_by_test_id("task-title")).to_have_value("Write the press release")

    task_row(bob, task).get_by_test_id("task-status").select_option("done")
    expect(task_row(alice, task).get_by_test_id("task-status")).to_have_value("done")

    alice.get_by_test_id("new-task-title").fill("Order the cake")
    alice.get_by_test_id("new-task-submit").click()
    expect(bob.get_by_test_id("task-row")).to_have_count(4)
    expect(bob.get_by_test_id("private-note")).to_have_text("bob's private note")


def test_dropped_socket_catches_up(alice_context, launch_board):
    page = alice_context.new_page()
    down = {"value": False}
    routes = []

    def handle(route):
        if down["value"]:
            route.close(code=1011, reason="test network outage")
            return
        route.connect_to_server()
        routes.append(route)

    page.route_web_socket(BOARD_SOCKET, handle)
    page.goto(f"/boards/{launch_board.pk}")
    status = page.get_by_test_id("connection-status")
    expect(status).to_have_attribute("data-connected", "true")
    task = task_named(launch_board, "Book the venue")

    down["value"] = True
    routes[-1].close(code=1011, reason="test network outage")
    expect(status).to_have_attribute("data-connected", "false")
    task.title = "Book the venue while offline"
    task.save()
    expect(task_row(page, task).get_by_test_id("task-title")).to_have_value("Book the venue")

    down["value"] = False
    expect(status).to_have_attribute("data-connected", "true", timeout=20_000)
    expect(task_row(page, task).get_by_test_id("task-title")).to_have_value("Book the venue while offline")


def test_unanswered_write_times_out(alice_context, launch_board):
    page = alice_context.new_page()
    socket = HeldSocket(page)
    socket.drop_from_page = lambda frame: frame.get("type") == "write"
    page.goto(f"/boards/{launch_board.pk}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-connected", "true")
    task = task_named(launch_board, "Book the venue")
    title = task_row(page, task).get_by_test_id("task-title")

    title.fill("Never reaches the server")
    title.press("Enter")
    expect(title).to_have_value("Never reaches the server")

    expect(title).to_have_value("Book the venue", timeout=(TASK_OPTIMISTIC_TIMEOUT + 5) * 1000)
    expect(page.get_by_test_id("write-error")).to_be_visible()
