"""`make bench`: run every bench/bench_*.py against Postgres + Redis and print one JSON summary.

Each module has `run() -> dict` that measures its subject and a baseline in the same run and
returns {"name", "unit", "value", "baseline", "ratio", ...}. Not part of `make test`.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Benchmarks measure the production shape: Postgres and Redis, never the SQLite default.
os.environ["DATABASE_URL"] = (
    os.environ.get("BENCH_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/missions_bench"
)
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/5"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.local")
os.environ.setdefault("DJANGO_DEBUG", "false")


def ensure_database() -> None:
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def main() -> None:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    args = sys.argv[1:]
    if "--full" in args:
        os.environ["BENCH_FULL"] = "1"
    only = {a for a in args if not a.startswith("--")}
    results = []
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        if only and path.stem.removeprefix("bench_") not in only:
            continue
        module = importlib.import_module(f"bench.{path.stem}")
        started = time.perf_counter()
        result = module.run()
        result["seconds_total"] = round(time.perf_counter() - started, 2)
        print(
            f"# {result['name']}: {result['value']} {result['unit']} (ratio {result.get('ratio')})",
            file=sys.stderr,
        )
        results.append(result)
    summary = {"full": os.environ.get("BENCH_FULL") == "1", "benchmarks": results}
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + ("-" + "-".join(sorted(only)) if only else "")
    (out / f"{name}.json").write_text(json.dumps(summary, indent=2, default=str))
    print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
