"""Signed outgoing webhooks: the host platform hears of completions, rewards, streaks and
final leaderboards. A layer above the engine, rewards and streaks (it listens to their
signals); nothing below imports it. See docs/webhooks.md."""
