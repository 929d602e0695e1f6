"""Invariant 1 and 2 of SPEC.md with hypothesis: for random event streams (duplicates,
shuffled and re-chunked batches, late arrivals) the stored state equals a from-scratch
replay of the log, and equals sending the same events one by one. Live and replay share
the fold, so known-answer cases worked out by hand check the fold itself, with missions
assigned after some events were already in the log."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missions.models import ActiveMission, MissionProgress
from missions.services import missions_assign
from missions.services.ingest import events_ingest
from missions.services.replay import replay_users
from tests.factories import UserFactory

from .engine import at, make_template, req

ACTIONS = st.one_of(
    st.tuples(
        st.just("post:created"),
        st.fixed_dictionaries(
            {"content_length": st.sampled_from([40, 150]), "forum_id": st.integers(1, 4)}
        ),
    ),
    st.tuples(
        st.just("tip:sent"),
        st.fixed_dictionaries(
            {"amount": st.one_of(st.integers(0, 150), st.sampled_from(["99.5", "100.25"]))}
        ),
    ),
    st.tuples(
        st.sampled_from(["thread:created", "reaction:added", "shoutbox:message"]), st.just({})
    ),
)
EVENT = st.tuples(
    st.integers(0, 11),  # id from a small pool: duplicates are common
    ACTIONS,
    st.integers(0, 6),  # day of the week
    st.sampled_from([0, 30, 59, 60, 61, 119, 120, 600, 1439]),  # minute of that day
)


def engine_templates() -> None:
    perpetual = {"period_type": "perpetual"}
    make_template(
        requirements={"q": req(target=3, where={"content_length": {"gte": 100}})}, **perpetual
    )
    make_template(
        type="threshold", requirements={"tip": req("tip:sent", 100, field="amount")}, **perpetual
    )
    make_template(type="unique", requirements={"f": req(target=3, field="forum_id")}, **perpetual)
    make_template(type="streak", requirements={"d": req("shoutbox:message", target=3)}, **perpetual)
    make_template(
        type="timebound",
        requirements={"p": req(target=3)},
        metadata={"time_limit_minutes": 120},
        **perpetual,
    )
    make_template(
        type="combo",
        metadata={"ordered": True, "order": ["t", "p", "r"]},
        requirements={
            "t": req("thread:created", 1),
            "p": req(target=2),
            "r": req("reaction:added", 1),
        },
        **perpetual,
    )
    make_template(
        type="competitive",
        period_type="weekly",
        requirements={"s": req(target=4)},
        metadata={"reward_tiers": [{"rank_to": 1, "rewards": {"xp": 5}}]},
    )
    make_template(requirements={"r": req("reaction:added", target=2)})  # daily


def snapshot(user_id: int) -> dict[tuple[str, datetime], Any]:
    state: dict[tuple[str, datetime], Any] = {}
    for mission in ActiveMission.objects.filter(user_id=user_id).select_related("template"):
        rows = MissionProgress.objects.filter(mission=mission).order_by("requirement_key")
        state[(mission.template.key, mission.period_start)] = (
            mission.state,
            mission.completed_at,
            [(p.requirement_key, p.current, p.done_at) for p in rows],
        )
    return state


def as_event(user_id: int, prefix: str, raw: tuple[Any, ...]) -> dict[str, Any]:
    pool_id, (action, data), day, minute = raw
    return {
        "id": f"{prefix}-{pool_id}-{action}",
        "user_id": user_id,
        "action": action,
        "occurred_at": (at(day) + timedelta(minutes=minute)).isoformat(),
        "data": data,
    }


@pytest.mark.django_db
@settings(
    max_examples=int(os.environ.get("REPLAY_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    stream=st.lists(EVENT, max_size=30),
    data=st.data(),
)
def test_stored_state_equals_replay_and_one_by_one(stream: list[Any], data: Any) -> None:
    from missions.models import MissionTemplate

    if not MissionTemplate.objects.exists():
        engine_templates()
    batched, single = UserFactory(), UserFactory()
    missions_assign(user_ids=[batched.pk, single.pk], now=at(0))
    shuffled = data.draw(st.permutations(stream), label="arrival order")
    sizes = data.draw(st.lists(st.integers(1, 8), min_size=len(shuffled)), label="batch sizes")
    delays = data.draw(
        st.lists(st.sampled_from([0, 30, 90]), min_size=len(shuffled)),
        label="arrival delays (minutes)",
    )
    received = at(0)
    position = 0
    for size, delay in zip(sizes, delays, strict=False):
        chunk = shuffled[position : position + size]
        if not chunk:
            break
        position += size
        latest = max(at(day) + timedelta(minutes=minute) for _, _, day, minute in chunk)
        received = max(received, latest + timedelta(minutes=delay))
        result = events_ingest(events=[as_event(batched.pk, "b", e) for e in chunk], now=received)
        assert not result.rejected
        for raw in chunk:
            events_ingest(events=[as_event(single.pk, "s", raw)], now=received)

    report = replay_users(user_ids=[batched.pk, single.pk])
    assert report.differences == []
    assert snapshot(batched.pk) == snapshot(single.pk)


@pytest.mark.django_db
def test_replay_reports_a_tampered_progress_row_and_fix_repairs_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    template = make_template(period_type="perpetual", requirements={"posts": req(target=5)})
    user = UserFactory()
    for minute in range(3):
        events_ingest(
            events=[
                {
                    "id": f"e{minute}",
                    "user_id": user.pk,
                    "action": "post:created",
                    "occurred_at": at(0, 9, minute).isoformat(),
                }
            ],
            now=at(0, 10),
        )
    MissionProgress.objects.filter(mission__template=template).update(current=4)
    call_command("replay_events", "--user", str(user.pk), "--no-progress")
    out = capsys.readouterr().out
    mission = ActiveMission.objects.get(template=template)
    # The whole line: which mission, of which template, whose — then what differs.
    assert (
        f"mission {mission.pk} ({template.key}, user {user.pk}) posts.current: stored 4, replayed 3"
    ) in out
    assert "1 difference(s)" in out
    call_command("replay_events", "--fix", "--no-progress")
    assert MissionProgress.objects.get(mission__template=template).current == 3
    call_command("replay_events", "--since", "2026-11-01T00:00:00Z", "--no-progress")
    assert "0 difference(s)" in capsys.readouterr().out


def hand_state(user_id: int) -> dict[tuple[str, datetime], Any]:
    return {
        (m.template.key, m.period_start): (
            m.state,
            m.completed_at,
            {p.requirement_key: int(p.current) for p in m.progress.all()},
        )
        for m in ActiveMission.objects.filter(user_id=user_id).select_related("template")
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["postgres", "portable"])
def test_live_and_replay_give_the_answers_worked_out_by_hand(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day and a bit of one player's events, with a mission assigned after some of them and
    a late batch across midnight; every number below is counted by hand from the rules.
    "portable": ingestion and the apply go through the ORM statements they use on SQLite."""
    from missions.models import PERPETUAL_START
    from missions.services import ingest as ingest_service
    from missions.services import progress

    from .engine import event
    from .test_apply_equivalence import PortableConnection

    if path == "portable":
        monkeypatch.setattr(progress, "connection", PortableConnection())
        monkeypatch.setattr(ingest_service, "connection", PortableConnection())

    daily = make_template(
        key="hand_daily",
        requirements={"posts": req(target=3, where={"content_length": {"gte": 100}})},
    )
    user = UserFactory()

    def post(when: datetime, length: int, forum: int) -> dict[str, Any]:
        return event(
            user.pk, "post:created", {"content_length": length, "forum_id": forum}, when=when
        )

    def ingest(*events: dict[str, Any], received: datetime) -> list[int]:
        result = events_ingest(events=list(events), now=received)
        assert not result.rejected
        return result.completed

    ingest(post(at(0, 9), 150, 1), received=at(0, 9))  # daily Mon: 1 (assigned now)
    ingest(post(at(0, 10), 40, 2), received=at(0, 10))  # too short: daily Mon still 1
    # A new perpetual mission is assigned at 11:00: the two earlier posts are not its.
    unique = make_template(
        key="hand_unique",
        type="unique",
        period_type="perpetual",
        requirements={"forums": req(target=3, field="forum_id")},
    )
    missions_assign(user_ids=[user.pk], now=at(0, 11))
    ingest(post(at(0, 12), 150, 2), received=at(0, 12))  # daily Mon 2; forums {2}
    # Forum 2 again, too short for the daily: nothing moves (the stored values know forum 2).
    assert ingest(post(at(0, 13), 40, 2), received=at(0, 13)) == []
    # One batch 30 minutes after midnight: 23:50 is late but inside the grace, so it counts
    # for Monday (daily Mon 3, complete at 23:50; forums {2, 3}); 00:10 opens Tuesday's
    # daily mission (1) and brings the forums to {1, 2, 3} (complete at 00:10).
    late = post(at(0, 23, 50), 150, 3)
    completed = ingest(late, post(at(1, 0, 10), 150, 1), received=at(1, 0, 30))
    monday = ActiveMission.objects.get(user=user, template=daily, period_start=at(0))
    forums = ActiveMission.objects.get(user=user, template=unique)
    assert sorted(completed) == sorted([monday.pk, forums.pk])
    ingest(post(at(1, 1, 30), 150, 4), received=at(1, 1, 30))  # daily Tue 2; unique done
    # Monday 08:00 arriving Tuesday 02:00 is past the grace: it counts for nothing.
    ingest(post(at(0, 8), 150, 5), received=at(1, 2))
    # The 23:50 post sent again: a duplicate, nothing moves.
    again = events_ingest(events=[late], now=at(1, 3))
    assert (again.accepted, again.duplicates, again.completed) == (0, 1, [])

    expected = {
        ("hand_daily", at(0)): ("completed", at(0, 23, 50), {"posts": 3}),
        ("hand_daily", at(1)): ("active", None, {"posts": 2}),
        ("hand_unique", PERPETUAL_START): ("completed", at(1, 0, 10), {"forums": 3}),
    }
    assert hand_state(user.pk) == expected
    assert replay_users(user_ids=[user.pk]).differences == []

    # Replay alone, from the log, rebuilds the same answers into a wiped store.
    MissionProgress.objects.filter(user=user).update(current=0, done_at=None, reached_at=None)
    ActiveMission.objects.filter(user=user).update(state="active", completed_at=None)
    assert len(replay_users(user_ids=[user.pk]).differences) > 0
    replay_users(user_ids=[user.pk], fix=True)
    assert hand_state(user.pk) == expected
    assert {daily.pk, unique.pk} == set(
        ActiveMission.objects.filter(user=user).values_list("template_id", flat=True)
    )


