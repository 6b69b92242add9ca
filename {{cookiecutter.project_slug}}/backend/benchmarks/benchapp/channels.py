"""The live channel that the benchmarks measure: one board, with writable tasks."""

from rxdjango.channels import ContextChannel
from rxdjango.operations import SAVE

from .serializers import BoardSerializer, TaskSerializer


class BoardChannel(ContextChannel):
    class Meta:
        state = BoardSerializer()
        writable = {TaskSerializer: [SAVE]}

    def can_save(self, instance, data):
        # Every benchmark client may change every task, so writes measure the write path only.
        return True
