"""Scale-out on one machine: two ASGI nodes (uvicorn), a Celery worker and beat, sharing the
test database and this run's Redis. A socket on node B gets the progress of an event posted
to node A; a rollover run by the worker reaches sockets on both nodes; beat's heartbeat
shows in /healthz. Ephemeral ports, a private Celery queue, every process killed at the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery import app as celery_app
from missions.models import ActiveMission
from missions.services.service_keys import service_key_create
from tests.factories import UserFactory
from tests.missions.engine import make_template, req
from tests.servers import database_url, free_port, uvicorn_command
from tests.serving.tokens import api_token

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "artifacts" / "scale_out"
WAIT = 60  # seconds: a bound for start-up on a busy 2-core box, not a timing assertion


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (logs in {LOGS})")
        time.sleep(0.3)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def cluster() -> Iterator[dict[str, Any]]:
    LOGS.mkdir(parents=True, exist_ok=True)
    queue = f"scale-out-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
    }
    ports = {"a": free_port(), "b": free_port()}
    commands = {
        **{
            f"web_{name}": uvicorn_command(port) for name, port in ports.items()
        },
        "worker": [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue,
            "--concurrency", "1", "--pool", "solo", "--loglevel", "INFO",
        ],
        "beat": [
            sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
            "--pidfile", "", "--max-interval", "1",
        ],
    }  # fmt: skip
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = []
    try:
        for name, command in commands.items():
            log = (LOGS / f"{name}.log").open("w")
            logs.append(log)
            procs[name] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for url in urls.values():
            wait_for(lambda url=url: get_json(f"{url}/healthz")["checks"], f"{url} to serve")
        yield {"urls": urls, "queue": queue, "procs": procs}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for log in logs:
            log.close()


def open_socket(url: str, token: str) -> Any:
    from websockets.sync.client import connect

    ws_url = url.replace("http://", "ws://") + f"/ws/missions/?token={token}"
    return connect(ws_url, origin=url, open_timeout=10)  # type: ignore[arg-type]


def receive(ws: Any, kind: str, count: int = 1) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT
    while len(got) < count:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if message["type"] == kind:
            got.append(message)
    return got


def test_two_nodes_a_worker_and_beat_share_progress_rollover_and_health(
    cluster: dict[str, Any], settings: Any
) -> None:
    make_template(key="daily_posts", name="Daily Posts", requirements={"posts": req(target=2)})
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    tokens = {u.username: api_token(u) for u in (ann, bob)}
    _, service_key = service_key_create(name="forum")
    # Beat: the declared schedule, with a one-second heartbeat for this test.
    call_command("setup_schedule")
    heartbeat = PeriodicTask.objects.get(name="ops: beat heartbeat")
    heartbeat.interval, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    heartbeat.save()

    urls = cluster["urls"]
    with (
        open_socket(urls["b"], tokens["ann"]) as ann_on_b,
        open_socket(urls["a"], tokens["bob"]) as bob_on_a,
    ):
        # An event posted to node A moves ann's mission on node B's socket.
        body = json.dumps(
            {"events": [{"id": "e1", "user_id": ann.pk, "action": "post:created", "data": {}}]}
        ).encode()
        request = urllib.request.Request(
            f"{urls['a']}/api/v1/events",
            data=body,
            headers={"Authorization": f"Bearer {service_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["accepted"] == 1
        progress = receive(ann_on_b, "mission:progress")[0]
        assert (progress["current"], progress["target"]) == (1, 2)

        # Tomorrow's rollover, run by the worker, pushes mission:new to both nodes' sockets.
        tomorrow = timezone.now() + timedelta(days=1)
        celery_app.send_task(
            "missions.rollover",
            kwargs={"period_type": "daily", "now": tomorrow.isoformat()},
            queue=cluster["queue"],
        )
        for ws, user in ((ann_on_b, ann), (bob_on_a, bob)):
            pushed = receive(ws, "mission:new")[0]
            mission = ActiveMission.objects.get(pk=pushed["mission"]["id"])
            assert mission.user_id == user.pk and mission.period_start > timezone.now()

    # Beat sent the heartbeat and the worker ran it: /healthz on either node says so.
    for url in urls.values():
        health = wait_for(
            lambda url=url: (h := get_json(f"{url}/healthz"))["beat"]["status"] == "ok" and h,
            "beat's heartbeat",
        )
        assert health["status"] == "ok"
        assert health["checks"] == {"database": "ok", "cache": "ok", "channel_layer": "ok"}