@pytest.mark.django_db
def test_replay_does_not_count_events_that_arrived_before_the_mission_was_assigned() -> None:
    from .engine import event

    user = UserFactory()
    for hour in (8, 9):
        events_ingest(events=[event(user.pk, "tip:sent", when=at(0, hour))], now=at(0, hour))
    template = make_template(
        period_type="perpetual", requirements={"tips": req("tip:sent", target=5)}
    )
    missions_assign(user_ids=[user.pk], now=at(0, 10))
    events_ingest(events=[event(user.pk, "tip:sent", when=at(0, 11))], now=at(0, 11))

    progress = MissionProgress.objects.get(mission__template=template)
    assert progress.current == 1  # live: only the tip after the assignment
    report = replay_users(user_ids=[user.pk])
    assert report.differences == [] and report.events == 3


@pytest.mark.django_db
def test_lazy_assignment_of_a_timebound_mission_does_not_depend_on_batching() -> None:
    from .engine import event

    template = make_template(
        type="timebound",
        period_type="perpetual",
        requirements={"p": req(target=3)},
        metadata={"time_limit_minutes": 120},
    )
    batched, single = UserFactory(), UserFactory()
    arrival = at(3, 11, 30)

    def stream(user_id: int) -> list[dict[str, Any]]:
        # Tuesday's event is past its day's grace; Wednesday 00:30 is on time.
        return [
            event(user_id, "thread:created", when=at(2, 1, 1)),
            event(user_id, "post:created", when=at(3, 0, 30)),
        ]

    events_ingest(events=stream(batched.pk), now=arrival)
    for one in stream(single.pk):
        events_ingest(events=[one], now=arrival)

    progress = {
        user.pk: MissionProgress.objects.get(user=user, mission__template=template).current
        for user in (batched, single)
    }
    assert progress[batched.pk] == progress[single.pk]


