"""Real ASGI server processes (uvicorn, as `make run` serves) for tests that need real
sockets: several processes (tests/missions), pools, timeouts and bodies (tests/serving), the
browser tests' live server (tests/browser). One launcher, `uvicorn_server`, starts them all;
the fault tests' restartable servers (tests/faults/procs.py) and the scale-out test use its
command line, `uvicorn_command`.

Each listens on an ephemeral port against the test database and the tests' Redis; they are
stopped when the context exits, also on failure. Use from a
`django_db(transaction=True, serialized_rollback=True)` test so the servers see its data.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Server:
    url: str
    log: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text


def uvicorn_command(port: int, *extra: str) -> list[str]:
    """The command line of every test server: uvicorn serving config.asgi as `make run` does."""
    return [
        sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
        "--port", str(port), "--lifespan", "off", "--log-level", "warning", *extra,
    ]  # fmt: skip


@contextmanager
def uvicorn_server(
    env: Mapping[str, str] | None = None,
    *,
    ready: Literal["healthy", "answering", "listening"] = "healthy",
    log_path: Path | None = None,
    timeout: float = 60,
) -> Iterator[str]:
    """Run uvicorn serving config.asgi (as `make run` does) on a free port; yield its URL.
    (`uvicorn_process` yields the `Server`, its process too.)"""
    with uvicorn_process(env, ready=ready, log_path=log_path, timeout=timeout) as server:
        yield server.url


@contextmanager
def uvicorn_process(
    env: Mapping[str, str] | None = None,
    *,
    ready: Literal["healthy", "answering", "listening"] = "healthy",
    log_path: Path | None = None,
    timeout: float = 60,
) -> Iterator[Server]:
    """Run uvicorn serving config.asgi (as `make run` does) on a free port.

    The child gets this process's environment, the test settings, the test database
    (`database_url()`) and the tests' Redis, with `env` on top. It counts as started when
    `/healthz` answers 200 (`ready="healthy"`), answers at all (`"answering"`: its health is
    the test's business), or the port accepts connections (`"listening"`: a server whose
    database or Redis is meant to hang). Its output goes to `log_path` (a temporary file if
    None); the end of it is in the error if the server is not up within `timeout` seconds.
    Stopped on exit, also when the test fails."""
    port = free_port()
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        **(env or {}),
    }
    with ExitStack() as stack:
        log: IO[bytes] = stack.enter_context(
            log_path.open("w+b") if log_path is not None else tempfile.TemporaryFile()  # noqa: SIM115
        )
        process = subprocess.Popen(
            uvicorn_command(port), cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while not _started(url, port, ready):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-4000:]
                    raise RuntimeError(f"uvicorn did not start:\n{output}")
                time.sleep(0.2)
            yield Server(url=url, log=log_path, process=process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _started(url: str, port: int, ready: str) -> bool:
    try:
        if ready == "listening":
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
            return ready == "answering" or response.status == 200
    except urllib.error.HTTPError:
        return ready == "answering"
    except OSError:
        return False


@contextmanager
def asgi_server(log_dir: Path, name: str, extra_env: dict[str, str]) -> Iterator[Server]:
    """A server whose log is `<log_dir>/<name>.log`, with a JSON request helper."""
    with uvicorn_process(extra_env, ready="answering", log_path=log_dir / f"{name}.log") as server:
        yield server


@contextmanager
def asgi_servers(count: int, log_dir: Path, extra_env: dict[str, str]) -> Iterator[list[Server]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(asgi_server(log_dir, f"server{i}", extra_env)) for i in range(count)
        ]
