"""The example app's channels over a WebSocket, against the real Redis and MongoDB."""

import io

import pytest
from channels.routing import URLRouter
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from board.models import Board, PrivateNote, Task
from config.routing import websocket_urlpatterns
from tests.rx.live import LiveClient, clean_cache, run_sync, settle, token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(clean_cache.__name__)]

application = URLRouter(websocket_urlpatterns)

TASK_TYPE = "board.serializers.TaskSerializer"
BOARD_TYPE = "board.serializers.BoardSerializer"
NOTE_TYPE = "board.serializers.PrivateNoteSerializer"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())
    users = {user.username: user for user in get_user_model().objects.all()}
    boards = {board.name: board for board in Board.objects.all()}
    return users, boards


async def open_channel(route, user):
    client = LiveClient(route, app=application)
    answer = await client.open(await run_sync(token_for, user))
    return client, answer


def of_type(instances, instance_type):
    return [instance for instance in instances if instance["_instance_type"] == instance_type]


async def test_member_gets_own_note_only(demo):
    users, boards = demo
    launch = boards["Launch plan"]
    client, answer = await open_channel(f"/ws/boards/{launch.pk}/", users["bob"])
    assert answer == {"type": "auth", "statusCode": 200}

    instances = await client.initial_state()
    board = of_type(instances, BOARD_TYPE)[0]
    assert board["name"] == "Launch plan"
    assert len(board["tasks"]) == 3
    titles = {task["title"] for task in of_type(instances, TASK_TYPE)}
    assert "Sign the budget" in titles
    notes = of_type(instances, NOTE_TYPE)
    assert [note["text"] for note in notes] == ["bob's private note"]
    await client.close()


async def test_non_member_rejected(demo):
    users, boards = demo
    errands = boards["Alice's errands"]
    client, answer = await open_channel(f"/ws/boards/{errands.pk}/", users["bob"])
    assert answer["statusCode"] == 403
    await client.close()


async def test_viewers_count_follows_connections(demo):
    users, boards = demo
    route = f"/ws/boards/{boards['Launch plan'].pk}/"
    alice, _ = await open_channel(route, users["alice"])
    first = await alice.receive_type("runtimeVar")
    assert first == {"type": "runtimeVar", "var": "viewers", "value": 1}

    bob, _ = await open_channel(route, users["bob"])
    assert (await alice.receive_type("runtimeVar"))["value"] == 2
    await bob.close()
    assert (await alice.receive_type("runtimeVar"))["value"] == 1
    await alice.close()


async def test_clear_done_keeps_locked_tasks(demo):
    users, boards = demo
    launch = boards["Launch plan"]
    await run_sync(Task.objects.create, board=launch, title="Done and unlocked", status=Task.Status.DONE)
    client, _ = await open_channel(f"/ws/boards/{launch.pk}/", users["alice"])
    await client.initial_state()

    response = await client.call(1, "clear_done")
    assert response == {"type": "actionResponse", "callId": 1, "result": 1}
    # The locked done task stays.
    assert await run_sync(
        lambda: list(Task.objects.filter(board=launch, status="done").values_list("title", flat=True))
    )
    assert not await run_sync(lambda: Task.objects.filter(title="Done and unlocked").exists())
    await client.close()


async def test_board_list_newest_first(demo):
    users, _ = demo
    alice, _ = await open_channel("/ws/boards/", users["alice"])
    anchors = await alice.receive_type("initialAnchors")
    instances = await alice.initial_state(anchors=len(anchors["anchorIds"]))
    names = {
        board["id"]: board["name"] for board in instances if board["_instance_type"].endswith("BoardSummarySerializer")
    }
    assert [names[anchor_id] for anchor_id in anchors["anchorIds"]] == ["Alice's errands", "Launch plan"]

    bob, _ = await open_channel("/ws/boards/", users["bob"])
    assert len((await bob.receive_type("initialAnchors"))["anchorIds"]) == 1
    await alice.close()
    await bob.close()


