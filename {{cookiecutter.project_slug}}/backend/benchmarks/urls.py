"""HTTP routes of benchmark runs: the health check and the REST baselines."""

from django.urls import path

from benchmarks.benchapp.views import BoardStateView, TaskUpdateView
from config.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("bench/baseline/boards/<int:pk>/", BoardStateView.as_view(), name="bench-board-state"),
    path("bench/baseline/tasks/<int:pk>/", TaskUpdateView.as_view(), name="bench-task-update"),
]
