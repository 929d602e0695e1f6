from config.env import env_int

# The rollup task rebuilds this many recent days (missions of a week can still change state).
ANALYTICS_REFRESH_DAYS = env_int("ANALYTICS_REFRESH_DAYS", 10)
# How often Celery beat runs it, in seconds.
ANALYTICS_REFRESH_SECONDS = env_int("ANALYTICS_REFRESH_SECONDS", 900)
