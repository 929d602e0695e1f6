"""Mutation testing of the core, one module at a time (`make mutate`, `make mutate MODULES=claims`).

mutmut 3 reads its settings from `pyproject.toml` and keeps its work in `./mutants`, so each
module gets a directory of its own, `.mutate/<module>/`, holding links to the project and a
pyproject.toml whose `[tool.mutmut]` names that module's files and the test files that guard
them. Runs there are incremental: a second run tests only mutants whose function changed.

Within a module mutants run one at a time (`--max-children 1`): the tests of one module share
one test database and one Redis, and two mutants' tests side by side would flush each other's
rows. Instead `MUTATE_JOBS` modules (default 2, for a 2-core machine) run at once, each with
a test database (`<DATABASE_URL>_mut_<module>`, so `make pytest` can run alongside) and a
private Redis on a free port of its own. A module that runs past its budget
(`MUTATE_BUDGET` seconds, default 900) is stopped; the mutants it tested keep their verdicts
and the rest are reported as not checked.

The summary (killed, survived, ... per module) is printed and written to
`.mutate/summary.txt`; the survivors' diffs go to `.mutate/<module>/survivors.txt`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutate"
BIN = Path(sys.executable).parent

# module -> (files to mutate, test files that guard them)
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "periods": (
        ["missions/periods.py"],
        [
            "tests/missions/test_periods.py",
            "tests/missions/test_periods_local.py",
            "tests/missions/test_evaluators.py",
            "tests/streaks/test_local_days.py",
            "tests/missions/test_periods_answers.py",
        ],
    ),
    "evaluators": (
        ["missions/evaluators/*.py"],
        [
            "tests/missions/test_evaluators.py",
            "tests/missions/test_late_events.py",
            "tests/missions/test_replay.py",
        ],
    ),
    "ingest": (
        ["missions/services/ingest.py"],
        [
            "tests/missions/test_services_track.py",
            "tests/missions/test_apis_events.py",
            "tests/missions/test_ingest_queries.py",
            "tests/missions/test_concurrency.py",
            "tests/missions/test_lazy_assignment.py",
            "tests/missions/test_replay.py",
            "tests/missions/test_ingest_metrics.py",
        ],
    ),
    "progress": (
        ["missions/services/progress.py"],
        [
            "tests/missions/test_services_track.py",
            "tests/missions/test_evaluators.py",
            "tests/missions/test_late_events.py",
            "tests/missions/test_replay.py",
            "tests/missions/test_live.py",
            "tests/missions/test_apply_equivalence.py",
            "tests/missions/test_fold_events.py",
        ],
    ),
    "assignment": (
        ["missions/services/assignment.py"],
        [
            "tests/missions/test_assignment.py",
            "tests/missions/test_eligibility.py",
            "tests/missions/test_assignment_answers.py",
        ],
    ),
    "claims": (
        ["rewards/services/claims.py"],
        [
            "tests/rewards/test_claim.py",
            "tests/rewards/test_claim_all.py",
            "tests/rewards/test_claim_answers.py",
            "tests/rewards/test_parallel_claims.py",
            "tests/rewards/test_claim_races.py",
            "tests/rewards/test_auto_grant.py",
            "tests/rewards/test_bonuses.py",
            "tests/rewards/test_meta.py",
            "tests/api/test_claim_api.py",
        ],
    ),
    "ledger": (
        ["rewards/services/ledger.py"],
        [
            "tests/rewards/test_ledger.py",
            "tests/rewards/test_ledger_properties.py",
            "tests/rewards/test_claim.py",
            "tests/rewards/test_grant_answers.py",
        ],
    ),
    "bonuses": (
        ["rewards/services/bonuses.py"],
        ["tests/rewards/test_bonuses.py", "tests/rewards/test_claim.py"],
    ),
    "streaks": (
        ["streaks/services.py"],
        [
            "tests/streaks/test_streaks.py",
            "tests/streaks/test_concurrency.py",
            "tests/streaks/test_local_days.py",
            "tests/streaks/test_late_completions.py",
            "tests/ops/test_streak_outbox.py",
        ],
    ),
}

LINKS = [
    "missions",
    "rewards",
    "streaks",
    "analytics",
    "config",
    "templates",
    "static",
    "tests",
    "bench",
    "examples",
    "ops",
]
KILLED = {1, 3, 37}
STATUS = {
    0: "survived",
    1: "killed",
    3: "killed",
    33: "no tests",
    36: "timeout",
    None: "not checked",
}
STATUS.update({code: "timeout" for code in (-24, 24, 152, 255)})
# The mutmut processes running now (one per module), stopped with SIGINT on SIGTERM.
RUNNING: list[subprocess.Popen[bytes]] = []
STOPPING = threading.Event()


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def prepare(module: str) -> Path:
    files, tests = MODULES[module]
    work = WORK / module
    work.mkdir(parents=True, exist_ok=True)
    for name in [*LINKS, "manage.py"]:
        link = work / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject = re.sub(r"\n\[tool\.mutmut\].*?(?=\n\[|\Z)", "", pyproject, flags=re.S)
    pyproject += (
        "\n[tool.mutmut]\n"
        f'source_paths = ["missions", "rewards", "streaks", "analytics"]\n'
        f"only_mutate = {toml_list(files)}\n"
        f'also_copy = ["config", "templates", "static", "bench", "examples", "ops", "manage.py"]\n'
        # -p no:randomly: mutmut picks the tests per mutant; --reuse-db: one migrate per module
        f'pytest_add_cli_args = ["-p", "no:randomly", "-p", "no:cov", "--reuse-db", "-q"]\n'
        f"pytest_add_cli_args_test_selection = {toml_list(tests)}\n"
        "timeout_multiplier = 5.0\n"
        "timeout_constant = 20.0\n"
        'on_dependency_change = "ignore"\n'
    )
    target = work / "pyproject.toml"
    if target.exists() and target.read_text() != pyproject:
        # mutmut resets every verdict when the test selection changes; a verdict stands with
        # more tests (a killed mutant stays killed), so only the map of tests is measured
        # again (it is not compared when missing). MUTATE_RETEST=1 retests the survivors.
        (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    target.write_text(pyproject)
    return work


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"redis://127.0.0.1:{port}/0"


def run(module: str, budget: int, env: dict[str, str], *, retest: bool) -> None:
    work = prepare(module)
    # Verdicts stand until the mutated function changes; after adding tests, MUTATE_RETEST=1
    # tests this module's survivors and "no tests" mutants again, with the map of which test
    # runs which function measured afresh (a changed test may now reach more code).
    names = sorted(n for n, code in verdicts(module).items() if code in (0, 33)) if retest else []
    if retest and not names:
        return
    if retest:
        (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    log = (work / "run.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "mutmut"), "run", "--max-children", "1", *names],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    RUNNING.append(proc)
    try:
        proc.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        print(f"{module}: budget of {budget} s spent, stopping", flush=True)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    RUNNING.remove(proc)
    log.close()


def verdicts(module: str) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in (WORK / module / "mutants").rglob("*.py.meta"):
        out.update(json.loads(meta.read_text()).get("exit_code_by_key", {}))
    return out


def survivors_report(module: str, names: list[str], env: dict[str, str]) -> None:
    work = WORK / module
    with (work / "survivors.txt").open("w") as out:
        for name in names:
            diff = subprocess.run(
                [str(BIN / "mutmut"), "show", name],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
            ).stdout
            out.write(f"## {name}\n{diff}\n")


def row(name: str, mutants: int, killed: int, survived: int, other: int) -> str:
    tested = killed + survived
    score = f"{100 * killed / tested:5.1f}%" if tested else "     -"
    return f"{name:<12} {mutants:>7} {killed:>6} {survived:>8} {other:>5} {score:>6}"


def summarize(modules: list[str], ran: list[str], env: dict[str, str]) -> str:
    lines = [
        f"{'module':<12} {'mutants':>7} {'killed':>6} {'survived':>8} {'other':>5} {'score':>6}"
    ]
    total = Counter[str]()
    for module in modules:
        codes = verdicts(module)
        counts = Counter(STATUS.get(code, "suspicious") for code in codes.values())
        killed = sum(1 for code in codes.values() if code in KILLED)
        survived = counts["survived"]
        other = len(codes) - killed - survived
        lines.append(row(module, len(codes), killed, survived, other))
        if other:
            rest = [f"{k} {v}" for k, v in counts.items() if k not in ("killed", "survived")]
            lines.append("    other: " + ", ".join(rest))
        total.update(mutants=len(codes), killed=killed, survived=survived, other=other)
        if module in ran:
            survivors_report(module, sorted(n for n, c in codes.items() if c == 0), env)
    lines.append(row("core", total["mutants"], total["killed"], total["survived"], total["other"]))
    return "\n".join(lines)


def stop_running(*_: object) -> None:
    """SIGTERM: no module starts any more, and the running ones stop now (each verdict is
    saved as it comes, so nothing tested is lost)."""
    STOPPING.set()
    for proc in RUNNING:
        os.killpg(proc.pid, signal.SIGKILL)


def run_module(module: str, budget: int, base: dict[str, str], base_db: str) -> None:
    """One module with a test database and a Redis of its own, so modules can run side by side."""
    if STOPPING.is_set():
        return
    redis, redis_url = start_redis()
    env = dict(base, DATABASE_URL=f"{base_db.rstrip('/')}_mut_{module}", REDIS_URL=redis_url)
    started = time.monotonic()
    print(f"{module}: mutating {MODULES[module][0]}", flush=True)
    try:
        run(module, budget, env, retest=os.environ.get("MUTATE_RETEST") == "1")
    finally:
        redis.terminate()
        redis.wait()
    print(f"{module}: {time.monotonic() - started:.0f} s", flush=True)


def main(argv: list[str]) -> int:
    modules = argv or list(MODULES)
    unknown = [m for m in modules if m not in MODULES and m != "--report"]
    if unknown:
        print(f"unknown module(s) {unknown}; choose from {list(MODULES)}")
        return 2
    if modules == ["--report"]:
        report = summarize([m for m in MODULES if (WORK / m / "mutants").exists()], [], {})
        print(report)
        return 0
    # Stopped from outside (SIGTERM): mutmut is killed, each module's Redis stopped.
    signal.signal(signal.SIGTERM, stop_running)
    budget = int(os.environ.get("MUTATE_BUDGET", "900"))
    jobs = max(1, int(os.environ.get("MUTATE_JOBS", "2")))
    base_db = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/missions")
    env = dict(os.environ)
    # The property tests run for every mutant they cover: fewer examples per run (the
    # known-answer cases beside them are exact).
    env.setdefault("REPLAY_EXAMPLES", "5")
    env.setdefault("APPLY_EXAMPLES", "5")
    env.setdefault("HYPOTHESIS_PROFILE", "mutate")  # no shrinking, same examples (conftest)
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in [pool.submit(run_module, m, budget, env, base_db) for m in modules]:
            future.result()
    done = [m for m in MODULES if (WORK / m / "mutants").exists()]
    report = summarize(done, modules, env)
    print(report)
    (WORK / "summary.txt").write_text(report + "\n")
    return 0


if __name__ == "__main__":
    shutil.which("redis-server") or sys.exit("redis-server is needed (a private one is started)")
    sys.exit(main(sys.argv[1:]))
