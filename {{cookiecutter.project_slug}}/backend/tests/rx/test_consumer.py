"""The channel consumer end to end, in process, against the real Redis and MongoDB."""

import asyncio
import time

import pytest
from django.db import transaction

from rxdjango import fanout
from tests.rx.live import LiveClient, cache_filled, clean_cache, hold_cache_fill, run_sync, token_for
from tests.rxapp.channels import ProjectChannel
from tests.rxapp.models import Note, Project, Task
from tests.rxapp.serializers import ProjectSerializer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures(clean_cache.__name__)]


async def open_client(user, project_id, last_update=None):
    client = LiveClient(f"/ws/project/{project_id}/")
    answer = await client.open(await run_sync(token_for, user), last_update)
    assert answer == {"type": "auth", "statusCode": 200}
    return client


async def test_initial_state_frames_in_order(people, project):
    client = await open_client(people[0], project.pk)

    anchors = await client.receive()
    runtime = await client.receive()
    instances = await client.initial_state()

    assert anchors == {"type": "initialAnchors", "anchorIds": [project.pk]}
    assert runtime == {"type": "runtimeState", "state": {"viewers": None, "last_event": None}}
    assert client.frames[-1]["type"] == "initialStateEnd"
    assert client.frames[-1]["anchorId"] == project.pk
    assert isinstance(client.frames[-1]["tstamp"], float)
    assert {flat["_operation"] for flat in instances} == {"initial_state"}
    await client.close()


async def test_initial_state_nests_like_drf(people, project):
    client = await open_client(people[0], project.pk)

    instances = await client.initial_state()

    # The other user's note is not sent, so compare with the owner's view of the project.
    expected = await run_sync(lambda: ProjectSerializer(Project.objects.get(pk=project.pk)).data)
    expected = dict(expected)
    expected["notes"] = [note for note in expected["notes"] if note["user"] == people[0].pk]
    nested = ProjectChannel.state_model.nest(instances, project.pk)
    assert nested == expected
    await client.close()


async def test_hot_cache_serves_same_state(people, project):
    first = await open_client(people[0], project.pk)
    cold = await first.initial_state()

    second = await open_client(people[0], project.pk)
    hot = await second.initial_state()

    def key(flat):
        return (flat["_instance_type"], flat["id"])

    assert sorted(map(key, hot)) == sorted(map(key, cold))
    assert ProjectChannel.cache.state_of(project.pk) == "HOT"
    await first.close()
    await second.close()


async def test_bad_token_gets_401_and_close(project):
    client = LiveClient(f"/ws/project/{project.pk}/")

    answer = await client.open("0" * 40)

    assert answer["statusCode"] == 401
    assert answer["error"]
    assert (await client.communicator.receive_output())["code"] == 4401


async def test_permission_denied_gets_403(people):
    private = await run_sync(Project.objects.create, name="private plans", owner=people[0])
    client = LiveClient(f"/ws/project/{private.pk}/")

    answer = await client.open(await run_sync(token_for, people[1]))

    assert answer["statusCode"] == 403
    assert (await client.communicator.receive_output())["code"] == 4403


async def test_owner_passes_permission(people):
    private = await run_sync(Project.objects.create, name="private plans", owner=people[0])

    client = await open_client(people[0], private.pk)

    await client.initial_state()
    await client.close()


async def test_unknown_anchor_gets_404(people):
    client = LiveClient("/ws/project/999999/")

    answer = await client.open(await run_sync(token_for, people[0]))

    assert answer["statusCode"] == 404
    assert (await client.communicator.receive_output())["code"] == 4404


async def test_auth_timeout_closes(settings, project):
    settings.RX_AUTH_TIMEOUT = 0.2
    client = LiveClient(f"/ws/project/{project.pk}/")
    connected, _ = await client.communicator.connect()
    assert connected

    answer = await client.receive()

    assert answer["type"] == "auth"
    assert answer["statusCode"] == 401
    assert (await client.communicator.receive_output())["code"] == 4408


async def test_frame_before_auth_rejected(project):
    client = LiveClient(f"/ws/project/{project.pk}/")
    await client.communicator.connect()

    await client.send({"type": "action", "callId": 1, "action": "add", "params": [1, 2]})

    assert await client.receive() == {"type": "error", "code": 401, "message": "send an auth frame first"}
    await client.close()


async def test_second_auth_rejected(people, project):
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    await client.send({"type": "auth", "token": "again"})

    frame = await client.receive_type("error")
    assert frame["code"] == 400
    await client.close()