async def test_new_board_reaches_members(demo):
    users, _ = demo
    alice, _ = await open_channel("/ws/boards/", users["alice"])
    anchors = await alice.receive_type("initialAnchors")
    await alice.initial_state(anchors=len(anchors["anchorIds"]))
    bob, _ = await open_channel("/ws/boards/", users["bob"])
    await bob.initial_state(anchors=1)

    def create_board():
        with transaction.atomic():
            board = Board.objects.create(name="Retrospective")
            board.members.set([users["alice"]])
            PrivateNote.objects.create(board=board, user=users["alice"], text="")
        return board

    board = await run_sync(create_board)
    assert await alice.receive_type("prependAnchor") == {"type": "prependAnchor", "anchorId": board.pk}
    await settle(0.3)
    assert all(frame["type"] != "prependAnchor" for frame in bob.frames)
    await alice.close()
    await bob.close()


async def write(client, write_id, **frame):
    await client.send({"type": "write", "writeId": write_id, **frame})
    while True:
        response = await client.receive_type("writeResponse")
        if response["writeId"] == write_id:
            return response


async def test_task_save_reaches_others(demo):
    users, boards = demo
    launch = boards["Launch plan"]
    task = await run_sync(launch.tasks.get, title="Book the venue")
    alice, _ = await open_channel(f"/ws/boards/{launch.pk}/", users["alice"])
    await alice.initial_state()
    bob, _ = await open_channel(f"/ws/boards/{launch.pk}/", users["bob"])
    await bob.initial_state()

    frame = {"operation": "save", "instanceType": TASK_TYPE, "instanceId": task.pk, "data": {"status": "done"}}
    response = await write(alice, 1, **frame)

    assert response == {"type": "writeResponse", "writeId": 1, "success": True}
    while True:
        changed = [instance for instance in await bob.next_instances() if instance["id"] == task.pk]
        if changed:
            break
    assert changed[0]["status"] == "done"
    await alice.close()
    await bob.close()


@pytest.mark.parametrize(
    "frame",
    [
        {"operation": "save", "data": {"title": "Sign nothing"}},
        {"operation": "delete"},
    ],
    ids=["save", "delete"],
)
async def test_locked_task_write_rejected(demo, frame):
    users, boards = demo
    launch = boards["Launch plan"]
    locked = await run_sync(launch.tasks.get, locked=True)
    client, _ = await open_channel(f"/ws/boards/{launch.pk}/", users["alice"])
    await client.initial_state()

    response = await write(client, 1, instanceType=TASK_TYPE, instanceId=locked.pk, **frame)

    assert response["success"] is False
    assert response["error"]["code"] == 403
    assert await run_sync(Task.objects.filter(pk=locked.pk, title="Sign the budget").exists)
    await client.close()


async def test_member_creates_and_renames(demo):
    users, boards = demo
    launch = boards["Launch plan"]
    client, _ = await open_channel(f"/ws/boards/{launch.pk}/", users["bob"])
    await client.initial_state()

    created = await write(
        client,
        1,
        operation="create",
        instanceType=TASK_TYPE,
        parentType=BOARD_TYPE,
        parentId=launch.pk,
        relationName="tasks",
        data={"title": "Print the flyers"},
    )
    renamed = await write(
        client, 2, operation="save", instanceType=BOARD_TYPE, instanceId=launch.pk, data={"name": "Launch"}
    )

    assert created["success"] is True
    task = await run_sync(Task.objects.get, pk=created["instanceId"])
    assert (task.board_id, task.title, task.locked) == (launch.pk, "Print the flyers", False)
    assert renamed["success"] is True
    assert await run_sync(lambda: Board.objects.get(pk=launch.pk).name) == "Launch"
    await client.close()


async def test_private_note_is_not_writable(demo):
    users, boards = demo
    launch = boards["Launch plan"]
    note = await run_sync(PrivateNote.objects.get, board=launch, user=users["alice"])
    client, _ = await open_channel(f"/ws/boards/{launch.pk}/", users["alice"])
    await client.initial_state()

    frame = {"operation": "save", "instanceType": NOTE_TYPE, "instanceId": note.pk, "data": {"text": "changed"}}
    response = await write(client, 1, **frame)

    assert response["error"]["code"] == 403
    await client.close()
