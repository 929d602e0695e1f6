from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from missions.errors import Conflict, ValidationFailed
from missions.signals import mission_completed
from rewards.models import InventoryItem, Item
from streaks.models import Streak, StreakBreak, StreakFreezeUse, StreakRestore
from streaks.selectors import player_streaks
from streaks.services import streak_record, streak_restore
from tests.rewards.helpers import mission, player

pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, h: int = 12, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=UTC)


def daily(user: Any, *instants: datetime) -> Streak:
    for instant in instants:
        streak_record(user_id=user.pk, kind="daily", at=instant)
    return Streak.objects.get(user=user, kind="daily")


def freezes(user: Any, qty: int) -> None:
    item, _ = Item.objects.get_or_create(key="streak_freeze", defaults={"name": "Streak Freeze"})
    InventoryItem.objects.update_or_create(user=user, item=item, defaults={"qty": qty})


def held(user: Any) -> int:
    return InventoryItem.objects.get(user=user, item__key="streak_freeze").qty


def test_consecutive_utc_days_count_across_midnight() -> None:
    user = player()
    s = daily(user, at(2026, 11, 27, 23, 59), at(2026, 11, 28, 0, 0))
    assert (s.current, s.best, s.last_completed) == (2, 2, date(2026, 11, 28))


def test_two_completions_on_the_same_day_count_once() -> None:
    user = player()
    s = daily(
        user,
        at(2026, 11, 27, 0, 0),
        at(
            2026,
            11,
            27,
            23,
            59,
        ),
        at(2026, 11, 27, 8),
    )
    assert s.current == 1


def test_an_older_day_arriving_late_changes_nothing() -> None:
    user = player()
    s = daily(user, at(2026, 11, 26), at(2026, 11, 27), at(2026, 11, 25))
    assert (s.current, s.last_completed) == (2, date(2026, 11, 27))


def test_a_non_utc_instant_counts_on_its_utc_day() -> None:
    from zoneinfo import ZoneInfo

    user = player()
    # 00:30 in Berlin on the 28th is 23:30 UTC on the 27th.
    berlin = ZoneInfo("Europe/Berlin")
    s = daily(user, datetime(2026, 11, 28, 0, 30, tzinfo=berlin))
    assert s.last_completed == date(2026, 11, 27)


def test_the_streak_continues_across_month_and_year_ends() -> None:
    user = player()
    s = daily(user, at(2026, 11, 30), at(2026, 12, 1))
    assert s.current == 2
    s = daily(user, *[at(2026, 12, d) for d in range(2, 32)], at(2027, 1, 1))
    assert (s.current, s.last_completed) == (33, date(2027, 1, 1))


def test_the_streak_continues_across_a_leap_day() -> None:
    user = player()
    assert daily(user, at(2028, 2, 28), at(2028, 2, 29), at(2028, 3, 1)).current == 3


def test_a_missed_day_without_a_freeze_breaks_the_streak() -> None:
    user = player()
    s = daily(user, at(2026, 11, 24), at(2026, 11, 25), at(2026, 11, 26), at(2026, 11, 28))
    assert (s.current, s.best) == (1, 3)
    brk = StreakBreak.objects.get(streak=s)
    assert (brk.missed_from, brk.length) == (date(2026, 11, 27), 3)


def test_a_missed_day_with_a_freeze_keeps_the_streak_and_records_the_day() -> None:
    user = player()
    freezes(user, 2)
    s = daily(user, at(2026, 11, 25), at(2026, 11, 26), at(2026, 11, 28))
    assert s.current == 3
    assert list(StreakFreezeUse.objects.values_list("covered_day", flat=True)) == [
        date(2026, 11, 27)
    ]
    assert held(user) == 1
    assert not StreakBreak.objects.exists()


def test_two_missed_days_with_one_freeze_break_and_keep_the_freeze() -> None:
    user = player()
    freezes(user, 1)
    s = daily(user, at(2026, 11, 25), at(2026, 11, 26), at(2026, 11, 29))
    assert s.current == 1
    assert StreakBreak.objects.get(streak=s).missed_from == date(2026, 11, 27)
    assert not StreakFreezeUse.objects.exists()
    assert held(user) == 1


def test_two_missed_days_with_two_freezes_keep_the_streak() -> None:
    user = player()
    freezes(user, 2)
    s = daily(user, at(2026, 12, 30), at(2027, 1, 2))
    assert s.current == 2 and held(user) == 0
    assert sorted(StreakFreezeUse.objects.values_list("covered_day", flat=True)) == [
        date(2026, 12, 31),
        date(2027, 1, 1),
    ]


