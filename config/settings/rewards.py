"""Rewards and streaks settings; each can be overridden by the environment."""

from config.env import env_int

# Level curve: reaching level L needs STEP * (L-1) * L / 2 XP in total (100, 300, 600, ...).
REWARDS_LEVEL_XP_STEP = env_int("REWARDS_LEVEL_XP_STEP", 100)
REWARDS_MAX_LEVEL = env_int("REWARDS_MAX_LEVEL", 100)
# Speed bonus: the template's average time-to-complete needs this many earlier completions
# inside this window before a completion can be "fast".
REWARDS_SPEED_MIN_SAMPLE = env_int("REWARDS_SPEED_MIN_SAMPLE", 5)
REWARDS_SPEED_WINDOW_DAYS = env_int("REWARDS_SPEED_WINDOW_DAYS", 30)
# Perfect bonus: a period needs at least this many missions (one lone mission is not "perfect").
REWARDS_PERFECT_MIN_MISSIONS = env_int("REWARDS_PERFECT_MIN_MISSIONS", 2)
