"""Prometheus: PROMETHEUS_MULTIPROC_DIR (read by prometheus_client itself at import) makes
every process write its metrics there, and /metrics sum them. Empty it before the processes
start (docs/operations.md, "Metrics"); an unusable directory stops start-up here."""

import os

from config.env import ImproperEnv, env

PROMETHEUS_MULTIPROC_DIR = env("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not (
    os.path.isdir(PROMETHEUS_MULTIPROC_DIR) and os.access(PROMETHEUS_MULTIPROC_DIR, os.W_OK)
):
    raise ImproperEnv(
        f"PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR!r} must be an existing, writable "
        "directory (create and empty it before starting the processes)"
    )
