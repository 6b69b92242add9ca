"""Live channels of the example app: one board, and the boards a user can see."""

from typing import TypedDict

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from board.models import Board, Task
from board.serializers import BoardSerializer, BoardSummarySerializer, TaskSerializer
from rxdjango import conf
from rxdjango.actions import action
from rxdjango.channels import ContextChannel
from rxdjango.connections import async_redis
from rxdjango.consumers import consumer
from rxdjango.operations import CREATE, DELETE, SAVE


class BoardChannel(ContextChannel):
    """One board with its members, tasks and the user's private note.

    Members may rename the board and add, edit and delete tasks, except locked tasks,
    which the page cannot change.
    """

    class Meta:
        state = BoardSerializer()
        writable = {
            BoardSerializer: [SAVE],
            TaskSerializer: [SAVE, CREATE, DELETE],
        }

    class RuntimeState(TypedDict):
        viewers: int

    @staticmethod
    def has_permission(user, board_id):
        return Board.objects.filter(pk=board_id, members=user).exists()

    def viewers_group(self):
        return f"board-viewers-{self.kwargs['board_id']}"

    def viewers_key(self):
        return f"{conf.get('RX_REDIS_PREFIX')}:board-viewers:{self.kwargs['board_id']}"

    async def on_connect(self, tstamp):
        await self.group_add(self.viewers_group())
        count = await async_redis().incr(self.viewers_key())
        await get_channel_layer().group_send(self.viewers_group(), {"type": "board.viewers", "count": count})

    async def on_disconnect(self):
        count = max(await async_redis().decr(self.viewers_key()), 0)
        await get_channel_layer().group_send(self.viewers_group(), {"type": "board.viewers", "count": count})

    @consumer("board.viewers")
    async def viewers_changed(self, event):
        await self.set_runtime_var("viewers", event["count"])

    def is_member(self, board_id):
        return Board.objects.filter(pk=board_id, members=self.user).exists()

    def can_save(self, instance, data):
        if isinstance(instance, Task):
            return not instance.locked and self.is_member(instance.board_id)
        return self.is_member(instance.pk)

    def can_create(self, model_class, parent, data):
        return model_class is Task and self.is_member(parent.pk)

    def can_delete(self, instance):
        return isinstance(instance, Task) and not instance.locked and self.is_member(instance.board_id)

    @action
    async def clear_done(self) -> int:
        """Delete the board's unlocked tasks that are done and return how many were deleted."""
        return await self.delete_done_tasks()

    async def delete_done_tasks(self) -> int:
        def delete():
            done = Task.objects.filter(board_id=self.kwargs["board_id"], status=Task.Status.DONE, locked=False)
            count = 0
            # Deleting one by one sends a signal per task, which removes each from every open page.
            for task in done:
                task.delete()
                count += 1
            return count

        return await sync_to_async(delete)()


class BoardListChannel(ContextChannel):
    """The boards the user is a member of, newest first; new boards appear live."""

    class Meta:
        state = BoardSummarySerializer(many=True)
        auto_update = True

    def list_instances(self):
        return Board.objects.filter(members=self.user)

    def is_visible(self, instance):
        return instance.members.filter(pk=self.user.pk).exists()
