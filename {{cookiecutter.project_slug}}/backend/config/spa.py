"""Serve the built frontend's index.html for client-side routes."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.http import require_safe


@require_safe
def frontend_index(request):
    index = settings.FRONTEND_DIST_DIR / "index.html"
    if not index.is_file():
        return HttpResponseNotFound(
            f"The frontend is not built: {index} is missing. Run `npm run build` in frontend/.",
            content_type="text/plain",
        )

    response = HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
    # index.html names the hashed asset files of the current build, so it must not be cached.
    response["Cache-Control"] = "no-cache"
    return response
