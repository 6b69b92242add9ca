"""Channels of the test app: one project, the list of a user's projects, and writable variants of both."""

from typing import TypedDict

from rxdjango.actions import action
from rxdjango.channels import ContextChannel
from rxdjango.consumers import consumer
from rxdjango.operations import CREATE, DELETE, SAVE

from .models import Note, Project, Task
from .serializers import (
    NoteSerializer,
    ProjectListSerializer,
    ProjectSerializer,
    TagSerializer,
    TaskSerializer,
    TaskSummarySerializer,
)


class ProjectChannel(ContextChannel):
    class Meta:
        state = ProjectSerializer()

    class RuntimeState(TypedDict):
        viewers: int
        last_event: str

    @staticmethod
    def has_permission(user, project_id):
        # Projects named "private..." are visible to their owner only.
        project = Project.objects.filter(pk=project_id).first()
        return project is None or not project.name.startswith("private") or project.owner_id == user.pk

    async def on_connect(self, tstamp):
        self.connected_with = tstamp
        await self.group_add(f"project-events-{self.kwargs['project_id']}")

    @consumer("project.event")
    async def project_event(self, event):
        await self.set_runtime_var("last_event", event["text"])

    @action
    async def add(self, a: int, b: int) -> int:
        return a + b

    @action
    async def explode(self) -> None:
        raise RuntimeError("secret internal detail")

    @action
    async def set_viewers(self, count: int) -> None:
        await self.set_runtime_var("viewers", count)

    @action
    async def whoami(self) -> dict:
        return {"username": self.user.username, "reconnected_from": self.connected_with}

    @action
    async def not_serializable(self) -> object:
        return object()


class ProjectListChannel(ContextChannel):
    class Meta:
        state = ProjectListSerializer(many=True)
        auto_update = True

    def list_instances(self):
        return Project.objects.filter(owner=self.user).order_by("-id")

    def is_visible(self, instance):
        return instance.owner_id == self.user.pk

    @action
    async def add_project(self, project_id: int) -> None:
        await self.add_instance(project_id)

    @action
    async def prepend_project(self, project_id: int) -> None:
        await self.add_instance(project_id, at_beginning=True)

    @action
    async def remove_project(self, project_id: int) -> None:
        await self.remove_instance(project_id)

    @action
    async def clear_projects(self) -> None:
        await self.clear()


class OptimizedProjectChannel(ContextChannel):
    """The project state with the live-anchor pre-filter of broadcasts."""

    class Meta:
        state = ProjectSerializer()
        optimize_anchors = True
        cache_ttl = 3600


class WritableProjectChannel(ContextChannel):
    """The project state with writes to the project, its tasks, tags and notes."""

    class Meta:
        state = ProjectSerializer()
        writable = {
            ProjectSerializer: [SAVE, DELETE],
            TaskSerializer: [SAVE, CREATE, DELETE],
            TagSerializer: [CREATE],
            NoteSerializer: [SAVE, CREATE],
        }

    def can_save(self, instance, data):
        if isinstance(instance, Task):
            # The project owner edits every task, other users only the tasks assigned to them.
            return instance.project.owner_id == self.user.pk or instance.assignee_id == self.user.pk
        if isinstance(instance, Note):
            # Only the note's user has it in their state, so only that user gets here.
            return True
        return instance.owner_id == self.user.pk

    async def can_create(self, model_class, parent, data):
        # Every user may add a note, and only the project owner adds tasks and tags.
        return model_class is Note or parent.owner_id == self.user.pk

    def can_delete(self, instance):
        if isinstance(instance, Task):
            # Done tasks are kept.
            return instance.project.owner_id == self.user.pk and not instance.done
        return super().can_delete(instance)


class WritableProjectListChannel(ContextChannel):
    """The user's projects. The project owner may edit their tasks, and can_delete keeps its default, which denies."""

    class Meta:
        state = ProjectListSerializer(many=True)
        writable = {TaskSummarySerializer: [SAVE, DELETE]}

    def list_instances(self):
        return Project.objects.filter(owner=self.user).order_by("-id")

    def can_save(self, instance, data):
        return instance.project.owner_id == self.user.pk