@pytest.mark.django_db
def test_a_stored_missions_run_starts_from_zero_for_replay_and_from_the_store_otherwise() -> None:
    """`run_from`: replay's runs start fresh; the pre-issue-11 apply (bench/legacy_apply.py,
    the equivalence tests' reference) continues from what is stored."""
    from missions.services.progress import run_from

    make_template(key="stored", requirements={"posts": req(target=2)})
    user = UserFactory()
    (mission,) = missions_assign(user_ids=[user.pk], now=at(0, 9))
    ActiveMission.objects.filter(pk=mission.pk).update(state="completed", completed_at=at(0, 11))
    MissionProgress.objects.filter(mission=mission).update(
        current=2, done_at=at(0, 11), reached_at=at(0, 11)
    )
    mission.refresh_from_db()
    rows = list(mission.progress.all())

    stored = run_from(mission, rows, fresh=False)
    assert (stored.state, stored.completed_at) == ("completed", at(0, 11))
    (posts,) = stored.progress.values()
    assert (posts.key, posts.action, posts.target, posts.current) == ("posts", "post:created", 2, 2)
    assert (posts.done_at, posts.reached_at) == (at(0, 11), at(0, 11))
    assert posts.progress_id == rows[0].pk

    fresh = run_from(mission, rows, fresh=True)
    assert (fresh.state, fresh.completed_at) == ("active", None)
    (posts,) = fresh.progress.values()
    assert (posts.key, posts.current, posts.done_at, posts.reached_at) == ("posts", 0, None, None)
    assert (fresh.mission_id, fresh.user_id, fresh.assigned_at) == (mission.pk, user.pk, at(0, 9))
