"""The nested state of a board, and the flat task serializer of the REST baseline."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from rest_framework import serializers

from .models import Board, Comment, Task


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name"]


class CommentSerializer(serializers.ModelSerializer):
    author = UserSerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "text", "created_at", "author"]


class TaskSerializer(serializers.ModelSerializer):
    assignee = UserSerializer(read_only=True, allow_null=True)
    comments = CommentSerializer(many=True, read_only=True)

    class Meta:
        model = Task
        fields = ["id", "title", "status", "position", "assignee", "comments"]


class BoardSerializer(serializers.ModelSerializer):
    owner = UserSerializer(read_only=True)
    tasks = TaskSerializer(many=True, read_only=True)

    class Meta:
        model = Board
        fields = ["id", "name", "description", "owner", "tasks"]


class TaskUpdateSerializer(serializers.ModelSerializer):
    """The fields of a task that the REST baseline's PATCH may change."""

    class Meta:
        model = Task
        fields = ["id", "title", "status", "position", "assignee"]


def board_state_queryset():
    """Return boards with every relation of BoardSerializer joined or prefetched: three queries per board."""
    comments = Comment.objects.select_related("author")
    tasks = Task.objects.select_related("assignee").prefetch_related(Prefetch("comments", queryset=comments))
    return Board.objects.select_related("owner").prefetch_related(Prefetch("tasks", queryset=tasks))
