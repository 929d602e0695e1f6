"""HTTP through Django, WebSocket through Channels (session cookie or ?token=)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.local")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.middleware import BodyLimitASGIMiddleware  # noqa: E402
from config.service_api import ServiceApiRouter  # noqa: E402
from missions.player.routing import websocket_urlpatterns  # noqa: E402
from missions.player.ws_auth import (  # noqa: E402
    AllowedHostsBrowserOriginValidator,
    TokenOrSessionAuthMiddlewareStack,
)

application = ProtocolTypeRouter(
    {
        # POST /api/v1/events through its own lean middleware stack (config/service_api.py).
        "http": BodyLimitASGIMiddleware(ServiceApiRouter(django_asgi_app)),
        "websocket": AllowedHostsBrowserOriginValidator(
            TokenOrSessionAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Build the cache and channel-layer clients at start-up (no I/O, only imports): the first
# request, /healthz included, then does not pay for importing redis and channels-redis.
from channels.layers import get_channel_layer  # noqa: E402
from django.core.cache import caches  # noqa: E402

get_channel_layer()
caches["default"]
