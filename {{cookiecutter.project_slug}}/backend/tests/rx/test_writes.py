"""Client writes end to end, in process, against the real Redis and MongoDB.

Each check of a write frame has its own test, in the order the server runs them:
malformed frame, Meta.writable, cached state of the connection's anchors, missing row,
can_* hooks, serializer validation, and the ORM write with its broadcast.
"""

import asyncio
import logging
import re

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from rxdjango.state_model import StateModel
from rxdjango.writes import create_row
from tests.rx.live import LiveClient, clean_cache, hold_cache_fill, run_sync, token_for
from tests.rxapp.channels import WritableProjectChannel
from tests.rxapp.models import Note, Project, Tag, Task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(clean_cache.__name__)]

PROJECT = "tests.rxapp.serializers.ProjectSerializer"
TASK = "tests.rxapp.serializers.TaskSerializer"
TAG = "tests.rxapp.serializers.TagSerializer"
NOTE = "tests.rxapp.serializers.NoteSerializer"
COMMENT = "tests.rxapp.serializers.CommentSerializer"
TASK_SUMMARY = "tests.rxapp.serializers.TaskSummarySerializer"


@pytest.fixture
def exploding_task_save():
    """Make saving a task titled "explode" raise after its UPDATE has run."""

    def explode(sender, instance, **kwargs):
        if instance.title == "explode":
            raise RuntimeError("secret internal detail")

    post_save.connect(explode, sender=Task, weak=False, dispatch_uid="test_writes.explode")
    yield
    post_save.disconnect(sender=Task, dispatch_uid="test_writes.explode")


async def open_client(user, route):
    client = LiveClient(route)
    answer = await client.open(await run_sync(token_for, user))
    assert answer == {"type": "auth", "statusCode": 200}
    anchors = await client.receive_type("initialAnchors")
    await client.initial_state(anchors=len(anchors["anchorIds"]))
    return client


async def open_project(user, project_id):
    return await open_client(user, f"/ws/writable/{project_id}/")


async def response_to(client, write_id):
    """Read frames until the writeResponse of write_id. The frames read on the way stay in client.frames."""
    while True:
        frame = await client.receive_type("writeResponse")
        if frame["writeId"] == write_id:
            return frame


async def save(client, write_id, instance_type, instance_id, data):
    await client.send(
        {
            "type": "write",
            "writeId": write_id,
            "operation": "save",
            "instanceType": instance_type,
            "instanceId": instance_id,
            "data": data,
        }
    )
    return await response_to(client, write_id)


async def create(client, write_id, instance_type, parent_type, parent_id, relation_name, data):
    await client.send(
        {
            "type": "write",
            "writeId": write_id,
            "operation": "create",
            "instanceType": instance_type,
            "parentType": parent_type,
            "parentId": parent_id,
            "relationName": relation_name,
            "data": data,
        }
    )
    return await response_to(client, write_id)


async def delete(client, write_id, instance_type, instance_id):
    await client.send(
        {
            "type": "write",
            "writeId": write_id,
            "operation": "delete",
            "instanceType": instance_type,
            "instanceId": instance_id,
        }
    )
    return await response_to(client, write_id)


async def wait_for_instance(client, predicate, start=0):
    """Return the first flat instance from client.frames[start:] on, received or still to come, that matches."""
    index = start
    while True:
        while index < len(client.frames):
            frame = client.frames[index]
            index += 1
            if frame["type"] != "instances":
                continue
            for flat in frame["instances"]:
                if predicate(flat):
                    return flat
        await client.receive()


def state_of(client, project_id):
    """Nest every instance the client received into the project's state."""
    instances = [flat for frame in client.frames if frame["type"] == "instances" for flat in frame["instances"]]
    return WritableProjectChannel.state_model.nest(instances, project_id)


def is_instance(flat, instance_type, instance_id):
    return flat["_instance_type"] == instance_type and flat["id"] == instance_id


def error_of(response):
    assert response["success"] is False, response
    return response["error"]


async def title_of(task_id):
    return (await run_sync(Task.objects.get, pk=task_id)).title


