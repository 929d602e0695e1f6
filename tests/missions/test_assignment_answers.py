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
from missions.periods import UTC_SCHEDULE, Period, schedule_change
from missions.services import missions_assign, missions_assign_all, missions_assign_for_user
from missions.services.assignment import (
    _prerequisite_source,
    _prerequisite_sources,
    assigned_covers,
    assigned_window,
    enough_time_left,
    prerequisite_source_register,
)
from missions.services.timezones import player_timezone_set
from tests.factories import TemplateFactory, UserFactory

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
