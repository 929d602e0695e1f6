"""The serving layer: health probe, limits on what a request may carry, throttles, access to
/metrics, security headers and API tokens. Each can be overridden by the environment."""

from config.env import env_int

# /healthz answers within this many seconds, 503 when a check has not answered by then.
HEALTHZ_TIMEOUT_SECONDS = env_int("HEALTHZ_TIMEOUT_MS", 1500) / 1000