def test_weekly_streaks_count_iso_weeks_starting_monday() -> None:
    user = player()
    # Sunday 2026-11-29 belongs to the week of Monday 2026-11-23 (the sketch got this wrong).
    streak_record(user_id=user.pk, kind="weekly", at=at(2026, 11, 23, 0, 0))
    streak_record(user_id=user.pk, kind="weekly", at=at(2026, 11, 29, 23, 59))
    s = Streak.objects.get(user=user, kind="weekly")
    assert (s.current, s.last_completed) == (1, date(2026, 11, 23))
    streak_record(user_id=user.pk, kind="weekly", at=at(2026, 11, 30, 0, 0))
    s.refresh_from_db()
    assert (s.current, s.last_completed) == (2, date(2026, 11, 30))


def test_weekly_streaks_cross_the_year_in_iso_weeks() -> None:
    user = player()
    # ISO week 53 of 2026 starts Monday 2026-12-28; 2027-W01 starts Monday 2027-01-04.
    for instant in (at(2026, 12, 21), at(2027, 1, 1), at(2027, 1, 4)):
        streak_record(user_id=user.pk, kind="weekly", at=instant)
    s = Streak.objects.get(user=user, kind="weekly")
    assert (s.current, s.last_completed) == (3, date(2027, 1, 4))


def test_a_missed_week_breaks_the_weekly_streak_and_freezes_do_not_apply() -> None:
    user = player()
    freezes(user, 5)
    for instant in (at(2026, 11, 2), at(2026, 11, 9), at(2026, 11, 23)):
        streak_record(user_id=user.pk, kind="weekly", at=instant)
    s = Streak.objects.get(user=user, kind="weekly")
    assert (s.current, s.best) == (1, 2)
    assert StreakBreak.objects.get(streak=s).missed_from == date(2026, 11, 16)
    assert held(user) == 5


def test_the_mission_completed_signal_counts_daily_and_weekly_missions() -> None:
    user = player()
    for period_type in ("daily", "weekly", "monthly"):
        m = mission(user, period_type=period_type, at=at(2026, 11, 27, 9))
        mission_completed.send(sender=None, mission=m)
    kinds = dict(Streak.objects.filter(user=user).values_list("kind", "last_completed"))
    assert kinds == {"daily": date(2026, 11, 27), "weekly": date(2026, 11, 23)}


def test_a_restore_adds_the_lost_run_back_with_a_reason() -> None:
    user, admin = player(), player()
    s = daily(
        user, *[at(2026, 11, d) for d in (20, 21, 22, 23)], at(2026, 11, 25), at(2026, 11, 26)
    )
    assert s.current == 2
    restore = streak_restore(
        streak_id=s.pk, reason="outage on the 24th", by_user_id=admin.pk, now=at(2026, 11, 26, 13)
    )
    s.refresh_from_db()
    assert (s.current, s.best) == (6, 6)
    assert (restore.previous_current, restore.new_current, restore.reason) == (
        2,
        6,
        "outage on the 24th",
    )
    assert StreakBreak.objects.get().restored_at is not None
    with pytest.raises(Conflict):
        streak_restore(streak_id=s.pk, reason="again", now=at(2026, 11, 26, 14))
    # The restored streak keeps counting.
    assert daily(user, at(2026, 11, 27)).current == 7


def test_a_restore_bridges_a_lapsed_streak_before_its_break_is_recorded() -> None:
    user = player()
    s = daily(user, at(2026, 11, 20), at(2026, 11, 21))
    streak_restore(streak_id=s.pk, reason="outage", now=at(2026, 11, 24, 8))
    s.refresh_from_db()
    assert (s.current, s.last_completed) == (2, date(2026, 11, 23))
    assert daily(user, at(2026, 11, 24)).current == 3
    assert StreakRestore.objects.get().restored_break is None


def test_a_restore_needs_a_reason_and_changes_nothing_without_one() -> None:
    user = player()
    s = daily(user, at(2026, 11, 20), at(2026, 11, 22))
    with pytest.raises(ValidationFailed) as err:
        streak_restore(streak_id=s.pk, reason="  ")
    assert err.value.errors == {"reason": "is required"}
    s.refresh_from_db()
    assert s.current == 1 and not StreakRestore.objects.exists()


