"""Channels of the test app: one project, and the list of a user's projects."""

from typing import TypedDict

from rxdjango.actions import action
from rxdjango.channels import ContextChannel
from rxdjango.consumers import consumer

from .models import Project
from .serializers import ProjectListSerializer, ProjectSerializer


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
