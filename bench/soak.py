"""`make soak`: a bounded load with faults injected, then an exact tally.

Many clients send batches and single events to two uvicorn processes for a few minutes
while a private redis-server is killed and restarted, hung (SIGSTOP) and resumed, and each
server is killed with SIGKILL and restarted. A client resends what got no answer (same ids,
as a real sender does) and now and then resends an acknowledged batch on purpose. At the end:

    sent N, accepted N, counted N: 0 lost, 0 doubled

sent = distinct event ids the clients sent, accepted = ids the server acknowledged as new,
counted = the events' sum in progress. Then the log is replayed for the soak's players.

    make soak                       # 2 minutes, 16 clients
    make soak SOAK="--minutes 5 --clients 32 --batch 100"

Database: SOAK_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/soak_missions),
created and migrated when missing. Redis: a private redis-server on a free port.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/soak_missions"
COUNTING_TARGET = 10**9


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="at most 10")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=50, help="events per batch")
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--single-share", type=float, default=0.3, help="share of single events")
    parser.add_argument("--fault-every", type=float, default=12.0, help="seconds between faults")
    args = parser.parse_args()
    if not 0 < args.minutes <= 10:
        parser.error("--minutes must be in (0, 10]")
    return args


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    args = parse()
    database_url = os.environ.get("SOAK_DATABASE_URL", DEFAULT_DB)
    ensure_database(database_url)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.test")

    from tests.faults.procs import AsgiServer, RedisServer, http

    redis = RedisServer()
    redis.start()
    os.environ["REDIS_URL"] = redis.url
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db.models import Sum

    from missions.models import Event, MissionProgress
    from missions.services.replay import replay_events
    from missions.services.service_keys import service_key_create

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    from missions.models import MissionTemplate

    MissionTemplate.objects.create(
        key=f"soak_{run}", name=f"Soak {run}", category="participation", type="count",
        period_type="perpetual", weight=100, min_level=1, is_active=True,
        requirements={"posts": {"action": "post:created", "target": COUNTING_TARGET,
                                "label": "Post"}},
        rewards={"xp": 1},
    )  # fmt: skip
    User = get_user_model()
    User.objects.bulk_create([User(username=f"soak-{run}-{n}") for n in range(args.players)])
    players = list(
        User.objects.filter(username__startswith=f"soak-{run}-").values_list("pk", flat=True)
    )
    _, key = service_key_create(name=f"soak-{run}")
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "REDIS_BREAKER_RESET_SECONDS": "2",
        "DATABASE_CONNECT_TIMEOUT": "5",
    }
    servers = [AsgiServer(f"soak-{n}", env) for n in range(2)]
    for server in servers:
        server.start()
    auth = {"Authorization": f"Bearer {key}"}

    lock = threading.Lock()
    stats: Counter[str] = Counter()
    sent_ids: set[str] = set()
    accepted_ids = 0
    stop = threading.Event()
    deadline = time.monotonic() + args.minutes * 60

    def client(n: int) -> None:
        nonlocal accepted_ids
        rng = random.Random(n)
        k = 0
        acknowledged: list[list[dict[str, Any]]] = []
        while time.monotonic() < deadline:
            size = 1 if rng.random() < args.single_share else args.batch
            if acknowledged and rng.random() < 0.05:
                batch, fresh = rng.choice(acknowledged), False  # a deliberate resend
            else:
                batch = [
                    {"id": f"soak-{run}-{n}-{k}-{i}", "user_id": rng.choice(players),
                     "action": "post:created"}
                    for i in range(size)
                ]  # fmt: skip
                fresh = True
                k += 1
                with lock:
                    sent_ids.update(e["id"] for e in batch)
            new_here = 0
            while True:  # until acknowledged: the same ids again after a cut
                server = rng.choice(servers)
                status, body, _ = http(
                    "POST", f"{server.url}/api/v1/events", {"events": batch}, auth, timeout=30
                )
                with lock:
                    stats["requests"] += 1
                    stats[f"status {status}"] += 1
                if status == 200:
                    new_here += body["accepted"]
                    if body["accepted"] + body["duplicates"] != len(batch) or body["rejected"]:
                        with lock:
                            stats["wrong answers"] += 1
                    break
                time.sleep(0.3)
                if time.monotonic() > deadline + 120:
                    with lock:
                        stats["given up"] += 1
                    break
            with lock:
                accepted_ids += new_here
                if not fresh and new_here:
                    stats["resend counted as new"] += new_here
            if fresh:
                acknowledged.append(batch)

    def faults() -> None:
        cycle = ["redis killed", "server 0 killed", "redis hung", "server 1 killed"]
        i = 0
        while not stop.wait(args.fault_every):
            if time.monotonic() > deadline - 5:
                return
            fault = cycle[i % len(cycle)]
            i += 1
            with lock:
                stats[f"fault: {fault}"] += 1
            if fault == "redis killed":
                redis.kill()
                time.sleep(4)
                redis.start()
            elif fault == "redis hung":
                redis.hang()
                time.sleep(4)
                redis.resume()
            else:
                servers[int(fault.split()[1])].kill()
                time.sleep(1)
                servers[int(fault.split()[1])].start(ready=False)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    injector = threading.Thread(target=faults)
    started = time.monotonic()
    print(
        f"soak {run}: {args.clients} clients, {args.minutes} min, batches of {args.batch} "
        f"and single events, faults every {args.fault_every} s",
        flush=True,
    )
    injector.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    injector.join()
    elapsed = time.monotonic() - started
    for server in servers:
        server.stop()
    redis.stop()

    in_log = Event.objects.filter(event_id__startswith=f"soak-{run}-").count()
    counted = int(
        MissionProgress.objects.filter(
            mission__template__key=f"soak_{run}", user_id__in=players
        ).aggregate(total=Sum("current"))["total"]
        or 0
    )
    report = replay_events(user_ids=players, since=None, fix=False)
    sent = len(sent_ids)
    lost = sent - in_log
    doubled = counted - in_log
    five_xx = sum(v for k, v in stats.items() if k.startswith("status 5"))
    print(f"{stats['requests']} requests in {elapsed:.0f} s; statuses: "
          + ", ".join(f"{k.split()[1]}: {v}" for k, v in sorted(stats.items())
                      if k.startswith("status ")))  # fmt: skip
    print(
        "faults: " + ", ".join(f"{k[7:]} ×{v}" for k, v in stats.items() if k.startswith("fault"))
    )
    print(f"5xx answers: {five_xx}; answers with wrong counts: {stats['wrong answers']}; "
          f"resends counted as new: {stats['resend counted as new']}; "
          f"given up: {stats['given up']}")  # fmt: skip
    print(f"replay: {report.events} events, {len(report.differences)} difference(s)")
    print(
        f"sent {sent}, accepted {accepted_ids}, counted {counted}: "
        f"{lost} lost, {max(doubled, 0)} doubled"
        + ("" if accepted_ids == in_log else f" (in log {in_log})")
    )
    ok = lost == 0 and doubled == 0 and accepted_ids == in_log and not report.differences
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
