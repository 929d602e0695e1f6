"""Start the real ASGI server (uvicorn, several workers) on a free port for the HTTP scenarios,
and run the load generator against it as a separate process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """pid and its descendants (Linux /proc)."""
    found = [pid]
    for parent in found:
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                found.extend(int(child) for child in task.read_text().split())
    return found


def server_cpu_seconds(base: str) -> float:
    """CPU time (user + system) used so far by the server at `base` and its workers: on a
    box shared with other work, CPU per request is steadier than wall time."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _tree(_SERVERS[base]):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


_SERVERS: dict[str, int] = {}


@contextlib.contextmanager
def asgi_server(workers: int = 2, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DJANGO_DEBUG": "false", "LOG_LEVEL": "WARNING", **(env or {})}
    process = subprocess.Popen(
        [
            str(Path(PYTHON).parent / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the ASGI server did not start") from None
                time.sleep(0.3)
        _SERVERS[base] = process.pid
        yield base
    finally:
        _SERVERS.pop(base, None)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def load(config: dict[str, Any]) -> dict[str, Any]:
    """Run the load generator; adds the server's CPU per answered request over the whole run
    (warm-up included) as `server_cpu_ms_per_request`."""
    cpu = server_cpu_seconds(config["base"]) if config["base"] in _SERVERS else None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
        path = handle.name
    try:
        out = subprocess.run(
            [PYTHON, str(ROOT / "bench" / "loadgen.py"), path],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(path)
    result = dict(json.loads(out.strip().splitlines()[-1]))
    if cpu is not None:
        used = server_cpu_seconds(config["base"]) - cpu
        result["server_cpu_ms_per_request"] = round(used / max(1, result["requests_all"]) * 1000, 2)
    return result
