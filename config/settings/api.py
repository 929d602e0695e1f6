from datetime import timedelta

from config.env import env_int

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call then gets 401 + `WWW-Authenticate: Token`.
        "missions.token_auth.PlayerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "missions.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # JSON in with size and depth limits, JSON out that always encodes (missions/api_parsers.py).
    # JSON bodies only: the schema then advertises one request content type, so generated
    # clients (openapi-python-client) send JSON instead of JSON, form and multipart at once.
    "DEFAULT_PARSER_CLASSES": ["missions.api_parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["missions.api_parsers.SafeJSONRenderer"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Mission System API",
    "DESCRIPTION": (
        "Player API (missions, claims, streaks, history, balances, leaderboards) and the "
        "service ingestion endpoint for events."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Vendored Swagger UI / Redoc (drf-spectacular-sidecar): no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# API tokens (django-rest-knox): only a hash is stored; a token expires API_TOKEN_TTL_HOURS
# after it was issued (POST /api/v1/auth/token issues a new one).
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 24 * 30)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