def test_player_streaks_reports_both_kinds_for_the_api() -> None:
    user = player()
    freezes(user, 1)
    daily(user, *[at(2026, 11, d) for d in range(20, 27)])
    view = player_streaks(user_id=user.pk, now=at(2026, 11, 27))
    assert view["daily"] == {
        "current": 7,
        "alive": True,
        "best": 7,
        "last_completed": "2026-11-26",
        "multiplier": "2.0",
        "freezes_available": 1,
        "recent_breaks": [],
    }
    assert view["weekly"]["current"] == 0 and view["weekly"]["last_completed"] is None
    lapsed = player_streaks(user_id=user.pk, now=at(2026, 11, 30))
    assert lapsed["daily"]["alive"] is False and lapsed["daily"]["multiplier"] == "1"


def test_a_streak_unit_rejects_naive_datetimes() -> None:
    user = player()
    with pytest.raises(ValueError):
        streak_record(user_id=user.pk, kind="daily", at=datetime(2026, 1, 1) + timedelta(0))


def test_what_streak_record_reports() -> None:
    user, other = player(), player()
    daily(other, at(2026, 11, 19))  # another player's streak is never the one updated
    first = streak_record(user_id=user.pk, kind="daily", at=at(2026, 11, 20))
    again = streak_record(user_id=user.pk, kind="daily", at=at(2026, 11, 20, 18))
    freezes(user, 2)
    frozen = streak_record(user_id=user.pk, kind="daily", at=at(2026, 11, 23))
    assert (first.counted, first.frozen_days, first.broken) == (True, [], None)
    assert (again.counted, again.frozen_days, again.broken) == (False, [], None)
    assert frozen.counted and frozen.frozen_days == [date(2026, 11, 21), date(2026, 11, 22)]
    for update in (first, again, frozen):
        assert update.streak.user_id == user.pk and update.streak.kind == "daily"
    assert again.streak.current == 1 and frozen.streak.current == 2
    assert Streak.objects.get(user=other).current == 1


def test_an_unknown_kind_is_refused_by_name() -> None:
    with pytest.raises(ValidationFailed, match="^unknown streak kind 'monthly'$") as err:
        streak_record(user_id=player().pk, kind="monthly", at=at(2026, 11, 20))
    assert err.value.errors == {"kind": "is unknown"}
    assert not Streak.objects.exists()


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_restore_without_a_reason_says_so(reason: str | None) -> None:
    s = daily(player(), at(2026, 11, 20), at(2026, 11, 22))
    with pytest.raises(ValidationFailed, match="^a restore needs a reason$"):
        streak_restore(streak_id=s.pk, reason=reason)  # type: ignore[arg-type]


def test_restoring_a_missing_or_unbroken_streak_says_which() -> None:
    from missions.errors import NotFound

    with pytest.raises(NotFound, match="^streak 999999 does not exist$"):
        streak_restore(streak_id=999999, reason="x")
    s = daily(player(), at(2026, 11, 20), at(2026, 11, 21))
    # Last completed yesterday: alive, nothing to restore (the day before yesterday would be).
    with pytest.raises(Conflict, match=f"^streak {s.pk} is not broken; nothing to restore$"):
        streak_restore(streak_id=s.pk, reason="x", now=at(2026, 11, 22, 8))


def test_a_restore_records_the_break_it_undid_and_who_did_it() -> None:
    user, admin = player(), player()
    s = daily(user, at(2026, 11, 20), at(2026, 11, 21), at(2026, 11, 23))
    restore = streak_restore(streak_id=s.pk, reason="outage", by_user_id=admin.pk)
    stored = StreakRestore.objects.get()
    assert stored.pk == restore.pk
    assert (stored.restored_break_id, stored.restored_by_id) == (
        StreakBreak.objects.get().pk,
        admin.pk,
    )
    assert StreakBreak.objects.get().restored_at is not None


def test_a_restore_adds_a_one_day_run_back() -> None:
    user = player()
    s = daily(user, at(2026, 11, 20), at(2026, 11, 22))  # missed the 21st: break from the 21st
    assert StreakBreak.objects.get().missed_from == date(2026, 11, 21)
    streak_restore(streak_id=s.pk, reason="outage", now=at(2026, 11, 22, 20))
    s.refresh_from_db()
    assert s.current == 2


def test_a_weekly_streak_lapsed_by_one_week_is_bridged_to_last_week() -> None:
    user = player()
    streak_record(user_id=user.pk, kind="weekly", at=at(2026, 11, 2))  # week of Nov 2
    s = Streak.objects.get(user=user, kind="weekly")
    # Now is the week of Nov 16: the week of Nov 9 was missed, no break recorded yet.
    streak_restore(streak_id=s.pk, reason="outage", now=at(2026, 11, 18))
    s.refresh_from_db()
    assert s.last_completed == date(2026, 11, 9)
    assert streak_record(user_id=user.pk, kind="weekly", at=at(2026, 11, 18)).streak.current == 2
