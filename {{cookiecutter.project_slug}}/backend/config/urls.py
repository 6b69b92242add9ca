from django.contrib import admin
from django.urls import include, path, re_path

from config.health import healthz
from config.spa import frontend_index

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("healthz", healthz, name="healthz"),
    # Every other path belongs to the React router.
    re_path(r"^(?!api/|admin/|static/|ws/).*$", frontend_index, name="frontend"),
]
