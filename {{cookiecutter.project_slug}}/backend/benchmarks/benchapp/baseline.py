"""The hand-written broadcast of the fan-out baseline: the whole board state on every task save."""

from django.db.models.signals import post_save

from .consumers import baseline_group
from .models import Task
from .serializers import BoardSerializer, board_state_queryset

DISPATCH_UID = "benchmarks:baseline-board-state"


def connect_state_broadcast(group_send):
    """Send the board's nested state to its group after every Task save, until disconnected.

    group_send(group, message) is a synchronous callable that sends one channel-layer message.
    """

    def broadcast_board_state(sender, instance, raw=False, **kwargs):
        if raw:
            return
        board = board_state_queryset().get(pk=instance.board_id)
        group_send(baseline_group(board.pk), {"type": "bench.state", "state": BoardSerializer(board).data})

    post_save.connect(broadcast_board_state, sender=Task, dispatch_uid=DISPATCH_UID, weak=False)


def disconnect_state_broadcast():
    post_save.disconnect(sender=Task, dispatch_uid=DISPATCH_UID)
