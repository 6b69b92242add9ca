"""REST views of the baselines: the nested board state, and a PATCH of one task."""

from django.shortcuts import get_object_or_404
from rest_framework.generics import UpdateAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Task
from .serializers import BoardSerializer, TaskUpdateSerializer, board_state_queryset


class BoardStateView(APIView):
    """Return a board's nested state, read with the joins and prefetches it needs."""

    def get(self, request, pk):
        board = get_object_or_404(board_state_queryset(), pk=pk)
        return Response(BoardSerializer(board).data)


class TaskUpdateView(UpdateAPIView):
    queryset = Task.objects.all()
    serializer_class = TaskUpdateSerializer
