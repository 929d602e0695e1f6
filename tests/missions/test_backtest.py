"""The backtest runs the production fold over recorded events: for random templates and event
streams, its runs equal what live ingestion stored, and it writes nothing."""

from __future__ import annotations

import itertools
import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missions.models import ActiveMission, Event, MissionProgress, MissionTemplate
from missions.periods import period_for
from missions.services import missions_assign
from missions.services.backtest import periods_in, template_backtest
from missions.services.ingest import events_ingest
from missions.validation import validate_template
from tests.factories import UserFactory
from tests.missions.engine import at, req

_keys = itertools.count(1)

ACTIONS = st.one_of(
    st.tuples(
        st.just("post:created"),
        st.fixed_dictionaries(
            {"content_length": st.sampled_from([40, 150]), "forum_id": st.integers(1, 4)}
        ),
    ),
    st.tuples(
        st.just("tip:sent"),
        st.fixed_dictionaries({"amount": st.sampled_from([0, 5, 40, 100, "2.5", "99.75"])}),
    ),
    st.tuples(
        st.just("reaction:added"),
        st.one_of(
            st.just({}), st.fixed_dictionaries({"reaction": st.sampled_from(["like", "wow", "3"])})
        ),
    ),
    st.tuples(st.sampled_from(["thread:created", "shoutbox:message"]), st.just({})),
)
EVENT = st.tuples(
    st.integers(0, 2),  # which player
    ACTIONS,
    st.integers(0, 2),  # day
    st.integers(0, 1439),  # minute of that day
    st.sampled_from([0, 0, 30, 90]),  # arrival delay, minutes (90 > the 60 min late grace)
)


@st.composite
def templates(draw: Any) -> dict[str, Any]:
    small = st.integers(1, 4)
    kind = draw(
        st.sampled_from(
            [
                "count",
                "sum",
                "reactions",
                "threshold",
                "unique",
                "streak",
                "timebound",
                "combo",
                "competitive",
            ]
        )
    )
    period = draw(st.sampled_from(["daily", "weekly"]))
    data: dict[str, Any] = {
        "key": f"bt{next(_keys)}",
        "name": "Backtested",
        "category": "content",
        "type": "count" if kind == "reactions" else kind,
        "period_type": period,
        "rewards": {"xp": draw(st.integers(0, 50)), "dgt": draw(st.sampled_from(["0", "1.5"]))},
    }
    if kind == "count":
        where = draw(st.sampled_from([None, {"content_length": {"gte": 100}}]))
        data["requirements"] = {"p": req(target=draw(small), **({"where": where} if where else {}))}
    elif kind == "sum":
        data["type"] = "count"
        target = draw(st.sampled_from([5, "42.5", 120]))
        # the backtest narrows what it reads with these in SQL; the fold still decides
        where = draw(st.sampled_from([None, {"amount": {"gte": 5}}, {"amount": {"lt": "50"}}]))
        data["requirements"] = {
            "t": req("tip:sent", target, field="amount", **({"where": where} if where else {}))
        }
    elif kind == "reactions":
        where = draw(
            st.sampled_from(
                [
                    {"reaction": {"eq": "like"}},
                    {"reaction": {"in": ["wow", "like"]}},
                    {"reaction": {"in": ["wow", "3"]}},
                ]
            )
        )
        data["requirements"] = {
            "r": req("reaction:added", draw(small), where=where),
            "p": req(target=1),
        }
    elif kind == "threshold":
        data["requirements"] = {
            "t": req("tip:sent", draw(st.sampled_from([40, 100])), field="amount")
        }
    elif kind == "unique":
        data["requirements"] = {"f": req(target=draw(small), field="forum_id")}
    elif kind == "streak":
        data["period_type"] = "weekly"
        data["requirements"] = {"d": req("shoutbox:message", target=draw(st.integers(1, 3)))}
    elif kind == "timebound":
        data["requirements"] = {"p": req(target=draw(small))}
        data["metadata"] = {"time_limit_minutes": draw(st.sampled_from([60, 600, 2000]))}
    elif kind == "combo":
        ordered = draw(st.booleans())
        data["requirements"] = {
            "t": req("thread:created", 1),
            "p": req(target=draw(small)),
            "r": req("reaction:added", 1),
        }
        if ordered:
            data["metadata"] = {"ordered": True, "order": ["t", "p", "r"]}
    else:
        data["requirements"] = {"s": req(target=draw(small))}
        data["metadata"] = {"reward_tiers": [{"rank_to": 1, "rewards": {"xp": 5, "dgt": "2"}}]}
    return validate_template(data)


