"""Serializers of the test app, nested the way DRF users write them.

ProjectSerializer is the full nested state of a project channel. ProjectListSerializer is a
lighter state for a channel that lists several projects.
"""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from .models import Comment, Note, Project, ProjectDetail, Tag, Task


class UserSerializer(serializers.ModelSerializer):
    display_name = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "display_name"]

    def get_display_name(self, user) -> str:
        return user.get_full_name() or user.username


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class ProjectDetailSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProjectDetail
        fields = ["id", "description", "website"]


class CommentSerializer(serializers.ModelSerializer):
    author = UserSerializer(read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "text", "created_at", "author"]


class TaskSerializer(serializers.ModelSerializer):
    assignee = UserSerializer(read_only=True)
    comments = CommentSerializer(many=True, read_only=True, source="comment_set")
    comment_count = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["id", "title", "done", "position", "assignee", "comments", "comment_count"]
        optimistic = True

    def get_comment_count(self, task) -> int:
        return len(task.comment_set.all())


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "text", "user"]
        user_key = "user"


class ProjectSerializer(serializers.ModelSerializer):
    owner = UserSerializer(read_only=True)
    tags = TagSerializer(many=True, read_only=True)
    detail = ProjectDetailSerializer(read_only=True, allow_null=True)
    tasks = TaskSerializer(many=True, read_only=True)
    notes = NoteSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "budget",
            "public_id",
            "starts_at",
            "metadata",
            "open_task_count",
            "owner",
            "tags",
            "detail",
            "tasks",
            "notes",
        ]


class TaskSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "title", "done", "position"]


class ProjectListSerializer(serializers.ModelSerializer):
    tasks = TaskSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "name", "budget", "public_id", "starts_at", "open_task_count", "tasks"]
