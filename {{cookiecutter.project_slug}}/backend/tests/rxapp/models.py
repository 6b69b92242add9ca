"""Test models covering every relation kind a channel state can nest.

Project is the anchor. Its tree reaches a one-to-one detail, a reverse foreign key list of
tasks with their comments (three levels deep), a many-to-many list of tags, user foreign
keys at several levels, and notes that only their author may see.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from rxdjango.related_properties import related_property


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Project(models.Model):
    name = models.CharField(max_length=120)
    budget = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rx_projects")
    tags = models.ManyToManyField(Tag, related_name="projects", blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name

    @related_property("tasks")
    def open_task_count(self):
        # Iterating tasks.all() uses prefetched tasks when the queryset has them.
        return sum(1 for task in self.tasks.all() if not task.done)


class ProjectDetail(models.Model):
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="detail")
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)

    def __str__(self):
        return f"Detail of {self.project}"


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    done = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rx_assigned_tasks",
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title


class Comment(models.Model):
    # No related_name: the reverse accessor is comment_set and the query name is comment.
    task = models.ForeignKey(Task, on_delete=models.CASCADE)
    # related_name="+" hides the reverse relation, so no lookup leads from a user to comments.
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.text[:40]


class Note(models.Model):
    """A note on a project that only its user may see."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="notes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rx_notes")
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"Note of {self.user} on {self.project}"