def _fresh_world() -> None:
    """Each hypothesis example starts from an empty log (the test's transaction spans all)."""
    MissionProgress.objects.all().delete()
    ActiveMission.objects.all().delete()
    Event.objects.all().delete()
    MissionTemplate.objects.update(is_active=False)


def _stored(users: list[int], template: MissionTemplate) -> dict[tuple[int, Any], Any]:
    out = {}
    for mission in ActiveMission.objects.filter(user_id__in=users, template=template):
        progress = {p.requirement_key: p.current for p in mission.progress.all()}
        out[(mission.user_id, mission.period_start)] = (
            mission.state,
            mission.completed_at,
            progress,
        )
    return out


@pytest.mark.django_db
@settings(
    max_examples=int(os.environ.get("BACKTEST_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(template=templates(), stream=st.lists(EVENT, max_size=25))
def test_the_backtest_equals_live_ingestion_on_the_same_events(
    template: dict[str, Any], stream: list[Any]
) -> None:
    _fresh_world()
    users = [UserFactory().pk for _ in range(3)]
    stored_template = MissionTemplate.objects.create(**template)
    now = at(3)
    for period in periods_in(template, now - timedelta(days=3), now):
        missions_assign(user_ids=users, now=period.start, templates=[stored_template])
    arrivals = []
    for index, (who, (action, data), day, minute, delay) in enumerate(stream):
        occurred = at(day) + timedelta(minutes=minute)
        arrivals.append((occurred + timedelta(minutes=delay), index, who, action, data, occurred))
    for received, index, who, action, data, occurred in sorted(arrivals):
        event = {
            "id": f"bt-{template['key']}-{index}",
            "user_id": users[who],
            "action": action,
            "occurred_at": occurred.isoformat(),
            "data": data,
        }
        result = events_ingest(events=[event], now=received)
        assert not result.rejected, result.rejected

    live = _stored(users, stored_template)
    counts = (ActiveMission.objects.count(), MissionProgress.objects.count(), Event.objects.count())
    with CaptureQueriesContext(connection) as queries:
        backtest = template_backtest(template=template, days=3, now=now)
    # DECLARE … CURSOR FOR SELECT: the chunked read, in a transaction (a savepoint in a test)
    reads = ("SELECT", "DECLARE", "SAVEPOINT", "RELEASE SAVEPOINT")
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(reads)]
    assert writes == []
    if backtest.players and backtest.periods:  # else there is nothing to read
        assert any(q["sql"].startswith("DECLARE") for q in queries)
    assert counts == (
        ActiveMission.objects.count(),
        MissionProgress.objects.count(),
        Event.objects.count(),
    )

    for (user_id, period_start), (state, completed_at, progress) in live.items():
        run = backtest.outcomes.get((user_id, period_start))
        if run is None:  # no event of the template's actions in that period: nothing moved
            assert state == "active" and completed_at is None
            assert all(v == 0 for v in progress.values())
            continue
        assert run.state == state
        assert run.completed_at == completed_at
        assert {k: p.current for k, p in run.progress.items()} == progress
    assert set(backtest.outcomes) <= set(live)
    completed = sum(1 for state, _, _ in live.values() if state == "completed")
    assert backtest.completed == completed


def _world(days: int = 4) -> list[int]:
    """Three players; the first completes a 2-post daily mission on days 0 and 1 (at 01:00 and
    03:00), the second posts once a day, the third only reacts."""
    users = [UserFactory().pk for _ in range(3)]
    events = []
    for day in range(days):
        events.append((users[0], day, 60, "post:created"))
        if day < 2:
            events.append((users[0], day, 180, "post:created"))
        events.append((users[1], day, 600, "post:created"))
        events.append((users[2], day, 600, "reaction:added"))
    for index, (user_id, day, minute, action) in enumerate(events):
        when = at(day) + timedelta(minutes=minute)
        events_ingest(
            events=[
                {
                    "id": f"w-{index}",
                    "user_id": user_id,
                    "action": action,
                    "occurred_at": when.isoformat(),
                    "data": {},
                }
            ],
            now=when,
        )
    return users


TWO_POSTS = {
    "key": "two_posts",
    "name": "Two posts",
    "category": "content",
    "type": "count",
    "period_type": "daily",
    "requirements": {"p": req(target=2)},
    "rewards": {"xp": 30, "dgt": "1.25"},
}


@pytest.mark.django_db
def test_the_backtest_figures_on_a_known_dataset() -> None:
    _world()
    template = validate_template(dict(TWO_POSTS))
    result = template_backtest(template=template, days=4, now=at(4))
    # 3 active players × 4 daily periods; player 1 completes on days 0 and 1
    assert (result.players, result.periods, result.runs) == (3, 4, 12)
    assert result.completed == 2
    assert result.completion_rate == pytest.approx(2 / 12)
    assert result.median_minutes == 180
    assert result.completions_per_day == 0.5
    assert result.xp_per_day == Decimal("15.00")
    assert result.dgt_per_day == Decimal("0.625")
    assert result.completions_by_day == {"2026-11-23": 1, "2026-11-24": 1}
    # not finished: player 1 days 2-3 (50 %), player 2 all days (50 %), player 3 (0 %)
    assert result.not_finished["50–74 %"] == 6
    assert result.not_finished["0 %"] == 4
    assert sum(result.not_finished.values()) == 10


@pytest.mark.django_db
def test_a_sample_and_a_level_range_narrow_the_players() -> None:
    from missions.models import PlayerProfile

    users = _world(days=1)
    PlayerProfile.objects.filter(user_id=users[0]).update(level=9)
    gated = validate_template({**TWO_POSTS, "min_level": 5})
    assert template_backtest(template=gated, days=1, now=at(1)).players == 1
    sampled = template_backtest(
        template=validate_template(dict(TWO_POSTS)), days=1, now=at(1), sample=2
    )
    assert sampled.players == 2 and sampled.runs == 2


def test_periods_in_a_window() -> None:
    weekly = periods_in({"period_type": "weekly"}, at(-3), at(10))
    assert [p.start for p in weekly] == [
        period_for("weekly", at(-3)).start,
        at(0),
        at(7),
    ]


@pytest.mark.django_db
def test_the_admin_runs_the_backtest_on_the_unsaved_draft(admin_client: Any) -> None:
    import re

    from django.utils import timezone

    from tests.missions.test_builder import form_data

    user = UserFactory()
    yesterday = timezone.now() - timedelta(days=1)
    for index in range(2):
        sent = yesterday + timedelta(minutes=index)
        events_ingest(
            now=sent,
            events=[
                {
                    "id": f"recent-{index}",
                    "user_id": user.pk,
                    "action": "post:created",
                    "occurred_at": sent.isoformat(),
                    "data": {},
                }
            ],
        )
    data = form_data(TWO_POSTS)
    data.update(backtest_days="7", backtest_sample="")
    response = admin_client.post("/admin/missions/missiontemplate/builder/backtest/", data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was written" in body
    rate = re.search(r'data-metric="completion-rate">([^<]+)<', body)
    # one completion out of the 8 daily periods a 7-day window touches (7 at exactly midnight)
    assert rate is not None and rate.group(1) in ("12.5 %", "14.3 %")
    assert not MissionTemplate.objects.filter(key="two_posts").exists()

    data["requirements"] = '[{"key": "p", "action": "post:nope", "target": "2", "label": "x"}]'
    body = admin_client.post("/admin/missions/missiontemplate/builder/backtest/", data)
    assert "Fix the template" in body.content.decode()


def _tips_and_reactions() -> list[int]:
    """One player: tips of 5, "2.5", 40, "99.75" and a tip without an amount; reactions
    like, wow, "3" and one without a reaction."""
    user = UserFactory().pk
    payloads = [
        ("tip:sent", {"amount": 5}),
        ("tip:sent", {"amount": "2.5"}),
        ("tip:sent", {"amount": 40}),
        ("tip:sent", {"amount": "99.75"}),
        ("tip:sent", {}),
        ("reaction:added", {"reaction": "like"}),
        ("reaction:added", {"reaction": "wow"}),
        ("reaction:added", {"reaction": "3"}),
        ("reaction:added", {}),
    ]
    for index, (action, data) in enumerate(payloads):
        when = at(0, 1, index)
        result = events_ingest(
            events=[
                {
                    "id": f"n-{index}",
                    "user_id": user,
                    "action": action,
                    "occurred_at": when.isoformat(),
                    "data": data,
                }
            ],
            now=when,
        )
        assert not result.rejected, result.rejected
    return [user]


def _summed(where: dict[str, Any] | None, action: str = "tip:sent") -> tuple[int, Decimal]:
    extra: dict[str, Any] = {"where": where} if where else {}
    if action == "tip:sent":
        extra["field"] = "amount"
    template = validate_template(
        {**TWO_POSTS, "key": f"n{next(_keys)}", "requirements": {"r": req(action, 500, **extra)}}
    )
    result = template_backtest(template=template, days=1, now=at(1))
    (run,) = result.outcomes.values()
    return result.events_read, run.progress["r"].current


@pytest.mark.django_db
def test_the_backtest_reads_only_what_a_where_can_match_and_the_fold_decides() -> None:
    _tips_and_reactions()
    # no where: every tip is read; only amounts that are numbers sum
    assert _summed(None) == (5, Decimal("147.25"))
    # numbers compared in SQL (5 and 40 are read, 5 is dropped by gte 10); text amounts are
    # all read and the fold parses them
    assert _summed({"amount": {"gte": 10}}) == (3, Decimal("139.75"))
    assert _summed({"amount": {"lt": "50"}}) == (4, Decimal("47.5"))
    # text equality in SQL; "3" is a number-like text, so `in` with it is left to the fold
    assert _summed({"reaction": {"eq": "like"}}, "reaction:added") == (1, 1)
    assert _summed({"reaction": {"in": ["wow", "like"]}}, "reaction:added") == (2, 2)
    assert _summed({"reaction": {"in": ["wow", "3"]}}, "reaction:added") == (4, 2)
    assert _summed({"reaction": {"ne": "like"}}, "reaction:added") == (4, 2)


@pytest.mark.django_db
def test_a_player_in_another_timezone_is_backtested_in_their_local_days() -> None:
    from missions.services.timezones import player_timezone_set, schedule_for

    user = UserFactory().pk
    player_timezone_set(user_id=user, timezone="Asia/Tokyo", now=at(-3))  # UTC+9
    template = validate_template({**TWO_POSTS, "key": f"tz{next(_keys)}"})
    stored = MissionTemplate.objects.create(**template)
    schedule = schedule_for(user)
    for day in range(-1, 3):
        period = schedule.period("daily", at(day, 12))
        missions_assign(user_ids=[user], now=period.start, templates=[stored])
    # one UTC day, but 23:00 and 01:00 in Tokyo: two local days, one post each
    for index, when in enumerate((at(0, 14), at(0, 16))):
        result = events_ingest(
            events=[
                {
                    "id": f"tz-{index}",
                    "user_id": user,
                    "action": "post:created",
                    "occurred_at": when.isoformat(),
                    "data": {},
                }
            ],
            now=when,
        )
        assert not result.rejected
    live = _stored([user], stored)
    backtest = template_backtest(template=template, days=2, now=at(2))
    assert backtest.completed == 0  # a UTC fold would complete day 0
    assert set(backtest.outcomes) == {
        (user, schedule.period("daily", at(0, 14)).start),
        (user, schedule.period("daily", at(0, 16)).start),
    }
    for key, run in backtest.outcomes.items():
        state, completed_at, progress = live[key]
        assert (run.state, run.completed_at) == (state, completed_at)
        assert {k: p.current for k, p in run.progress.items()} == progress == {"p": 1}
