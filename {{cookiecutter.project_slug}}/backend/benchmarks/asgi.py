"""ASGI application of benchmark runs: the benchmark channel and the consumers it is compared with.

There is no origin check, because the benchmark clients send no Origin header.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from benchmarks.benchapp.channels import BoardChannel  # noqa: E402
from benchmarks.benchapp.consumers import (  # noqa: E402
    EchoFloorConsumer,
    FanoutBaselineConsumer,
    FanoutFloorConsumer,
    LoadFloorConsumer,
)

websocket_urlpatterns = [
    path("ws/board/<int:board_id>/", BoardChannel.as_asgi()),
    path("bench/floor/load/<int:board_id>/", LoadFloorConsumer.as_asgi()),
    path("bench/floor/fanout/<int:board_id>/", FanoutFloorConsumer.as_asgi()),
    path("bench/floor/echo/", EchoFloorConsumer.as_asgi()),
    path("bench/baseline/fanout/<int:board_id>/", FanoutBaselineConsumer.as_asgi()),
]

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)})