async def count_queries(action):
    """Run an async action and return the SQL queries run meanwhile in the database thread.

    database_sync_to_async runs every call of the test and of the consumers in one thread,
    so the queries are captured there.
    """
    context = CaptureQueriesContext(connection)
    await run_sync(context.__enter__)
    try:
        await action()
    finally:
        await run_sync(context.__exit__, None, None, None)
    return await run_sync(lambda: context.captured_queries)


# 1. Malformed frames


async def test_malformed_write_gets_400_response(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_project(people[0], project.pk)

    await client.send({"type": "write", "writeId": 5, "operation": "save", "instanceType": TASK, "data": {}})

    response = await client.receive()
    error_frame = await client.receive()
    assert response["type"] == "writeResponse"
    assert response["writeId"] == 5
    assert error_of(response)["code"] == 400
    assert "instanceId" in error_of(response)["message"]
    assert error_frame["type"] == "error"
    assert error_frame["code"] == 400
    await client.close()


async def test_malformed_write_without_write_id(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_project(people[0], project.pk)

    await client.send(
        {"type": "write", "writeId": "7", "operation": "save", "instanceType": TASK, "instanceId": first_task.pk}
    )

    frame = await client.receive()
    assert frame["type"] == "error"
    assert frame["code"] == 400
    assert "writeId" in frame["message"]
    await client.assert_silent()
    assert await title_of(first_task.pk) == "Build rocket"
    await client.close()


# 2. Meta.writable


async def test_unwritable_type_403_without_queries(people, project_rows, monkeypatch):
    project, first_task, _ = project_rows
    client = await open_project(people[0], project.pk)
    comment_id = (await run_sync(lambda: first_task.comment_set.get())).pk
    cache_lookups = []
    live_owners = WritableProjectChannel.cache.live_owners

    async def recording_live_owners(*args):
        cache_lookups.append(args)
        return await live_owners(*args)

    monkeypatch.setattr(WritableProjectChannel.cache, "live_owners", recording_live_owners)
    responses = []

    async def write_unwritable():
        responses.append(await save(client, 1, COMMENT, comment_id, {"text": "edited"}))
        responses.append(await save(client, 2, TAG, 1, {"name": "renamed"}))
        responses.append(await delete(client, 3, NOTE, 1))

    queries = await count_queries(write_unwritable)

    assert [error_of(response)["code"] for response in responses] == [403, 403, 403]
    assert "not writable" in error_of(responses[0])["message"]
    assert "save is not allowed" in error_of(responses[1])["message"]
    assert "delete is not allowed" in error_of(responses[2])["message"]
    assert queries == []
    assert cache_lookups == []
    await client.close()


async def test_writable_type_queries_counted(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_project(people[0], project.pk)

    async def write_allowed():
        assert (await save(client, 1, TASK, first_task.pk, {"title": "Counted"}))["success"] is True

    queries = await count_queries(write_allowed)

    # The capture records the consumer's queries, so the empty capture of the 403 test shows that none ran.
    assert len(queries) > 0
    await client.close()


# 3. Cached state of the connection's anchors


async def test_write_waits_for_cache_fill(people, project_rows, monkeypatch):
    project, task, _ = project_rows
    filling = hold_cache_fill(monkeypatch, WritableProjectChannel)
    client = await open_project(people[0], project.pk)
    await client.send(
        {
            "type": "write",
            "writeId": 1,
            "operation": "save",
            "instanceType": TASK,
            "instanceId": task.pk,
            "data": {"title": "written while filling"},
        }
    )
    await asyncio.sleep(0.1)
    assert await title_of(task.pk) != "written while filling"

    filling.set()

    assert (await response_to(client, 1))["success"] is True
    assert await title_of(task.pk) == "written while filling"
    await client.close()


async def test_task_of_other_anchor_400(people, project_rows):
    owner, other = people
    project, first_task, _ = project_rows
    theirs = await run_sync(Project.objects.create, name="Theirs", owner=other)
    their_task = await run_sync(Task.objects.create, project=theirs, title="Their task")
    # Both anchors are cached, so only the connection's anchors tell them apart.
    their_client = await open_project(other, theirs.pk)
    client = await open_project(owner, project.pk)

    saved = await save(client, 1, TASK, their_task.pk, {"title": "Hijacked"})
    deleted = await delete(client, 2, TASK, their_task.pk)
    created = await create(client, 3, TASK, PROJECT, theirs.pk, "tasks", {"title": "Planted"})

    assert error_of(saved)["code"] == 400
    assert "not in the state" in error_of(saved)["message"]
    assert error_of(deleted)["code"] == 400
    assert error_of(created)["code"] == 400
    assert await title_of(their_task.pk) == "Their task"
    assert await run_sync(Task.objects.filter(project=theirs).count) == 1
    await their_client.assert_silent()
    await client.close()
    await their_client.close()


async def test_unknown_instance_id_400(people, project):
    client = await open_project(people[0], project.pk)

    response = await save(client, 1, TASK, 999999, {"title": "Nowhere"})

    assert error_of(response)["code"] == 400
    await client.close()


async def test_create_relation_checked_400(people, project):
    client = await open_project(people[0], project.pk)
    cases = [
        ("unknown parent type", TASK, "tests.rxapp.serializers.Missing", "tasks"),
        ("relation of another type", TASK, PROJECT, "notes"),
        ("single relation", TASK, PROJECT, "owner"),
        ("plain field", TASK, PROJECT, "name"),
        ("missing relation", TASK, PROJECT, "subtasks"),
    ]

    for write_id, (case, instance_type, parent_type, relation_name) in enumerate(cases, start=1):
        response = await create(client, write_id, instance_type, parent_type, project.pk, relation_name, {"title": "x"})
        assert error_of(response)["code"] == 400, case

    assert await run_sync(Task.objects.filter(title="x").count) == 0
    await client.close()


# 4. Missing rows


async def test_deleted_row_404(people, project_rows):
    project, _, second_task = project_rows
    client = await open_project(people[0], project.pk)

    def delete_without_signals():
        # Raw SQL sends no signal, so the cache still contains the task.
        table = connection.ops.quote_name(Task._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [second_task.pk])

    await run_sync(delete_without_signals)

    saved = await save(client, 1, TASK, second_task.pk, {"title": "Back from the dead"})
    deleted = await delete(client, 2, TASK, second_task.pk)

    assert error_of(saved)["code"] == 404
    assert "not found" in error_of(saved)["message"]
    assert error_of(deleted)["code"] == 404
    assert not await run_sync(Task.objects.filter(pk=second_task.pk).exists)
    await client.close()


# 5. can_* hooks


async def test_channel_rules_deny_403(people, project_rows):
    owner, other = people
    project, first_task, second_task = project_rows
    client = await open_project(other, project.pk)

    # pavel is assigned "Train crew" only, and only olga owns the project.
    denied_save = await save(client, 1, TASK, first_task.pk, {"title": "Mine now"})
    allowed_save = await save(client, 2, TASK, second_task.pk, {"title": "Train the crew"})
    denied_create = await create(client, 3, TASK, PROJECT, project.pk, "tasks", {"title": "Extra"})
    denied_delete = await delete(client, 4, TASK, second_task.pk)

    assert error_of(denied_save)["code"] == 403
    assert "can_save" in error_of(denied_save)["message"]
    assert allowed_save["success"] is True
    assert error_of(denied_create)["code"] == 403
    assert "can_create" in error_of(denied_create)["message"]
    assert error_of(denied_delete)["code"] == 403
    assert await title_of(first_task.pk) == "Build rocket"
    assert await run_sync(Task.objects.filter(title="Extra").exists) is False
    assert await run_sync(Task.objects.filter(pk=second_task.pk).exists) is True
    await client.close()


async def test_done_task_not_deleted(people, project_rows):
    project, first_task, _ = project_rows
    await run_sync(Task.objects.filter(pk=first_task.pk).update, done=True)
    client = await open_project(people[0], project.pk)

    response = await delete(client, 1, TASK, first_task.pk)

    assert error_of(response)["code"] == 403
    assert await run_sync(Task.objects.filter(pk=first_task.pk).exists) is True
    await client.close()


async def test_default_hooks_deny_403(people, project_rows):
    owner, _ = people
    project, _, task = project_rows
    projects_client = await open_client(owner, "/ws/writable-projects/")
    project_client = await open_project(owner, project.pk)

    # WritableProjectListChannel and WritableProjectChannel's project delete keep ContextChannel.can_delete.
    list_delete = await delete(projects_client, 1, TASK_SUMMARY, task.pk)
    project_delete = await delete(project_client, 1, PROJECT, project.pk)

    assert error_of(list_delete)["code"] == 403
    assert "can_delete" in error_of(list_delete)["message"]
    assert error_of(project_delete)["code"] == 403
    assert await run_sync(Task.objects.filter(pk=task.pk).exists) is True
    assert await run_sync(Project.objects.filter(pk=project.pk).exists) is True
    await projects_client.close()
    await project_client.close()


# 6. Serializer validation


async def test_invalid_data_400_with_field_errors(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_project(people[0], project.pk)

    blank = await save(client, 1, TASK, first_task.pk, {"title": ""})
    negative = await save(client, 2, TASK, first_task.pk, {"title": "Valid", "position": -1})
    untitled = await create(client, 3, TASK, PROJECT, project.pk, "tasks", {"position": 4})

    assert error_of(blank) == {
        "code": 400,
        "message": "invalid data for TaskSerializer: title",
        "fields": {"title": ["This field may not be blank."]},
    }
    assert error_of(negative)["code"] == 400
    assert list(error_of(negative)["fields"]) == ["position"]
    assert error_of(untitled)["fields"] == {"title": ["This field is required."]}
    assert await title_of(first_task.pk) == "Build rocket"
    assert await run_sync(Task.objects.filter(project=project).count) == 2
    await client.close()


async def test_read_only_fields_ignored(people, project_rows):
    owner, other = people
    project, first_task, _ = project_rows
    client = await open_project(owner, project.pk)
    data = {"id": 999999, "title": "Renamed", "assignee": other.pk, "comments": [], "comment_count": 42}

    response = await save(client, 1, TASK, first_task.pk, data)

    assert response == {"type": "writeResponse", "writeId": 1, "success": True}
    task = await run_sync(Task.objects.get, pk=first_task.pk)
    assert task.title == "Renamed"
    assert task.assignee_id == owner.pk
    assert await run_sync(task.comment_set.count) == 1
    assert not await run_sync(Task.objects.filter(pk=999999).exists)
    await client.close()


# 7. Applied writes


async def test_save_reaches_writer_and_other(people, project_rows):
    owner, other = people
    project, first_task, _ = project_rows
    writer = await open_project(owner, project.pk)
    watcher = await open_project(other, project.pk)
    writer_start = len(writer.frames)
    watcher_start = len(watcher.frames)

    response = await save(writer, 1, TASK, first_task.pk, {"title": "Build a bigger rocket", "done": True})

    assert response == {"type": "writeResponse", "writeId": 1, "success": True}
    for client, start in ((writer, writer_start), (watcher, watcher_start)):
        delta = await wait_for_instance(client, lambda flat: is_instance(flat, TASK, first_task.pk), start)
        assert delta["_operation"] == "update"
        assert delta["title"] == "Build a bigger rocket"
        assert delta["done"] is True
    task = await run_sync(Task.objects.get, pk=first_task.pk)
    assert task.title == "Build a bigger rocket"
    assert task.done is True
    await writer.close()
    await watcher.close()


async def test_write_response_precedes_broadcast(people, project_rows):
    owner, _ = people
    project, first_task, _ = project_rows
    writer = await open_project(owner, project.pk)
    start = len(writer.frames)

    await save(writer, 1, TASK, first_task.pk, {"title": "Answered first"})
    await wait_for_instance(writer, lambda flat: is_instance(flat, TASK, first_task.pk), start)

    types = [frame["type"] for frame in writer.frames[start:] if frame["type"] in ("writeResponse", "instances")]
    assert types == ["writeResponse", "instances"]
    await writer.close()


async def test_create_returns_instance_id(people, project):
    owner, other = people
    writer = await open_project(owner, project.pk)
    watcher = await open_project(other, project.pk)

    response = await create(writer, 1, TASK, PROJECT, project.pk, "tasks", {"title": "Launch", "position": 5})

    assert response["success"] is True
    new_id = response["instanceId"]
    assert isinstance(new_id, int)
    assert set(response) == {"type", "writeId", "success", "instanceId"}
    task = await run_sync(Task.objects.get, pk=new_id)
    assert task.project_id == project.pk
    assert task.title == "Launch"
    for client in (writer, watcher):
        created = await wait_for_instance(client, lambda flat: is_instance(flat, TASK, new_id))
        assert created["_operation"] == "create"
        await wait_for_instance(
            client, lambda flat: flat["_instance_type"] == PROJECT and new_id in flat.get("tasks", [])
        )
        tasks = state_of(client, project.pk)["tasks"]
        assert [task["title"] for task in tasks] == ["Build rocket", "Train crew", "Launch"]
    await writer.close()
    await watcher.close()


class TaskWithProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "title", "project"]


class ProjectWithTasksSerializer(serializers.ModelSerializer):
    tasks = TaskWithProjectSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "name", "tasks"]


def test_create_fills_foreign_key_field(people, project):
    other_project = Project.objects.create(name="Other", owner=people[1])
    layer = StateModel(ProjectWithTasksSerializer(), owner="test").root.child("tasks")

    without_project, _ = create_row(layer, project.pk, {"title": "No project given"}, {})
    with_other_project, _ = create_row(layer, project.pk, {"title": "Other given", "project": other_project.pk}, {})

    assert Task.objects.get(pk=without_project).project_id == project.pk
    assert Task.objects.get(pk=with_other_project).project_id == project.pk


async def test_create_many_to_many_adds_to_parent(people, project):
    owner, _ = people
    client = await open_project(owner, project.pk)

    response = await create(client, 1, TAG, PROJECT, project.pk, "tags", {"name": "lunar"})

    assert response["success"] is True
    tag = await run_sync(Tag.objects.get, pk=response["instanceId"])
    assert tag.name == "lunar"
    assert await run_sync(project.tags.filter(pk=tag.pk).exists) is True
    await wait_for_instance(client, lambda flat: flat["_instance_type"] == PROJECT and tag.pk in flat.get("tags", []))
    assert [tag["name"] for tag in state_of(client, project.pk)["tags"]] == ["lunar", "space", "urgent"]
    await client.close()


async def test_delete_removes_instance(people, project_rows):
    owner, other = people
    project, _, second_task = project_rows
    writer = await open_project(owner, project.pk)
    watcher = await open_project(other, project.pk)

    response = await delete(writer, 1, TASK, second_task.pk)

    assert response == {"type": "writeResponse", "writeId": 1, "success": True}
    assert not await run_sync(Task.objects.filter(pk=second_task.pk).exists)
    for client in (writer, watcher):
        deleted = await wait_for_instance(client, lambda flat: flat["_operation"] == "delete")
        assert deleted["_instance_type"] == TASK
        assert deleted["id"] == second_task.pk
        await wait_for_instance(
            client,
            lambda flat: flat["_instance_type"] == PROJECT and "tasks" in flat and flat["_operation"] == "update",
        )
        assert [task["title"] for task in state_of(client, project.pk)["tasks"]] == ["Build rocket"]
    await writer.close()
    await watcher.close()


async def test_repeated_write_id_applied_once(people, project):
    client = await open_project(people[0], project.pk)

    first = await create(client, 8, TASK, PROJECT, project.pk, "tasks", {"title": "Once"})
    second = await create(client, 8, TASK, PROJECT, project.pk, "tasks", {"title": "Once"})
    renamed = await save(client, 8, TASK, first["instanceId"], {"title": "Twice"})

    assert first["success"] is True
    assert second == first
    assert renamed == first
    assert await run_sync(Task.objects.filter(project=project, title="Once").count) == 1
    assert await run_sync(Task.objects.filter(title="Twice").exists) is False
    await client.close()


async def test_server_error_500_rolls_back(people, project_rows, exploding_task_save, caplog):
    owner, other = people
    project, first_task, _ = project_rows
    writer = await open_project(owner, project.pk)
    watcher = await open_project(other, project.pk)

    with caplog.at_level(logging.ERROR, logger="rxdjango.writes"):
        failed = await save(writer, 1, TASK, first_task.pk, {"title": "explode"})

    assert error_of(failed) == {"code": 500, "message": "the write failed because of a server error"}
    assert "secret" not in str(failed)
    assert await title_of(first_task.pk) == "Build rocket"
    records = [record for record in caplog.records if record.name == "rxdjango.writes"]
    assert records[-1].exc_info is not None
    await watcher.assert_silent()
    watcher_start = len(watcher.frames)

    again = await save(writer, 2, TASK, first_task.pk, {"title": "Still working"})

    assert again["success"] is True
    assert await title_of(first_task.pk) == "Still working"
    delta = await wait_for_instance(watcher, lambda flat: is_instance(flat, TASK, first_task.pk), watcher_start)
    assert delta["title"] == "Still working"
    await writer.close()
    await watcher.close()


async def test_list_channel_writes_own_anchors(people):
    owner, other = people
    mine = [await run_sync(Project.objects.create, name=f"mine {index}", owner=owner) for index in range(2)]
    theirs = await run_sync(Project.objects.create, name="theirs", owner=other)
    my_task = await run_sync(Task.objects.create, project=mine[0], title="first")
    their_task = await run_sync(Task.objects.create, project=theirs, title="theirs")
    their_client = await open_client(other, "/ws/writable-projects/")
    client = await open_client(owner, "/ws/writable-projects/")

    allowed = await save(client, 1, TASK_SUMMARY, my_task.pk, {"title": "first, edited"})
    outside = await save(client, 2, TASK_SUMMARY, their_task.pk, {"title": "theirs, edited"})

    assert allowed == {"type": "writeResponse", "writeId": 1, "success": True}
    delta = await wait_for_instance(
        client, lambda flat: is_instance(flat, TASK_SUMMARY, my_task.pk) and flat["_operation"] == "update"
    )
    assert delta["title"] == "first, edited"
    assert error_of(outside)["code"] == 400
    assert await title_of(their_task.pk) == "theirs"
    await client.close()
    await their_client.close()


async def test_other_users_note_not_writable(people, project):
    owner, other = people
    owner_note, other_note = await run_sync(lambda: list(Note.objects.filter(project=project).order_by("id")))
    owner_client = await open_project(owner, project.pk)
    client = await open_project(other, project.pk)

    foreign = await save(client, 1, NOTE, owner_note.pk, {"text": "read your note"})
    own = await save(client, 2, NOTE, other_note.pk, {"text": "my own note"})
    given_away = await save(client, 3, NOTE, other_note.pk, {"user": owner.pk})
    planted = await create(client, 4, NOTE, PROJECT, project.pk, "notes", {"text": "for olga", "user": owner.pk})
    private = await create(client, 5, NOTE, PROJECT, project.pk, "notes", {"text": "new private note"})

    assert error_of(foreign)["code"] == 400
    assert own["success"] is True
    assert error_of(given_away)["code"] == 403
    assert error_of(planted)["code"] == 403
    assert private["success"] is True
    assert (await run_sync(Note.objects.get, pk=owner_note.pk)).text == "owner's secret"
    assert (await run_sync(Note.objects.get, pk=other_note.pk)).user_id == other.pk
    new_note = await run_sync(Note.objects.get, pk=private["instanceId"])
    assert new_note.user_id == other.pk
    assert await run_sync(Note.objects.filter(text="for olga").exists) is False
    # olga receives the project's new list of note ids, but never pavel's notes.
    await wait_for_instance(
        owner_client, lambda flat: flat["_instance_type"] == PROJECT and new_note.pk in flat.get("notes", [])
    )
    await owner_client.assert_silent()
    owner_notes = [flat for frame in owner_client.frames if frame["type"] == "instances" for flat in frame["instances"]]
    assert {flat["user"] for flat in owner_notes if flat["_instance_type"] == NOTE} == {owner.pk}
    await owner_client.close()
    await client.close()


async def test_rejection_logged_with_ids(people, project, caplog):
    client = await open_project(people[0], project.pk)

    with caplog.at_level(logging.WARNING, logger="rxdjango.writes"):
        await delete(client, 4, PROJECT, project.pk)

    messages = [record.getMessage() for record in caplog.records if record.name == "rxdjango.writes"]
    assert len(messages) == 1
    assert re.search(r"connection [0-9a-f]{12} ", messages[0])
    assert f"anchors [{project.pk}]" in messages[0]
    assert "rejected with 403" in messages[0]
    await client.close()
