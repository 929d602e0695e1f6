"""Profile batched ingestion with pyinstrument: `python bench/profile_ingest.py [legacy|new]`.

Same world as scenario 1 (BENCH_PLAYERS x BENCH_MISSIONS); writes the text profile to
bench/results/profile-<which>.txt and prints where the wall and CPU time went.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = (
    os.environ.get("BENCH_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/missions_bench"
)
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/5"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.local")
os.environ.setdefault("DJANGO_DEBUG", "false")


def main() -> None:
    import django

    django.setup()
    from pyinstrument import Profiler

    from bench import legacy_apply
    from bench.bench_ingest import MISSIONS, PLAYERS, prepare
    from bench.world import EventMaker, ensure_players
    from missions.services import ingest

    which = sys.argv[1] if len(sys.argv) > 1 else "new"
    batches = int(os.environ.get("BENCH_PROFILE_BATCHES", "10"))
    players = ensure_players(PLAYERS)
    prepare(players, MISSIONS)
    if which == "legacy":
        ingest.progress_apply = legacy_apply.progress_apply  # type: ignore[assignment]
    maker = EventMaker(players, seed=21, tag=f"prof-{which}")
    for _ in range(2):
        ingest.events_ingest(events=maker.batch())
    work = [maker.batch() for _ in range(batches)]
    profiler = Profiler(interval=0.0005)
    wall, cpu = time.perf_counter(), time.process_time()
    profiler.start()
    for events in work:
        ingest.events_ingest(events=events)
    profiler.stop()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    (out / f"profile-{which}.txt").write_text(text)
    print(text)
    print(
        f"{which}: {batches} batches, {wall / batches * 1000:.0f} ms wall and "
        f"{cpu / batches * 1000:.0f} ms CPU per 1,000-event batch"
    )


if __name__ == "__main__":
    main()
