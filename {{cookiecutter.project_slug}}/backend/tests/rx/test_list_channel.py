"""List channels: several anchors per connection, kept in order."""

import pytest
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator

from tests.rx.live import LiveClient, application, clean_cache, make_user, run_sync, token_for
from tests.rxapp.models import Project, Task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(clean_cache.__name__)]


@pytest.fixture
def owner(transactional_db):
    return make_user("lena")


@pytest.fixture
def stranger(transactional_db):
    return make_user("sam")


@pytest.fixture
def projects(owner, stranger):
    mine = [Project.objects.create(name=f"mine {index}", owner=owner) for index in range(3)]
    Task.objects.create(project=mine[0], title="first task")
    theirs = Project.objects.create(name="theirs", owner=stranger)
    return mine, theirs


async def open_list(user):
    client = LiveClient("/ws/projects/")
    assert (await client.open(await run_sync(token_for, user)))["statusCode"] == 200
    return client


async def test_initial_anchors_in_queryset_order(owner, projects):
    mine, _ = projects
    client = await open_list(owner)

    anchors = await client.receive_type("initialAnchors")
    instances = await client.initial_state(anchors=3)

    assert anchors["anchorIds"] == [project.pk for project in reversed(mine)]
    roots = [flat["id"] for flat in instances if flat["_instance_type"].endswith("ProjectListSerializer")]
    assert sorted(roots) == sorted(project.pk for project in mine)
    await client.close()


async def test_auto_update_prepends_visible(owner, projects):
    client = await open_list(owner)
    await client.initial_state(anchors=3)

    created = await run_sync(Project.objects.create, name="brand new", owner=owner)

    assert await client.receive_type("prependAnchor") == {"type": "prependAnchor", "anchorId": created.pk}
    instances = await client.initial_state()
    assert [flat["name"] for flat in instances] == ["brand new"]
    await client.close()


async def test_auto_update_skips_invisible(owner, stranger, projects):
    client = await open_list(owner)
    await client.initial_state(anchors=3)

    await run_sync(Project.objects.create, name="not for lena", owner=stranger)

    await client.assert_silent()
    await client.close()


async def test_add_instance_appends(owner, projects):
    _, theirs = projects
    client = await open_list(owner)
    await client.initial_state(anchors=3)

    await client.send({"type": "action", "callId": 1, "action": "add_project", "params": [theirs.pk]})

    assert await client.receive_type("appendAnchor") == {"type": "appendAnchor", "anchorId": theirs.pk}
    assert [flat["name"] for flat in await client.initial_state()] == ["theirs"]
    await client.close()


async def test_add_instance_at_beginning(owner, projects):
    _, theirs = projects
    client = await open_list(owner)
    await client.initial_state(anchors=3)

    await client.send({"type": "action", "callId": 1, "action": "prepend_project", "params": [theirs.pk]})

    assert await client.receive_type("prependAnchor") == {"type": "prependAnchor", "anchorId": theirs.pk}
    await client.close()


async def test_remove_instance(owner, projects):
    mine, _ = projects
    client = await open_list(owner)
    await client.initial_state(anchors=3)

    answer = await client.call(1, "remove_project", mine[1].pk)

    assert answer["result"] is None
    assert {"type": "removeAnchor", "anchorId": mine[1].pk} in client.frames

    def rename_removed():
        mine[1].name = "renamed after removal"
        mine[1].save()

    await run_sync(rename_removed)
    await client.assert_silent()
    await client.close()


async def test_clear(owner, projects):
    mine, _ = projects
    client = await open_list(owner)
    await client.initial_state(anchors=3)

    await client.call(1, "clear_projects")

    assert {"type": "clearAnchors"} in client.frames

    def rename_first():
        mine[0].name = "renamed after clear"
        mine[0].save()

    await run_sync(rename_first)
    await client.assert_silent()
    await client.close()


async def test_deleted_anchor_removed(owner, projects):
    mine, _ = projects
    client = await open_list(owner)
    await client.initial_state(anchors=3)
    anchor_id = mine[2].pk

    await run_sync(mine[2].delete)

    assert await client.receive_type("removeAnchor") == {"type": "removeAnchor", "anchorId": anchor_id}
    await client.close()


async def test_change_reaches_list(owner, projects):
    mine, _ = projects
    client = await open_list(owner)
    await client.initial_state(anchors=3)

    def rename():
        mine[0].name = "renamed"
        mine[0].save()

    await run_sync(rename)

    instances = await client.next_instances()
    assert instances[0]["name"] == "renamed"
    await client.close()


async def test_foreign_origin_rejected(owner, projects):
    guarded = AllowedHostsOriginValidator(application)
    communicator = WebsocketCommunicator(guarded, "/ws/projects/", headers=[(b"origin", b"https://evil.example")])

    connected, _ = await communicator.connect()

    assert not connected


async def test_allowed_origin_accepted(owner, projects):
    guarded = AllowedHostsOriginValidator(application)
    communicator = WebsocketCommunicator(guarded, "/ws/projects/", headers=[(b"origin", b"http://localhost:5173")])

    connected, _ = await communicator.connect()

    assert connected
    await communicator.disconnect()
