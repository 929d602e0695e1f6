# Analytics reads the missions, rewards and streaks tables; its own models come with its issue.
