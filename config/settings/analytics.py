from config.env import env, env_int

# The rollup task rebuilds this many recent days (missions of a week can still change state).
ANALYTICS_REFRESH_DAYS = env_int("ANALYTICS_REFRESH_DAYS", 10)
# How often beat runs it, in seconds (config/schedule.py).
ANALYTICS_REFRESH_SECONDS = env_int("ANALYTICS_REFRESH_SECONDS", 900)

# Optional emission budgets per day (unset = none), as exact decimals: the backtest, the
# dashboard and the template admin compare projected and actual emission with them.
ECONOMY_DAILY_DGT_BUDGET = env("ECONOMY_DAILY_DGT_BUDGET", "") or None
ECONOMY_DAILY_XP_BUDGET = env("ECONOMY_DAILY_XP_BUDGET", "") or None
