from django.urls import path

from .channels import (
    OptimizedProjectChannel,
    ProjectChannel,
    ProjectListChannel,
    WritableProjectChannel,
    WritableProjectListChannel,
)

websocket_urlpatterns = [
    path("ws/project/<int:project_id>/", ProjectChannel.as_asgi()),
    path("ws/optimized/<int:project_id>/", OptimizedProjectChannel.as_asgi()),
    path("ws/projects/", ProjectListChannel.as_asgi()),
    path("ws/writable/<int:project_id>/", WritableProjectChannel.as_asgi()),
    path("ws/writable-projects/", WritableProjectListChannel.as_asgi()),
]
