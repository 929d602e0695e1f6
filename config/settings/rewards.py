"""Rewards and streaks settings; each can be overridden by the environment."""

from config.env import env_int

# Level curve: reaching level L needs STEP * (L-1) * L / 2 XP in total (100, 300, 600, ...).
REWARDS_LEVEL_XP_STEP = env_int("REWARDS_LEVEL_XP_STEP", 100)
REWARDS_MAX_LEVEL = env_int("REWARDS_MAX_LEVEL", 100)
# Speed bonus: the template's average time-to-complete is taken over earlier completions
# inside this window; with fewer than REWARDS_SPEED_MIN_SAMPLE of them there is no bonus.
# SPEC.md has no minimum beyond "an average exists", so the default is 1; raise it to stop
# the first few completions of a new template from setting a too-easy average.
REWARDS_SPEED_MIN_SAMPLE = env_int("REWARDS_SPEED_MIN_SAMPLE", 1)
REWARDS_SPEED_WINDOW_DAYS = env_int("REWARDS_SPEED_WINDOW_DAYS", 30)
# Perfect bonus: every mission of the period completed, and the period holds at least this
# many missions. SPEC.md: a lone mission completed is perfect, so the default is 1.
REWARDS_PERFECT_MIN_MISSIONS = env_int("REWARDS_PERFECT_MIN_MISSIONS", 1)
# The player's competition history (GET /api/v1/history/competitions) shows the top this
# many of each final leaderboard (the snapshot), plus the player's own row.
REWARDS_HISTORY_LEADERBOARD_TOP = env_int("REWARDS_HISTORY_LEADERBOARD_TOP", 10)
# Streak outbox: completions this recent without a streak credit are counted by the next
# completion of the player or by the streaks.credit_pending task.
STREAKS_OUTBOX_DAYS = env_int("STREAKS_OUTBOX_DAYS", 7)
