"""Signal receivers of the missions app (wired in MissionsConfig.ready)."""
