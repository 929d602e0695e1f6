from config.env import env_int

# The rollup task rebuilds this many recent days (missions of a week can still change state).
ANALYTICS_REFRESH_DAYS = env_int("ANALYTICS_REFRESH_DAYS", 10)
# (How often beat runs it: config/schedule.py, ANALYTICS_REFRESH_SECONDS, default 900.)
