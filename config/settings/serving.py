"""The serving layer: health probe, limits on what a request may carry, throttles, access to
/metrics, security headers and API tokens. Each can be overridden by the environment."""

import base64
import hashlib
import re
from datetime import timedelta
from pathlib import Path

import django
from csp.constants import NONCE, NONE, SELF

from config.env import env, env_bool, env_int, env_list
from config.settings.missions import MISSIONS_MAX_BATCH, MISSIONS_MAX_EVENT_DATA_BYTES


def inline_style_hashes(admin_template: str) -> list[str]:
    """CSP hashes of the inline <style> blocks of one of Django's own admin templates."""
    path = Path(django.__file__).parent / "contrib" / "admin" / "templates" / admin_template
    blocks = re.findall(r"<style>(.*?)</style>", path.read_text(), flags=re.S)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in blocks
    ]


# /healthz answers within this many seconds, 503 when a check has not answered by then.
# (1 s: a first probe also pays for starting threads and connections; the promise is 2 s.)
HEALTHZ_TIMEOUT_SECONDS = env_int("HEALTHZ_TIMEOUT_MS", 1000) / 1000

# JSON from outside (request bodies, event data, template JSON) may nest this deep at most.
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 20)
# Largest request body, except POST /api/v1/events (a full batch: MISSIONS_MAX_BATCH events
# at the data limit, about 17 MB). Larger bodies get 413 before they are read.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
# Largest template file for load_templates.
MISSIONS_MAX_TEMPLATE_FILE_BYTES = env_int("MISSIONS_MAX_TEMPLATE_FILE_BYTES", 10 * 1024 * 1024)
# Django's own check on request.body: every body is already bounded by the limits above
# (config.middleware.BodyLimitASGIMiddleware), the largest being a full events batch.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(
    API_MAX_BODY_BYTES, MISSIONS_MAX_BATCH * (MISSIONS_MAX_EVENT_DATA_BYTES + 1024)
)

# POST /api/v1/events under ASGI through a lean middleware stack: no session, CSRF, user,
# messages, login lockout or static files (config/service_api.py). False: the full stack.
SERVICE_API_LEAN = env_bool("SERVICE_API_LEAN", True)

# API throttles (missions/throttles.py), "<count>/<second|minute|hour|day>": token requests
# per client address, claims per player, event batches per service key. Over: 429 with
# Retry-After.
THROTTLE_RATES = {
    "auth_token": env("THROTTLE_AUTH_TOKEN", "10/minute"),
    "claim": env("THROTTLE_CLAIM", "60/minute"),
    "ingest": env("THROTTLE_INGEST", "3000/minute"),
}

# Failed logins (django-axes) on /login/, /admin/login/ and POST /api/v1/auth/token: after
# AXES_FAILURE_LIMIT failures for one username from one address, that pair is locked out for
# AXES_COOLOFF_TIME (429 with Retry-After); a successful login resets the count.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.middleware.login_lockout_response"

# /metrics answers requests from these addresses or networks (the connecting address:
# behind a proxy, the proxy's), or anyone with `Authorization: Bearer <METRICS_BEARER_TOKEN>`
# when that is set.
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", ["127.0.0.1/32", "::1/128"])
METRICS_BEARER_TOKEN = env("METRICS_BEARER_TOKEN", "")

# Content-Security-Policy (django-csp): scripts, styles, images and sockets from this site
# only. Inline <script>/<style> need the request's nonce ({{ request.csp_nonce }}; our
# templates have none, Swagger UI's template is overridden to carry it); the one inline
# <style> of Django's admin change list is allowed by its hash.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE, *inline_style_hashes("admin/change_list.html")],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],  # includes ws(s):// to this host (CSP level 3)
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
