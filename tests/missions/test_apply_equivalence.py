"""The apply path of issue 11 equals the old one and equals replay (hypothesis).

Random templates (every type, daily / weekly / perpetual, small targets so missions
complete), random event streams with duplicate ids, late and very late arrivals, templates
that appear mid-stream (missions assigned after earlier events), cut into random batches.
A template appearing mid-stream is perpetual and assigned when it appears: a daily or weekly
one would also be assigned lazily "as of" a late event's time, which can precede events
already applied, and replay would then count those (an assignment issue, not the apply's).
The same stream goes through the new `progress_apply` and through the pre-issue-11 path
(bench/legacy_apply.py, model objects and every mission of every touched player); the stored
states must be equal, and a replay of the log from zero must find no difference.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import legacy_apply
from missions.evaluators import EventRecord
from missions.models import ActiveMission, Event, MissionProgress, ProgressValue
from missions.services import ingest, missions_assign, progress
from missions.services.progress import fold_events
from missions.services.replay import replay_users
from tests.factories import UserFactory

from .engine import at, make_template, req

EXAMPLES = int(os.environ.get("APPLY_EXAMPLES", "25"))


@st.composite
def templates(draw: Callable[..., Any]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["count", "threshold", "unique", "streak", "timebound",
                                 "combo", "competitive"]))  # fmt: skip
    target = draw(st.integers(1, 4))
    period = draw(st.sampled_from(["daily", "weekly", "perpetual"]))
    spec: dict[str, Any] = {"type": kind, "period_type": period, "metadata": {}}
    if kind == "count":
        where = draw(st.sampled_from([None, {"content_length": {"gte": 100}}]))
        extra = {"where": where} if where else {}
        spec["requirements"] = draw(
            st.sampled_from(
                [
                    {"p": req(target=target, **extra)},
                    {"a": req("tip:sent", target * 40, field="amount")},
                    {"p": req(target=target, **extra), "r": req("reaction:added", target)},
                ]
            )
        )
    elif kind == "threshold":
        spec["requirements"] = {"t": req("tip:sent", target * 30, field="amount")}
    elif kind == "unique":
        spec["requirements"] = {"f": req(target=target, field="forum_id")}
    elif kind == "streak":
        unit = draw(st.sampled_from(["day", "week"]))
        spec["requirements"] = {"d": req("shoutbox:message", min(target, 3), unit=unit)}
        spec["period_type"] = "perpetual"
    elif kind == "timebound":
        spec["requirements"] = {"p": req(target=target)}
        spec["metadata"] = {"time_limit_minutes": draw(st.sampled_from([30, 120, 2000]))}
    elif kind == "combo":
        ordered = draw(st.booleans())
        spec["requirements"] = {"t": req("thread:created", 1), "p": req(target=target)}
        spec["metadata"] = {"ordered": ordered, "order": ["t", "p"]} if ordered else {}
    else:
        spec["requirements"] = {"s": req(target=target)}
        spec["metadata"] = {"reward_tiers": [{"rank_to": 1, "rewards": {"xp": 5}}]}
    spec["appears_at_batch"] = draw(st.sampled_from([0, 0, 0, 1, 3]))
    if spec["appears_at_batch"]:
        # Assigned by hand when it appears, after earlier events (a daily or weekly one would
        # also be assigned lazily, as of an event's time: see the module docstring).
        spec["period_type"] = "perpetual"
    return spec


ACTIONS = st.one_of(
    st.tuples(
        st.just("post:created"),
        st.fixed_dictionaries(
            {"content_length": st.sampled_from([40, 150]), "forum_id": st.integers(1, 4)}
        ),
    ),
    st.tuples(
        st.just("tip:sent"),
        st.fixed_dictionaries({"amount": st.one_of(st.integers(0, 150), st.just("99.5"))}),
    ),
    st.tuples(
        st.sampled_from(["thread:created", "reaction:added", "shoutbox:message"]), st.just({})
    ),
)
EVENT = st.tuples(
    st.integers(0, 14),  # id from a small pool: duplicates are common
    st.integers(0, 1),  # which player
    ACTIONS,
    st.integers(0, 9),  # day (the stream crosses a week boundary)
    st.sampled_from([0, 59, 60, 61, 600, 1439]),  # minute of that day
)


def snapshot(user_ids: list[int]) -> dict[tuple[int, str, datetime], Any]:
    """Missions by (player, template, period): state, completion, progress and values."""
    state: dict[tuple[int, str, datetime], Any] = {}
    missions = ActiveMission.objects.filter(user_id__in=user_ids).select_related("template")
    for mission in missions:
        rows = MissionProgress.objects.filter(mission=mission).order_by("requirement_key")
        state[(mission.user_id, mission.template.key, mission.period_start)] = (
            mission.state,
            mission.completed_at,
            [
                (
                    p.requirement_key,
                    p.current,
                    p.done_at,
                    p.reached_at,
                    sorted(
                        ProgressValue.objects.filter(progress=p).values_list("value", flat=True)
                    ),
                )
                for p in rows
            ],
        )
    return state


class Rollback(Exception):
    pass


def ingest_stream(
    specs: list[dict[str, Any]],
    batches: list[tuple[list[dict[str, Any]], datetime]],
    users: list[int],
    *,
    legacy: bool = False,
    portable: bool = False,
) -> dict[tuple[int, str, datetime], Any]:
    """Send the batches (templates appearing as planned) and return the stored state; rolled
    back afterwards so the other path starts from the same empty world. `portable`: the
    ingestion and the apply read and write through the ORM statements they use on SQLite
    (the embedded `make run` default) instead of their Postgres SQL."""
    original = ingest.progress_apply
    original_connections = progress.connection, ingest.connection
    if legacy:
        ingest.progress_apply = legacy_apply.progress_apply  # type: ignore[assignment]
    if portable:
        progress.connection = ingest.connection = PortableConnection()  # type: ignore[assignment]
    result: dict[tuple[int, str, datetime], Any] = {}
    try:
        with transaction.atomic():
            for n, (events, received) in enumerate(batches):
                appearing = [(i, s) for i, s in enumerate(specs) if s["appears_at_batch"] == n]
                for number, spec in appearing:
                    fields = {k: v for k, v in spec.items() if k != "appears_at_batch"}
                    make_template(key=f"eq{number}", **fields)
                if appearing:
                    missions_assign(user_ids=users, now=at(0) if n == 0 else received)
                outcome = ingest.events_ingest(events=events, now=received)
                assert not outcome.rejected, outcome.rejected
            report = replay_users(user_ids=users)
            assert report.differences == [], [str(d) for d in report.differences]
            result = snapshot(users)
            raise Rollback
    except Rollback:
        pass
    finally:
        ingest.progress_apply = original  # type: ignore[assignment]
        progress.connection, ingest.connection = original_connections
    return result


class PortableConnection:
    """The database connection as ingestion and progress_apply see it, but saying it is not
    Postgres, so they take the ORM path they take on SQLite (on this Postgres database)."""

    vendor = "sqlite"

    def __getattr__(self, name: str) -> Any:
        return getattr(connection, name)


@pytest.mark.django_db
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(templates(), min_size=1, max_size=4),
    stream=st.lists(EVENT, min_size=1, max_size=40),
    data=st.data(),
)
def test_new_apply_equals_old_apply_and_replay(
    specs: list[dict[str, Any]], stream: list[Any], data: Any
) -> None:
    users = [UserFactory().pk, UserFactory().pk]
    sizes = data.draw(st.lists(st.integers(1, 12), min_size=len(stream)), label="batch sizes")
    delays = data.draw(
        st.lists(st.sampled_from([0, 0, 30, 90, 3000]), min_size=len(stream)),
        label="arrival delays (minutes)",
    )
    batches: list[tuple[list[dict[str, Any]], datetime]] = []
    received = at(0)
    position = 0
    for size, delay in zip(sizes, delays, strict=False):
        chunk = stream[position : position + size]
        if not chunk:
            break
        position += size
        latest = max(at(day) + timedelta(minutes=minute) for *_, day, minute in chunk)
        # The database clock of arrival grows strictly with the log.
        received = max(received + timedelta(seconds=1), latest + timedelta(minutes=delay))
        events = [
            {
                "id": f"e{pool}-{action}",
                "user_id": users[who],
                "action": action,
                "occurred_at": (at(day) + timedelta(minutes=minute)).isoformat(),
                "data": payload,
            }
            for pool, who, (action, payload), day, minute in chunk
        ]
        batches.append((events, received))

    new = ingest_stream(specs, batches, users)
    old = ingest_stream(specs, batches, users, legacy=True)
    assert new == old
    # The ORM statements used on SQLite store the same as the Postgres SQL.
    assert ingest_stream(specs, batches, users, portable=True) == new


@pytest.mark.django_db
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=templates(), stream=st.lists(EVENT, min_size=1, max_size=30))
def test_fold_events_predicts_what_ingestion_stores(spec: dict[str, Any], stream: Any) -> None:
    """The backtest fold on an unsaved template, over the recorded log, predicts the stored
    missions of players who had it from the start of the period (assigned at its start)."""
    try:
        with transaction.atomic():
            _predict_and_compare(spec, stream)
            raise Rollback
    except Rollback:
        pass


def _predict_and_compare(spec: dict[str, Any], stream: Any) -> None:
    spec = {**spec, "period_type": "weekly"} if spec["period_type"] == "daily" else spec
    fields = {k: v for k, v in spec.items() if k != "appears_at_batch"}
    template = make_template(key="predicted", **fields)
    users = [UserFactory().pk, UserFactory().pk]
    missions_assign(user_ids=users, now=at(0))  # Monday 00:00: the start of every period
    # In-time arrivals only, and only this week (a later week's mission would be assigned
    # lazily, not at its start).
    for n, (pool, who, (action, payload), day, minute) in enumerate(stream):
        when = at(day % 7) + timedelta(minutes=minute)
        ingest.events_ingest(
            events=[
                {
                    "id": f"p{pool}-{n}",
                    "user_id": users[who],
                    "action": action,
                    "occurred_at": when.isoformat(),
                    "data": payload,
                }
            ],
            now=when,
        )
    template.pk = None  # the backtest runs on an unsaved copy
    recorded = [
        EventRecord(e.pk, e.event_id, e.user_id, e.action, e.occurred_at, e.received_at, e.data)
        for e in Event.objects.filter(user_id__in=users).order_by("id")
    ]
    predicted = {
        (o.user_id, o.period_start): (o.state, o.completed_at, o.progress)
        for o in fold_events(template, recorded, assigned_at=at(0))
    }
    stored = {}
    for mission in ActiveMission.objects.filter(user_id__in=users, template__key="predicted"):
        progress = {p.requirement_key: p.current for p in mission.progress.all()}
        if any(progress.values()) or mission.state != "active":
            stored[(mission.user_id, mission.period_start)] = (
                mission.state,
                mission.completed_at,
                progress,
            )
    predicted = {k: v for k, v in predicted.items() if any(v[2].values()) or v[0] != "active"}
    assert predicted == stored
