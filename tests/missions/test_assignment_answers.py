"""Known answers at assignment's edges: the policy's share of a period left, the lazy
assignment's remembered window in the player's own zone, what the insert hands back, the
chunked rollover's cache bump and template read (issue 14: each guards mutants of
missions/services/assignment.py that no test told apart; docs/mutation/assignment.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from missions.cache import ALL_PLAYERS, version_tokens
from missions.models import PERPETUAL_START, ActiveMission, MissionTemplate
from missions.periods import UTC_SCHEDULE, Period, Schedule, period_for, schedule_change
from missions.services import missions_assign, missions_assign_all, missions_assign_for_user
from missions.services.assignment import (
    _player_contexts,
    _prerequisite_source,
    _prerequisite_sources,
    assigned_covers,
    assigned_window,
    draw_seed,
    enough_time_left,
    prerequisite_source_register,
    weighted_draw,
)
from missions.services.timezones import player_timezone_set
from missions.signals import missions_assigned
from tests.factories import ProfileFactory, TemplateFactory, UserFactory

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)  # a Friday
DAY = Period("daily", datetime(2026, 11, 27, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC))
WEEK = Period("weekly", datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
EVER = Period("perpetual", datetime(2020, 1, 1, tzinfo=UTC), None)
TICK = timedelta(microseconds=1)
TENTH_OF_A_WEEK = timedelta(hours=16, minutes=48)


def _template(period_type: str, metadata: dict[str, Any] | None) -> MissionTemplate:
    return MissionTemplate(key="t", period_type=period_type, metadata=metadata)


@pytest.mark.parametrize(
    ("period", "metadata", "left", "expected"),
    [
        # The template's own share, exactly at its edge and a microsecond past it.
        (DAY, {"min_remaining_percent": 25}, timedelta(hours=6), True),
        (DAY, {"min_remaining_percent": 25}, timedelta(hours=6) - TICK, False),
        # A template's share overrides its type's default, looser or stricter.
        (WEEK, {"min_remaining_percent": 0}, timedelta(hours=1), True),
        (WEEK, {"min_remaining_percent": 50}, timedelta(days=3), False),
        # No share of its own (no metadata, or metadata without it): the weekly default, 10 %.
        (WEEK, None, TENTH_OF_A_WEEK, True),
        (WEEK, None, TENTH_OF_A_WEEK - TICK, False),
        (WEEK, {"note": "x"}, TENTH_OF_A_WEEK - TICK, False),
        # The daily default is 0 %: a mission is handed out until the day's last instant.
        (DAY, None, TICK, True),
        # A perpetual mission never ends, whatever the template asks.
        (EVER, {"min_remaining_percent": 99}, None, True),
    ],
    ids=[
        "exactly_the_templates_share_left",
        "a_microsecond_less_than_its_share",
        "a_looser_share_than_the_default",
        "a_stricter_share_than_the_default",
        "exactly_the_weekly_default_left",
        "a_microsecond_less_than_the_weekly_default",
        "metadata_without_a_share_takes_the_default",
        "the_daily_default_is_zero",
        "perpetual_never_ends",
    ],
)
def test_the_share_of_the_period_left_at_each_edge(
    period: Period, metadata: dict[str, Any] | None, left: timedelta | None, expected: bool
) -> None:
    now = NOW if period.end is None or left is None else period.end - left
    template = _template(period.period_type, metadata)
    assert enough_time_left(template, period, now) is expected


def test_a_period_type_missing_from_the_setting_has_no_minimum_share(settings: Any) -> None:
    settings.MISSIONS_MIN_REMAINING_PERCENT = {"monthly": 1}
    assert enough_time_left(_template("daily", None), DAY, DAY.end - TICK) is True
    assert enough_time_left(_template("weekly", None), WEEK, WEEK.end - TICK) is True


def test_a_remembered_window_covers_its_start_but_not_its_end() -> None:
    window = (1_000.0, 2_000.0)
    at = lambda seconds: datetime.fromtimestamp(seconds, UTC)  # noqa: E731
    assert assigned_covers(window, at(1_000)) is True
    assert assigned_covers(list(window), at(1_999.5)) is True
    assert assigned_covers(window, at(999.5)) is False
    assert assigned_covers(window, at(2_000)) is False
    assert assigned_covers(None, at(1_500)) is False
    assert assigned_covers((1_000.0, 1_500.0, 2_000.0), at(1_500)) is False


def test_the_remembered_window_is_the_players_own_day_after_a_zone_change() -> None:
    # In Tokyo (UTC+9) since long ago: the day of 1 Dec 23:00 JST runs 30 Nov 15:00 UTC to
    # 1 Dec 15:00 UTC, and that day ends first of the drawn periods.
    tokyo = schedule_change(UTC_SCHEDULE, "Asia/Tokyo", datetime(2026, 9, 1, tzinfo=UTC))
    assert len(tokyo.epochs) == 2  # the first epoch is still UTC
    window = assigned_window(tokyo, datetime(2026, 12, 1, 14, tzinfo=UTC))
    assert window == (
        datetime(2026, 11, 30, 15, tzinfo=UTC).timestamp(),
        datetime(2026, 12, 1, 15, tzinfo=UTC).timestamp(),
    )


@pytest.mark.django_db
def test_lazy_assignment_is_remembered_until_the_players_own_midnight() -> None:
    TemplateFactory(key="daily_post")
    user = UserFactory()
    player_timezone_set(
        user_id=user.pk, timezone="Asia/Tokyo", now=datetime(2026, 9, 1, tzinfo=UTC)
    )
    evening = datetime(2026, 12, 1, 14, tzinfo=UTC)  # 23:00 in Tokyo
    first = missions_assign_for_user(user_id=user.pk, now=evening)
    assert [m.period_start for m in first] == [datetime(2026, 11, 30, 15, tzinfo=UTC)]
    assert missions_assign_for_user(user_id=user.pk, now=evening + timedelta(minutes=30)) == []
    # 00:30 in Tokyo, 15:30 UTC: a new local day although the UTC date is the same.
    next_day = missions_assign_for_user(user_id=user.pk, now=evening + timedelta(minutes=90))
    assert [m.period_start for m in next_day] == [datetime(2026, 12, 1, 15, tzinfo=UTC)]


@pytest.mark.django_db
def test_the_missions_handed_back_are_the_stored_ones() -> None:
    TemplateFactory(key="daily_post")
    perpetual = TemplateFactory(key="forever", period_type="perpetual")
    user = UserFactory()
    created = missions_assign(user_ids=[user.pk], now=NOW)
    stored = {
        m.pk: (m.user_id, m.template_id, m.period_type, m.period_start, m.period_end, m.assigned_at)
        for m in ActiveMission.objects.filter(user=user)
    }
    assert {
        m.pk: (m.user_id, m.template_id, m.period_type, m.period_start, m.period_end, m.assigned_at)
        for m in created
    } == stored
    # As if loaded: saved, and read from the default database (related managers route there).
    assert {(m._state.adding, m._state.db) for m in created} == {(False, "default")}
    assert [list(m.progress.values_list("requirement_key", flat=True)) for m in created] == [
        ["posts"],
        ["posts"],
    ]
    assert sorted(stored.values(), key=lambda row: row[2]) == [
        (user.pk, ActiveMission.objects.get(user=user, period_type="daily").template_id,
         "daily", DAY.start, DAY.end, NOW),
        (user.pk, perpetual.pk, "perpetual", PERPETUAL_START, None, NOW),
    ]  # fmt: skip


def test_an_unregistered_prerequisite_source_is_refused_with_its_name() -> None:
    with pytest.raises(LookupError) as caught:
        _prerequisite_source("no_such_source")
    assert str(caught.value) == (
        "no prerequisite source 'no_such_source' registered "
        "(its app's AppConfig.ready registers it)"
    )


def test_a_registered_prerequisite_source_is_the_one_looked_up() -> None:
    def source(user_ids: Any) -> list[tuple[int, Any]]:
        return [(user_id, "gold") for user_id in user_ids]

    prerequisite_source_register("test_only_source", source)
    try:
        assert _prerequisite_source("test_only_source") is source
    finally:
        _prerequisite_sources.pop("test_only_source", None)


@pytest.mark.django_db
def test_the_rollover_bumps_the_all_players_cache_version_and_a_lazy_one_the_players() -> None:
    TemplateFactory(key="daily_post")
    rolled, lazy = UserFactory(), UserFactory(is_active=False)
    before = version_tokens([ALL_PLAYERS, rolled.pk, lazy.pk])
    assert missions_assign_all(now=NOW) == 1
    after_rollover = version_tokens([ALL_PLAYERS, rolled.pk, lazy.pk])
    assert before is not None and after_rollover is not None
    assert after_rollover[0] != before[0]  # one version for every player...
    assert after_rollover[1:] == before[1:]  # ...and none of their own
    missions_assign(user_ids=[lazy.pk], now=NOW)
    after_lazy = version_tokens([ALL_PLAYERS, rolled.pk, lazy.pk])
    assert after_lazy is not None
    assert after_lazy[:2] == after_rollover[:2]
    assert after_lazy[2] != after_rollover[2]


@pytest.mark.django_db
def test_the_rollover_reads_the_catalog_once_for_all_its_chunks() -> None:
    TemplateFactory(key="daily_post")
    for _ in range(4):
        UserFactory()
    with CaptureQueriesContext(connection) as queries:
        assert missions_assign_all(now=NOW, chunk_size=2) == 4
    catalog_reads = [
        q["sql"] for q in queries.captured_queries if 'FROM "missions_missiontemplate"' in q["sql"]
    ]
    assert len(catalog_reads) == 1, catalog_reads


@pytest.mark.django_db
def test_the_rollover_takes_a_list_of_user_ids_in_chunks() -> None:
    TemplateFactory(key="daily_post")
    users = [UserFactory().pk for _ in range(3)]
    chunks: list[tuple[int, int]] = []
    total = missions_assign_all(
        now=NOW, chunk_size=2, user_ids=list(users), on_chunk=lambda n, c: chunks.append((n, c))
    )
    assert (total, chunks) == (3, [(2, 2), (1, 1)])


@pytest.mark.django_db
def test_the_rollovers_chunks_hold_2000_players_by_default() -> None:
    User = get_user_model()
    User.objects.bulk_create([User(username=f"chunk{i}") for i in range(2001)])
    chunks: list[tuple[int, int]] = []
    assert missions_assign_all(now=NOW, on_chunk=lambda n, c: chunks.append((n, c))) == 0
    assert chunks == [(2000, 0), (1, 0)]


# -- each player's own periods, in one call ------------------------------------------------


def _periods(user: Any) -> dict[str, tuple[datetime, datetime | None]]:
    return {
        key: (start, end)
        for key, start, end in ActiveMission.objects.filter(user=user).values_list(
            "template__key", "period_start", "period_end"
        )
    }


def at(day: int, hour: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.mark.django_db
def test_each_player_draws_in_their_own_zone_in_one_call_and_competitive_ones_in_utc() -> None:
    TemplateFactory(key="daily", max_level=4)
    TemplateFactory(key="race", type="competitive")
    TemplateFactory(key="weekly", period_type="weekly")
    TemplateFactory(key="monthly", period_type="monthly")
    TemplateFactory(key="forever", period_type="perpetual")
    TemplateFactory(key="forever_gated", period_type="perpetual", min_level=50)
    TemplateFactory(
        key="event", period_type="special", starts_at=NOW - timedelta(days=1), ends_at=at(29)
    )
    utc = UserFactory()
    # Tokyo (UTC+9) set directly (no history), and Tokyo chosen long ago (a history).
    tokyo = ProfileFactory(timezone="Asia/Tokyo").user
    tokyo_since = UserFactory()
    player_timezone_set(user_id=tokyo_since.pk, timezone="Asia/Tokyo", now=at(1, month=9))
    # Los Angeles long ago, level 5: the daily template is capped at 4, so its only daily
    # mission is the competitive one (in the UTC day).
    la = ProfileFactory(level=5).user
    player_timezone_set(user_id=la.pk, timezone="America/Los_Angeles", now=at(1, month=9))
    # Chose Tokyo an hour ago: still on UTC's periods, which now end at Tokyo's boundaries.
    moving = UserFactory()
    player_timezone_set(user_id=moving.pk, timezone="Asia/Tokyo", now=NOW - timedelta(hours=1))
    users = [utc, tokyo, tokyo_since, la, moving]

    created = missions_assign(user_ids=[u.pk for u in users], now=NOW)  # 12:00 UTC, Friday

    utc_day, event = (at(27), at(28)), (NOW - timedelta(days=1), at(29))
    forever = (PERPETUAL_START, None)
    assert _periods(utc) == {
        "daily": utc_day,
        "race": utc_day,
        "weekly": (at(23), at(30)),
        "monthly": (at(1), at(1, month=12)),
        "forever": forever,
        "event": event,
    }
    tokyo_periods = {
        "daily": (at(26, 15), at(27, 15)),  # 21:00 on Friday in Tokyo
        "race": utc_day,
        "weekly": (at(22, 15), at(29, 15)),
        "monthly": (at(31, 15, month=10), at(30, 15)),
        "forever": forever,
        "event": event,
    }
    assert _periods(tokyo) == tokyo_periods
    assert _periods(tokyo_since) == tokyo_periods
    assert _periods(la) == {
        "race": utc_day,  # 04:00 on Friday in Los Angeles (UTC-8)
        "weekly": (at(23, 8), at(30, 8)),
        "monthly": (at(1, 7), at(1, 8, month=12)),  # 1 November began on summer time
        "forever": forever,
        "event": event,
    }
    assert _periods(moving) == {
        "daily": (at(27), at(28, 15)),  # the day in progress runs to Tokyo's next midnight
        "race": utc_day,
        "weekly": (at(23), at(29, 15)),
        "monthly": (at(1), at(30, 15)),
        "forever": forever,
        "event": event,
    }
    assert len(created) == 6 + 6 + 6 + 5 + 6

    # An hour later nothing is due: nothing is drawn, nothing is written (beyond the
    # profiles' ON CONFLICT DO NOTHING), for local, competitive and special missions alike.
    with CaptureQueriesContext(connection) as queries:
        assert missions_assign(user_ids=[u.pk for u in users], now=NOW + timedelta(hours=1)) == []
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if "INSERT" in q["sql"].upper() and "missions_playerprofile" not in q["sql"]
    ]
    assert writes == []


@pytest.mark.django_db
def test_a_new_day_in_the_same_week_draws_that_days_missions_only() -> None:
    TemplateFactory(key="daily")
    TemplateFactory(key="race", type="competitive")
    TemplateFactory(key="weekly", period_type="weekly")
    user = UserFactory()
    monday = missions_assign(user_ids=[user.pk], now=at(23, 10))
    assert sorted((m.template.key, m.period_start) for m in monday) == [
        ("daily", at(23)),
        ("race", at(23)),
        ("weekly", at(23)),  # the week starts with Monday's day
    ]
    tuesday = missions_assign(user_ids=[user.pk], now=at(24, 10))
    assert sorted((m.template.key, m.period_start) for m in tuesday) == [
        ("daily", at(24)),
        ("race", at(24)),  # Monday's competitive mission is not Tuesday's
    ]


@pytest.mark.django_db
def test_a_week_cut_short_by_a_zone_change_is_followed_by_the_new_zones_week_at_once() -> None:
    TemplateFactory(key="daily")
    TemplateFactory(key="weekly", period_type="weekly")
    user = UserFactory()
    missions_assign(user_ids=[user.pk], now=at(23, 10))  # Monday, in UTC
    # On Wednesday the player moves to Tokyo: the week ends at Tokyo's Monday midnight,
    # Sunday 29 November 15:00 UTC, nine hours before UTC's.
    player_timezone_set(user_id=user.pk, timezone="Asia/Tokyo", now=at(25, 10))
    assert ActiveMission.objects.get(user=user, period_type="weekly").period_end == at(29, 15)
    created = missions_assign(user_ids=[user.pk], now=at(29, 16))
    assert sorted((m.template.key, m.period_start, m.period_end) for m in created) == [
        ("daily", at(29, 15), at(30, 15)),
        ("weekly", at(29, 15), at(6, 15, month=12)),
    ]


@pytest.mark.django_db
def test_a_template_published_later_in_a_period_is_drawn_for_that_period() -> None:
    TemplateFactory(key="daily")
    user = UserFactory()
    assert [m.template.key for m in missions_assign(user_ids=[user.pk], now=NOW)] == ["daily"]
    TemplateFactory(key="weekly", period_type="weekly")
    TemplateFactory(key="monthly", period_type="monthly")
    later = missions_assign(user_ids=[user.pk], now=NOW + timedelta(hours=1))
    assert sorted(m.template.key for m in later) == ["monthly", "weekly"]


@pytest.mark.django_db
def test_a_period_type_missing_from_missions_per_period_draws_nothing(settings: Any) -> None:
    settings.MISSIONS_PER_PERIOD = {"daily": 1}
    for key in ("d1", "d2"):
        TemplateFactory(key=key)
    for key in ("w1", "w2"):
        TemplateFactory(key=key, period_type="weekly")
    user = UserFactory()
    created = missions_assign(user_ids=[user.pk], now=NOW)
    assert [m.period_type for m in created] == ["daily"]


@pytest.mark.django_db
def test_each_player_draws_the_set_their_own_seed_gives() -> None:
    daily = [TemplateFactory(key=f"d{i}", weight=10 + i) for i in range(8)]
    users = [UserFactory().pk for _ in range(10)]
    missions_assign(user_ids=users, now=NOW)
    day = period_for("daily", NOW)
    for user_id in users:
        expected = {t.key for t in weighted_draw(daily, 3, draw_seed(user_id, day))}
        drawn = set(
            ActiveMission.objects.filter(user_id=user_id).values_list("template__key", flat=True)
        )
        assert drawn == expected, user_id


@pytest.mark.django_db
def test_assignment_announces_exactly_the_new_missions_after_the_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    TemplateFactory(key="daily")
    user = UserFactory()
    heard: list[tuple[Any, list[ActiveMission]]] = []

    def listener(sender: Any, missions: list[ActiveMission], **kwargs: Any) -> None:
        heard.append((sender, missions))

    missions_assigned.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            created = missions_assign(user_ids=[user.pk], now=NOW)
            assert heard == []
    finally:
        missions_assigned.disconnect(listener)
    assert heard == [(ActiveMission, created)] and len(created) == 1


@pytest.mark.django_db
def test_the_sqlite_path_is_taken_by_vendor_and_hands_back_the_stored_missions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from missions.services import assignment

    class NotPostgres:
        vendor = "sqlite"

        def __getattr__(self, name: str) -> Any:
            return getattr(connection, name)

    TemplateFactory(key="daily")
    user = UserFactory()
    monkeypatch.setattr(assignment, "connection", NotPostgres())
    monkeypatch.setattr(assignment, "_insert_sql", None)  # never reached
    created = missions_assign(user_ids=[user.pk], now=NOW)
    stored = ActiveMission.objects.get(user=user)
    assert [
        (m.pk, m.template_id, m.period_start, m.period_end, m.assigned_at) for m in created
    ] == [(stored.pk, stored.template_id, DAY.start, DAY.end, NOW)]
    assert stored.assigned_at == NOW


# -- what eligibility reads about each player ----------------------------------------------


def _mission(template: MissionTemplate, user: Any, period: Period, **fields: Any) -> None:
    ActiveMission.objects.create(
        template=template,
        user=user,
        period_type=template.period_type,
        period_start=period.start,
        period_end=period.end,
        assigned_at=period.start,
        **fields,
    )


@pytest.mark.django_db
def test_every_cooling_template_blocks_each_player_by_their_own_period() -> None:
    first = TemplateFactory(key="first", cooldown_hours=24)
    second = TemplateFactory(key="second", cooldown_hours=24)
    utc = UserFactory()
    tokyo = ProfileFactory(timezone="Asia/Tokyo").user
    tokyo_zone = Schedule.of("Asia/Tokyo")
    for template in (first, second):
        # Yesterday's missions, each in the player's own day: both ended under 24 h ago.
        _mission(template, utc, period_for("daily", NOW - timedelta(days=1)))
        _mission(template, tokyo, tokyo_zone.period("daily", NOW - timedelta(days=1)))
    contexts = _player_contexts([utc.pk, tokyo.pk], [first, second], NOW)
    assert contexts[utc.pk].cooling_down == {first.pk, second.pk}
    assert contexts[tokyo.pk].cooling_down == {first.pk, second.pk}


@pytest.mark.django_db
def test_a_prerequisite_counts_only_once_completed() -> None:
    welcome = TemplateFactory(key="welcome")
    gated = TemplateFactory(key="gated", prerequisites={"missions_completed": ["welcome"]})
    done, started = UserFactory(), UserFactory()
    yesterday = period_for("daily", NOW - timedelta(days=1))
    _mission(welcome, done, yesterday, completed_at=yesterday.start, state="claimed")
    _mission(welcome, started, yesterday)  # assigned, never completed
    contexts = _player_contexts([done.pk, started.pk], [welcome, gated], NOW)
    assert contexts[done.pk].completed_keys == {"welcome"}
    assert contexts[started.pk].completed_keys == set()


@pytest.mark.django_db
def test_the_registered_exclusions_withhold_templates_from_their_players() -> None:
    kept, withheld = TemplateFactory(key="kept"), TemplateFactory(key="withheld")
    alice, bob = UserFactory(), UserFactory()
    registered = _prerequisite_sources.get("excluded_templates")

    def exclusions(user_ids: Any) -> list[tuple[int, int]]:
        return [(user_id, withheld.pk) for user_id in user_ids if user_id == alice.pk]

    prerequisite_source_register("excluded_templates", exclusions)
    try:
        contexts = _player_contexts([alice.pk, bob.pk], [kept, withheld], NOW)
        created = missions_assign(user_ids=[alice.pk, bob.pk], now=NOW)
    finally:
        if registered is None:
            _prerequisite_sources.pop("excluded_templates", None)
        else:
            prerequisite_source_register("excluded_templates", registered)
    assert (contexts[alice.pk].excluded, contexts[bob.pk].excluded) == ({withheld.pk}, set())
    assert sorted((m.user_id, m.template.key) for m in created) == sorted(
        [(alice.pk, "kept"), (bob.pk, "kept"), (bob.pk, "withheld")]
    )


def test_the_draw_seed_is_pinned_so_a_deploy_never_reshuffles_a_current_draw() -> None:
    # sha256("1:daily:2026-11-27T00:00:00+00:00"), its first 8 bytes big-endian.
    assert draw_seed(1, DAY) == 10488406865246654836


@pytest.mark.django_db
def test_each_template_gets_its_own_time_left_answer_in_one_call(settings: Any) -> None:
    """The time-left check is remembered per template and period within a call: at 18:00,
    a daily template that wants 50 % of the day left is not given, one that wants 10 % is,
    in either order of the catalog."""
    settings.MISSIONS_PER_PERIOD = {"daily": 5}
    TemplateFactory(key="a_wants_half", metadata={"min_remaining_percent": 50})
    TemplateFactory(key="b_wants_tenth", metadata={"min_remaining_percent": 10})
    TemplateFactory(key="c_wants_half", metadata={"min_remaining_percent": 50})
    users = [UserFactory(), UserFactory()]
    now = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
    missions_assign(user_ids=[u.pk for u in users], now=now)
    for user in users:
        keys = sorted(
            ActiveMission.objects.filter(user=user).values_list("template__key", flat=True)
        )
        assert keys == ["b_wants_tenth"]