async def test_save_sends_delta(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    def rename():
        first_task.title = "Build a bigger rocket"
        first_task.save()

    await run_sync(rename)

    instances = await client.next_instances()
    assert len(instances) == 1
    delta = instances[0]
    assert set(delta) == {"id", "_instance_type", "_tstamp", "_operation", "title"}
    assert delta["title"] == "Build a bigger rocket"
    assert delta["_operation"] == "update"
    assert delta["_instance_type"] == "tests.rxapp.serializers.TaskSerializer"
    await client.close()


async def test_save_without_change_sends_nothing(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    await run_sync(first_task.save)

    await client.assert_silent()
    await client.close()


async def test_rolled_back_save_sends_nothing(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    def save_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            first_task.title = "never committed"
            first_task.save()
            raise RuntimeError("roll back")

    await run_sync(save_then_fail)

    await client.assert_silent()
    await client.close()


async def test_three_saves_one_transaction_one_delta(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    def save_three_times():
        with transaction.atomic():
            for title in ("one", "two", "three"):
                first_task.title = title
                first_task.save()

    await run_sync(save_three_times)

    instances = await client.next_instances()
    assert [flat["title"] for flat in instances] == ["three"]
    await client.assert_silent()
    await client.close()


async def test_rolled_back_savepoint_not_sent(people, project_rows):
    project, first_task, second_task = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    def save_with_failed_savepoint():
        with transaction.atomic():
            second_task.title = "kept"
            second_task.save()
            try:
                with transaction.atomic():
                    first_task.title = "discarded"
                    first_task.save()
                    raise RuntimeError("roll back the savepoint")
            except RuntimeError:
                pass

    await run_sync(save_with_failed_savepoint)

    instances = await client.next_instances()
    assert [(flat["id"], flat["title"]) for flat in instances] == [(second_task.pk, "kept")]
    await client.assert_silent()
    await client.close()


async def test_create_sends_instance_and_parent_list(people, project):
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    task = await run_sync(Task.objects.create, project=project, title="Launch", position=3)

    received = await client.next_instances()
    received += await client.next_instances()
    created = [flat for flat in received if flat["_operation"] == "create"]
    parents = [flat for flat in received if flat["_instance_type"].endswith("ProjectSerializer")]
    assert created[0]["id"] == task.pk
    assert created[0]["title"] == "Launch"
    assert task.pk in parents[0]["tasks"]
    await client.close()


async def test_delete_sends_whole_instance(people, project_rows):
    project, _, second_task = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()
    task_id = second_task.pk

    await run_sync(second_task.delete)

    deleted = await client.next_instances()
    assert deleted[0]["_operation"] == "delete"
    assert deleted[0]["id"] == task_id
    assert deleted[0]["title"] == "Train crew"
    parent = await client.next_instances()
    assert task_id not in parent[0]["tasks"]
    await client.close()


async def test_user_key_rows_stay_private(people, project):
    owner, other = people
    owner_client = await open_client(owner, project.pk)
    other_client = await open_client(other, project.pk)
    owner_initial = await owner_client.initial_state()
    other_initial = await other_client.initial_state()

    def notes(instances):
        return [flat for flat in instances if flat["_instance_type"].endswith("NoteSerializer")]

    assert [note["user"] for note in notes(owner_initial)] == [owner.pk]
    assert [note["user"] for note in notes(other_initial)] == [other.pk]

    def edit_owner_note():
        note = Note.objects.get(project=project, user=owner)
        note.text = "changed secret"
        note.save()

    await run_sync(edit_owner_note)

    assert (await owner_client.next_instances())[0]["text"] == "changed secret"
    await other_client.assert_silent()
    await owner_client.close()
    await other_client.close()


async def test_cold_anchor_loaded_once_for_twenty_clients(people, project, monkeypatch):
    loads = []
    original = ProjectChannel.state_model.load_anchor

    def counting_load(*args, **kwargs):
        loads.append(args)
        yield from original(*args, **kwargs)

    monkeypatch.setattr(ProjectChannel.state_model, "load_anchor", counting_load)
    token = await run_sync(token_for, people[0])
    clients = [LiveClient(f"/ws/project/{project.pk}/") for _ in range(20)]

    await asyncio.gather(*(client.open(token) for client in clients))
    states = await asyncio.gather(*(client.initial_state() for client in clients))

    assert len(loads) == 1

    def key(flat):
        return (flat["_instance_type"], flat["id"], flat["_tstamp"])

    first = sorted(map(key, states[0]))
    for state in states[1:]:
        assert sorted(map(key, state)) == first
    await asyncio.gather(*(client.close() for client in clients))


async def test_loader_gets_state_before_cache_is_filled(people, project, monkeypatch):
    filling = hold_cache_fill(monkeypatch, ProjectChannel)
    client = await open_client(people[0], project.pk)

    assert await client.initial_state()
    assert await run_sync(ProjectChannel.cache.state_of, project.pk) == "HEATING"
    filling.set()
    await cache_filled(ProjectChannel, project.pk)
    assert await run_sync(ProjectChannel.cache.state_of, project.pk) == "HOT"
    await client.close()


async def test_failed_cache_fill_closes_loader(people, project, monkeypatch):
    filling = asyncio.Event()

    async def failing_write(*args, **kwargs):
        await filling.wait()
        raise ConnectionError("the cache refused the batch")

    monkeypatch.setattr(ProjectChannel.cache, "write_heating_batch", failing_write)
    client = await open_client(people[0], project.pk)
    await client.initial_state()
    filling.set()

    closing = await client.communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close"
    assert closing["code"] == 1011
    assert await run_sync(ProjectChannel.cache.state_of, project.pk) == "COLD"


async def test_reconnect_gets_only_newer(people, project_rows):
    project, first_task, second_task = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()
    last_update = client.frames[-1]["tstamp"]
    await client.close()
    deleted_id = second_task.pk

    def change_while_away():
        first_task.title = "changed while away"
        first_task.save()
        second_task.delete()

    await run_sync(change_while_away)
    again = await open_client(people[0], project.pk, last_update=last_update)

    instances = await again.initial_state()

    by_id = {(flat["_instance_type"].rsplit(".", 1)[1], flat["id"]): flat for flat in instances}
    assert by_id[("TaskSerializer", first_task.pk)]["title"] == "changed while away"
    assert by_id[("TaskSerializer", deleted_id)]["_operation"] == "delete"
    # Unchanged rows are not sent again; the project changed because its task list did.
    assert {type_name for type_name, _ in by_id} == {"TaskSerializer", "ProjectSerializer"}
    assert again.frames[-1]["type"] == "initialStateEnd"
    await again.close()


async def test_reconnect_after_rebuild_gets_everything(people, project):
    client = await open_client(people[0], project.pk)
    full = await client.initial_state()
    last_update = client.frames[-1]["tstamp"]
    await client.close()
    await cache_filled(ProjectChannel, project.pk)
    await run_sync(ProjectChannel.clear_cache, project.pk)

    again = await open_client(people[0], project.pk, last_update=last_update)

    assert len(await again.initial_state()) == len(full)
    await again.close()


async def test_action_result(people, project):
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    answer = await client.call(7, "add", 2, 3)

    assert answer == {"type": "actionResponse", "callId": 7, "result": 5}
    await client.close()


async def test_unknown_action_404(people, project):
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    answer = await client.call(1, "launch_missiles")

    assert answer["error"]["code"] == 404
    await client.close()


async def test_action_bad_params_400(people, project):
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    answer = await client.call(2, "add", 1)

    assert answer["error"]["code"] == 400
    assert "add" in answer["error"]["message"]
    await client.close()


async def test_action_exception_500_hides_detail(people, project):
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    answer = await client.call(3, "explode")

    assert answer["error"] == {"code": 500, "message": "action explode failed"}
    assert "secret" not in str(answer)
    assert "Traceback" not in str(answer)
    await client.close()


async def test_action_unserializable_result_500(people, project):
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    answer = await client.call(4, "not_serializable")

    assert answer["error"]["code"] == 500
    await client.close()


async def test_on_connect_receives_last_update(people, project):
    client = await open_client(people[0], project.pk, last_update=123.5)
    await client.initial_state()

    answer = await client.call(5, "whoami")

    assert answer["result"] == {"username": "olga", "reconnected_from": 123.5}
    await client.close()


async def test_runtime_var_sent(people, project):
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    await client.send({"type": "action", "callId": 1, "action": "set_viewers", "params": [4]})

    assert await client.receive_type("runtimeVar") == {"type": "runtimeVar", "var": "viewers", "value": 4}
    await client.close()


async def test_consumer_event_reaches_channel(people, project):
    from channels.layers import get_channel_layer

    client = await open_client(people[0], project.pk)
    await client.initial_state()

    await get_channel_layer().group_send(f"project-events-{project.pk}", {"type": "project.event", "text": "hello"})

    assert await client.receive_type("runtimeVar") == {"type": "runtimeVar", "var": "last_event", "value": "hello"}
    await client.close()


async def test_notification_to_all(people, project):
    first = await open_client(people[0], project.pk)
    second = await open_client(people[1], project.pk)
    await first.initial_state()
    await second.initial_state()

    await run_sync(ProjectChannel.broadcast_notification, project.pk, {"message": "hi"})

    assert await first.receive_type("notification") == {"type": "notification", "payload": {"message": "hi"}}
    assert await second.receive_type("notification") == {"type": "notification", "payload": {"message": "hi"}}
    await first.close()
    await second.close()


async def test_notification_to_one_user(people, project):
    first = await open_client(people[0], project.pk)
    second = await open_client(people[1], project.pk)
    await first.initial_state()
    await second.initial_state()

    await run_sync(ProjectChannel.broadcast_notification, project.pk, {"message": "psst"}, user_id=people[1].pk)

    assert (await second.receive_type("notification"))["payload"] == {"message": "psst"}
    await first.assert_silent()
    await first.close()
    await second.close()


async def test_system_message_reaches_everyone(people, project):
    from django.core.management import call_command

    client = await open_client(people[0], project.pk)
    await client.initial_state()

    await run_sync(call_command, "broadcast_system_message", "Deploying in 5 minutes")

    assert await client.receive_type("system") == {"type": "system", "message": "Deploying in 5 minutes"}
    await client.close()


async def test_write_to_read_only_channel_403(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    await client.send(
        {
            "type": "write",
            "writeId": 1,
            "operation": "save",
            "instanceType": "tests.rxapp.serializers.TaskSerializer",
            "instanceId": first_task.pk,
            "data": {"title": "x"},
        }
    )

    answer = await client.receive_type("writeResponse")
    assert answer["writeId"] == 1
    assert answer["success"] is False
    assert answer["error"]["code"] == 403
    assert "Meta.writable" in answer["error"]["message"]
    assert (await run_sync(Task.objects.get, pk=first_task.pk)).title == "Build rocket"
    await client.close()


async def test_broadcast_instance_after_queryset_update(people, project_rows):
    project, first_task, _ = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    def bulk_update():
        Task.objects.filter(pk=first_task.pk).update(title="updated in bulk")
        ProjectChannel.broadcast_instance(project.pk, Task.objects.get(pk=first_task.pk))

    await run_sync(bulk_update)

    assert (await client.next_instances())[0]["title"] == "updated in bulk"
    await client.close()


async def test_slow_socket_closed(people, project_rows, monkeypatch):
    project, first_task, _ = project_rows
    client = await open_client(people[0], project.pk)
    await client.initial_state()
    monkeypatch.setattr(fanout, "transport_buffer_size", lambda send: 10**9)

    def rename():
        first_task.title = "too much"
        first_task.save()

    await run_sync(rename)

    closing = await client.communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close"
    assert closing["code"] == 4429


async def test_malformed_frames_answered_while_others_update(people, project_rows):
    from tests.rx.frames import MALFORMED_FRAMES

    project, first_task, _ = project_rows
    noisy = await open_client(people[0], project.pk)
    calm = await open_client(people[1], project.pk)
    await noisy.initial_state()
    await calm.initial_state()

    for name, text, code in MALFORMED_FRAMES:
        await noisy.send(text)
        frame = await noisy.receive_type("error")
        assert frame["code"] == code, name

    def rename():
        first_task.title = "still live"
        first_task.save()

    await run_sync(rename)

    assert (await calm.next_instances())[0]["title"] == "still live"
    assert (await noisy.next_instances())[0]["title"] == "still live"
    await noisy.close()
    await calm.close()


async def test_many_malformed_frames_close(settings, people, project):
    settings.RX_MAX_FRAME_ERRORS = 3
    client = await open_client(people[0], project.pk)
    await client.initial_state()

    for _ in range(4):
        await client.send("garbage")

    for _ in range(4):
        assert (await client.receive_type("error"))["code"] == 400
    closing = await client.communicator.receive_output(timeout=5)
    assert closing["code"] == 4400


async def test_migrate_clears_caches(people, project):
    from django.core.management import call_command

    client = await open_client(people[0], project.pk)
    await client.initial_state()
    await client.close()
    await cache_filled(ProjectChannel, project.pk)
    assert ProjectChannel.cache.state_of(project.pk) == "HOT"

    await run_sync(call_command, "migrate", verbosity=0)

    assert ProjectChannel.cache.state_of(project.pk) == "COLD"


async def test_deleted_anchor_changes_stop(people, project):
    client = await open_client(people[0], project.pk)
    await client.initial_state()
    started = time.time()

    await run_sync(Project.objects.filter(pk=project.pk).delete)

    received = await client.next_instances()
    assert any(flat["_operation"] == "delete" and flat["_tstamp"] >= started for flat in received)
    await client.close()
