"""Serializers of the example app. BoardSerializer is the state of one board page."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from board.models import Board, PrivateNote, Task


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]


class TaskSerializer(serializers.ModelSerializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Task
        fields = ["id", "title", "status", "assignee", "locked", "created_at"]
        read_only_fields = ["locked", "created_at"]
        optimistic = True
        optimistic_timeout = 5


class PrivateNoteSerializer(serializers.ModelSerializer):
    """A member's own note on the board; each user receives only theirs."""

    class Meta:
        model = PrivateNote
        fields = ["id", "user", "text", "updated_at"]
        read_only_fields = ["user", "updated_at"]
        user_key = "user"


class BoardSerializer(serializers.ModelSerializer):
    members = MemberSerializer(many=True, read_only=True)
    tasks = TaskSerializer(many=True, read_only=True)
    notes = PrivateNoteSerializer(many=True, read_only=True)

    class Meta:
        model = Board
        fields = ["id", "name", "created_at", "members", "tasks", "notes"]
        read_only_fields = ["created_at"]
        optimistic = True


class BoardSummarySerializer(serializers.ModelSerializer):
    """A board as the board list shows it."""

    members = MemberSerializer(many=True, read_only=True)

    class Meta:
        model = Board
        fields = ["id", "name", "created_at", "members"]
