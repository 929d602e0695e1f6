"""Streak days are the player's local days: across DST in both hemispheres, across the date
line, and across a timezone change (never a lost day, never two days in one)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from missions.services.timezones import player_timezone_set
from streaks.models import Streak, StreakBreak
from streaks.replay import streak_differences
from streaks.selectors import player_streaks
from streaks.services import streak_record
from tests.rewards.helpers import player

pytestmark = pytest.mark.django_db


def local(zone: str, *a: int) -> datetime:
    return datetime(*a, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def record(user: Any, *instants: datetime) -> Streak:
    for instant in instants:
        streak_record(user_id=user.pk, kind="daily", at=instant)
    return Streak.objects.get(user=user, kind="daily")


def zoned(zone: str, now: datetime) -> Any:
    """A player who has lived in `zone` since long before `now` (set, then settled)."""
    user = player()
    player_timezone_set(user_id=user.pk, timezone=zone, now=now - timedelta(days=400))
    return user


LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def test_los_angeles_days_start_at_local_midnight_across_both_dst_changes() -> None:
    user = zoned("America/Los_Angeles", LONG_AGO)
    la = "America/Los_Angeles"
    streak = record(
        user,
        local(la, 2026, 3, 7, 23, 30),  # Saturday night, PST (07:30 UTC on the 8th)
        local(la, 2026, 3, 8, 0, 30),  # the 23-hour Sunday: a new day 1 hour later
        local(la, 2026, 3, 8, 23, 30),  # still Sunday (06:30 UTC on the 9th)
        local(la, 2026, 3, 9, 0, 15),
    )
    assert (streak.current, streak.last_completed) == (3, date(2026, 3, 9))
    autumn = player()
    player_timezone_set(user_id=autumn.pk, timezone=la, now=LONG_AGO)
    streak = record(
        autumn,
        local(la, 2026, 11, 1, 0, 10),  # the 25-hour Sunday, from 07:00 UTC
        local(la, 2026, 11, 1, 23, 50),  # 08:50 UTC on the 2nd, still Sunday in LA
        local(la, 2026, 11, 2, 0, 5),
    )
    assert (streak.current, streak.last_completed) == (2, date(2026, 11, 2))


def test_sydney_days_start_at_local_midnight_across_both_dst_changes() -> None:
    user = zoned("Australia/Sydney", LONG_AGO)
    syd = "Australia/Sydney"
    streak = record(
        user,
        local(syd, 2026, 4, 4, 23, 59),
        local(syd, 2026, 4, 5, 0, 1),  # the 25-hour Sunday of April
        local(syd, 2026, 4, 5, 23, 59),  # 24 h 58 min after its midnight: the same day
        local(syd, 2026, 10, 3, 23, 0),  # (a gap: a break, then a new run)
        local(syd, 2026, 10, 4, 0, 30),  # the 23-hour Sunday of October
        local(syd, 2026, 10, 5, 0, 0),
    )
    assert (streak.current, streak.best, streak.last_completed) == (3, 3, date(2026, 10, 5))
    assert StreakBreak.objects.filter(streak=streak).count() == 1


def test_across_the_date_line_one_instant_is_a_different_day_for_each_player() -> None:
    kiritimati = zoned("Pacific/Kiritimati", LONG_AGO)
    pago = zoned("Pacific/Pago_Pago", LONG_AGO)
    auckland = zoned("Pacific/Auckland", LONG_AGO)
    instants = [datetime(2026, 12, 1, 10, 30, tzinfo=UTC), datetime(2026, 12, 2, 9, tzinfo=UTC)]
    # 10:30 UTC is 2 December 00:30 in Kiritimati (+14), 30 November 23:30 in Pago Pago (-11)
    # and 1 December 23:30 in Auckland (+13); 22.5 hours later it is 2 December 23:00,
    # 1 December 22:00 and 2 December 22:00.
    streak = record(kiritimati, *instants)
    assert (streak.current, streak.last_completed) == (1, date(2026, 12, 2))  # one day
    streak = record(auckland, *instants)
    assert (streak.current, streak.last_completed) == (2, date(2026, 12, 2))
    streak = record(pago, *instants)
    assert (streak.current, streak.last_completed) == (2, date(2026, 12, 1))


def test_a_timezone_change_mid_day_neither_breaks_nor_doubles_the_streak() -> None:
    user = zoned("America/Los_Angeles", LONG_AGO)
    monday_noon = local("America/Los_Angeles", 2026, 11, 30, 12)
    record(user, monday_noon - timedelta(days=1), monday_noon)  # Sunday and Monday in LA
    player_timezone_set(
        user_id=user.pk, timezone="Asia/Tokyo", now=monday_noon + timedelta(hours=1)
    )
    # The LA Monday runs on until Tokyo's next midnight (2 Dec 00:00 JST = 1 Dec 15:00 UTC):
    # a completion at 1 Dec 20:00 in Tokyo is still that day, so it does not count again.
    streak = record(user, local("Asia/Tokyo", 2026, 12, 1, 20))
    assert (streak.current, streak.last_completed) == (2, date(2026, 11, 30))
    # Tokyo's 2 December is the next day: the player lost a calendar date flying east (1
    # December belongs to no day of theirs), not a streak day; then every Tokyo day after it.
    streak = record(
        user, local("Asia/Tokyo", 2026, 12, 2, 0, 30), local("Asia/Tokyo", 2026, 12, 3, 9)
    )
    assert (streak.current, streak.last_completed) == (4, date(2026, 12, 3))
    assert not StreakBreak.objects.filter(streak=streak).exists()
    today = player_streaks(user_id=user.pk, now=local("Asia/Tokyo", 2026, 12, 4, 9))["daily"]
    assert today["alive"] is True  # the 4th is the day after the last counted one


def test_going_west_over_the_date_line_the_repeated_date_is_a_new_day() -> None:
    user = zoned("Pacific/Kiritimati", LONG_AGO)
    noon = local("Pacific/Kiritimati", 2026, 12, 1, 12)
    record(user, noon)
    player_timezone_set(user_id=user.pk, timezone="Pacific/Pago_Pago", now=noon)
    # Kiritimati's 1 December ends at Pago Pago's next midnight, 1 December 00:00 SST; Pago
    # Pago's 1 December is the player's next day, not a repeat of the one they had.
    streak = record(user, local("Pacific/Pago_Pago", 2026, 11, 30, 23, 30))
    assert streak.current == 1
    streak = record(user, local("Pacific/Pago_Pago", 2026, 12, 1, 0, 30))
    assert (streak.current, streak.last_completed) == (2, date(2026, 12, 2))


def test_replay_rebuilds_local_streaks_from_the_completions(settings: Any) -> None:
    from tests.rewards.helpers import mission

    user = zoned("Asia/Tokyo", LONG_AGO)
    # Completed daily missions at 23:00 and 01:00 Tokyo time on consecutive days: UTC would
    # call both the same day (14:00 and 16:00 UTC), Tokyo two.
    for instant in (local("Asia/Tokyo", 2026, 11, 27, 23), local("Asia/Tokyo", 2026, 11, 28, 1)):
        done = mission(user, at=instant)
        streak_record(user_id=user.pk, kind="daily", at=instant)
        assert done.completed_at == instant
    assert Streak.objects.get(user=user, kind="daily").current == 2
    assert streak_differences([user.pk]) == []


def test_a_restore_bridges_by_the_players_local_day_not_the_utc_one() -> None:
    from missions.errors import Conflict
    from streaks.services import streak_restore

    tokyo = zoned("Asia/Tokyo", LONG_AGO)
    streak = record(
        tokyo, local("Asia/Tokyo", 2026, 11, 20, 12), local("Asia/Tokyo", 2026, 11, 21, 12)
    )
    # 01:00 on the 23rd in Tokyo (16:00 UTC on the 22nd): the 22nd was missed in Tokyo, so the
    # lapsed streak is bridged to it; in UTC it would still be the 22nd, nothing to restore.
    streak_restore(streak_id=streak.pk, reason="outage", now=local("Asia/Tokyo", 2026, 11, 23, 1))
    streak.refresh_from_db()
    assert (streak.current, streak.last_completed) == (2, date(2026, 11, 22))

    pago = zoned("Pacific/Pago_Pago", LONG_AGO)
    zone = "Pacific/Pago_Pago"
    streak = record(pago, local(zone, 2026, 11, 20, 12), local(zone, 2026, 11, 21, 12))
    # 20:00 on the 22nd in Pago Pago (07:00 UTC on the 23rd): the streak is alive there (the
    # 21st is yesterday), though in UTC the 22nd would look missed.
    with pytest.raises(Conflict, match="is not broken"):
        streak_restore(streak_id=streak.pk, reason="outage", now=local(zone, 2026, 11, 22, 20))
    streak.refresh_from_db()
    assert (streak.current, streak.last_completed) == (2, date(2026, 11, 21))
