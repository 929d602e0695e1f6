"""Periods at the player's local midnight: DST in both hemispheres, the date line, timezone
changes (never two days in one, never a lost day), and the tiling properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from missions.periods import (
    Schedule,
    local_midnight,
    next_reset,
    period_for,
    schedule_change,
    zone_validate,
)

D = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
HOUR = timedelta(hours=1)

LA = Schedule.of("America/Los_Angeles")
SYDNEY = Schedule.of("Australia/Sydney")


def local(zone: str, *a: int) -> datetime:
    return datetime(*a, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("schedule", "zone", "day", "hours"),
    [
        # Los Angeles springs forward on 8 March 2026 and falls back on 1 November.
        (LA, "America/Los_Angeles", date(2026, 3, 8), 23),
        (LA, "America/Los_Angeles", date(2026, 11, 1), 25),
        (LA, "America/Los_Angeles", date(2026, 3, 9), 24),
        # Sydney (southern hemisphere): back on 5 April 2026, forward on 4 October.
        (SYDNEY, "Australia/Sydney", date(2026, 4, 5), 25),
        (SYDNEY, "Australia/Sydney", date(2026, 10, 4), 23),
    ],
)
def test_a_dst_day_is_one_day_from_local_midnight_to_local_midnight(
    schedule: Schedule, zone: str, day: date, hours: int
) -> None:
    noon = local(zone, day.year, day.month, day.day, 12)
    period = period_for("daily", noon, schedule=schedule)
    assert period.start == local(zone, day.year, day.month, day.day)
    assert period.start.astimezone(ZoneInfo(zone)).time().hour == 0
    assert period.end is not None and period.end.astimezone(ZoneInfo(zone)).hour == 0
    assert period.end - period.start == timedelta(hours=hours)
    assert schedule.label("daily", noon) == day
    # The last instant before the local midnight is still that day; the midnight is not.
    assert period.contains(period.end - timedelta(microseconds=1))
    assert period_for("daily", period.end, schedule=schedule).start == period.end


def test_los_angeles_weeks_and_months_start_at_local_midnight_across_dst() -> None:
    # The week of the March change: Monday 2 March 00:00 PST to Monday 9 March 00:00 PDT.
    week = period_for("weekly", local("America/Los_Angeles", 2026, 3, 8, 12), schedule=LA)
    assert week.start == D(2026, 3, 2, 8) and week.end == D(2026, 3, 9, 7)
    assert week.end - week.start == timedelta(days=7) - HOUR
    month = period_for("monthly", local("America/Los_Angeles", 2026, 11, 15), schedule=LA)
    assert month.start == D(2026, 11, 1, 7) and month.end == D(2026, 12, 1, 8)


def test_sydney_weeks_and_months_start_at_local_midnight_across_dst() -> None:
    week = period_for("weekly", local("Australia/Sydney", 2026, 10, 4, 12), schedule=SYDNEY)
    assert week.start == local("Australia/Sydney", 2026, 9, 28) == D(2026, 9, 27, 14)
    assert week.end == local("Australia/Sydney", 2026, 10, 5) == D(2026, 10, 4, 13)
    month = period_for("monthly", local("Australia/Sydney", 2026, 4, 20), schedule=SYDNEY)
    assert month.start == D(2026, 3, 31, 13) and month.end == D(2026, 4, 30, 14)


def test_the_date_line_kiritimati_and_pago_pago_live_different_dates_at_once() -> None:
    kiritimati, pago = Schedule.of("Pacific/Kiritimati"), Schedule.of("Pacific/Pago_Pago")
    instant = D(2026, 12, 1, 10, 30)  # 2 Dec 00:30 in Kiritimati (+14), 30 Nov 23:30 (-11)
    assert kiritimati.label("daily", instant) == date(2026, 12, 2)
    assert pago.label("daily", instant) == date(2026, 11, 30)
    assert period_for("daily", instant, schedule=kiritimati).start == D(2026, 12, 1, 10)
    assert period_for("daily", instant, schedule=pago).start == D(2026, 11, 30, 11)
    assert next_reset("daily", instant, schedule=pago) == D(2026, 12, 1, 11)
    auckland = Schedule.of("Pacific/Auckland")  # +13 in (southern) summer: 1 Dec 23:30
    assert period_for("daily", instant, schedule=auckland).start == D(2026, 11, 30, 11)
    assert auckland.label("daily", instant) == date(2026, 12, 1)


def test_a_skipped_midnight_starts_the_day_at_the_jump() -> None:
    # Santiago springs forward at 24:00 on 5 September 2026: 00:00 never happens, 01:00 does.
    zone = ZoneInfo("America/Santiago")
    start = local_midnight(zone, date(2026, 9, 6))
    assert start.astimezone(zone).date() == date(2026, 9, 6)
    assert (start - timedelta(microseconds=1)).astimezone(zone).date() == date(2026, 9, 5)


def test_an_unknown_zone_name_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="not an IANA timezone"):
        zone_validate("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="IANA"):
        zone_validate("")
    assert zone_validate(" Asia/Tokyo ") == "Asia/Tokyo"


# -- timezone changes -----------------------------------------------------------------------


def days(schedule: Schedule, since: datetime, count: int) -> list[tuple[datetime, datetime]]:
    out = []
    period = period_for("daily", since, schedule=schedule)
    for _ in range(count):
        assert period.end is not None
        out.append((period.start, period.end))
        period = period_for("daily", period.end, schedule=schedule)
    return out


def test_going_east_mid_day_the_day_in_progress_runs_until_the_new_midnight() -> None:
    now = D(2026, 11, 30, 20)  # 12:00 in Los Angeles, Monday 30 November
    after = schedule_change(LA, "Asia/Tokyo", now)
    today = period_for("daily", now, schedule=after)
    # Same start (no new day now), one longer day until Tokyo's next midnight.
    assert today.start == D(2026, 11, 30, 8)
    assert today.end == local("Asia/Tokyo", 2026, 12, 2) == D(2026, 12, 1, 15)
    assert [d[0] for d in days(after, now, 3)] == [
        D(2026, 11, 30, 8),
        D(2026, 12, 1, 15),
        D(2026, 12, 2, 15),
    ]
    # Labels are the local dates; the one the jump east skipped belongs to no day.
    labels = [after.label("daily", start) for start, _ in days(after, now, 3)]
    assert labels == [date(2026, 11, 30), date(2026, 12, 2), date(2026, 12, 3)]
    assert after.skipped_labels("daily") == {date(2026, 12, 1)}


def test_going_west_across_the_date_line_never_repeats_a_day() -> None:
    kiritimati = Schedule.of("Pacific/Kiritimati")
    now = D(2026, 11, 30, 20)  # 1 Dec 10:00 in Kiritimati
    after = schedule_change(kiritimati, "Pacific/Pago_Pago", now)
    got = days(after, now, 3)
    assert got[0] == (D(2026, 11, 30, 10), D(2026, 12, 1, 11))  # 25 hours, one day
    # Pago Pago's 1 December is the player's second "1 December": labelled 2 December, so
    # the streak counts it as the next day instead of a repeat (nothing is skipped).
    assert [after.label("daily", s) for s, _ in got] == [
        date(2026, 12, 1),
        date(2026, 12, 2),
        date(2026, 12, 3),
    ]
    assert after.skipped_labels("daily") == frozenset()
    # Back east, the labels return to the local dates.
    back = schedule_change(after, "Pacific/Kiritimati", got[2][0] + HOUR)
    later = days(back, got[2][0] + HOUR, 3)
    assert (
        back.label("daily", later[-1][0])
        == later[-1][0].astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    )


def test_changing_twice_before_midnight_is_one_change_and_back_cancels_it() -> None:
    now = D(2026, 11, 30, 20)
    tokyo = schedule_change(LA, "Asia/Tokyo", now)
    paris = schedule_change(tokyo, "Europe/Paris", now + HOUR)
    assert len(paris.epochs) == 2 and paris.zone == "Europe/Paris"
    assert schedule_change(tokyo, "America/Los_Angeles", now + HOUR) == LA
    assert schedule_change(LA, "America/Los_Angeles", now) is LA


def test_a_change_leaves_every_earlier_period_and_label_as_it_was() -> None:
    now = D(2026, 11, 30, 20)
    after = schedule_change(LA, "Asia/Tokyo", now)
    instant = D(2026, 10, 20, 3)  # before the month in progress
    for period_type in ("daily", "weekly", "monthly"):
        assert period_for(period_type, instant, schedule=after) == period_for(
            period_type, instant, schedule=LA
        )
    assert after.label("daily", instant) == LA.label("daily", instant)


ZONES = st.sampled_from(
    [
        "UTC",
        "America/Los_Angeles",
        "America/St_Johns",
        "America/Santiago",
        "Europe/London",
        "Asia/Tokyo",
        "Asia/Kathmandu",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Pacific/Auckland",
        "Pacific/Chatham",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "Pacific/Apia",
    ]
)
INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
PERIOD_TYPES = st.sampled_from(["daily", "weekly", "monthly"])


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Schedule, list[tuple[Schedule, datetime]]]:
    """A schedule built by up to four changes at increasing random instants, and each
    change's (schedule before it, instant)."""
    schedule = Schedule.of(draw(ZONES))
    at = draw(INSTANTS)
    changes = []
    for _ in range(draw(st.integers(0, 4))):
        at = at + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)))
        changes.append((schedule, at))
        schedule = schedule_change(schedule, draw(ZONES), at)
    return schedule, changes


@settings(max_examples=150, deadline=None)
@given(schedules(), INSTANTS, PERIOD_TYPES)
def test_the_period_containing_t_contains_t_and_periods_tile_time(
    built: tuple[Schedule, list[tuple[Schedule, datetime]]], instant: datetime, period_type: str
) -> None:
    schedule, _ = built
    period = period_for(period_type, instant, schedule=schedule)
    assert period.contains(instant)
    assert period.end is not None
    # The next period starts exactly where this one ends (no gap, no overlap), and the
    # previous one ends exactly where this one starts.
    assert period_for(period_type, period.end, schedule=schedule).start == period.end
    before = period_for(period_type, period.start - timedelta(microseconds=1), schedule=schedule)
    assert before.end == period.start
    # Consecutive periods have increasing labels, the next one unless a change east skipped
    # the dates between: a streak never repeats a day, and never misses one it could not have.
    step = {"daily": 1, "weekly": 7}.get(period_type)
    if step:
        this, following = (schedule.label(period_type, t) for t in (instant, period.end))
        between = {
            this + timedelta(days=step * n) for n in range(1, (following - this).days // step)
        }
        assert following > this
        assert between <= schedule.skipped_labels(period_type)


@settings(max_examples=150, deadline=None)
@given(ZONES, ZONES, INSTANTS, st.integers(1, 6))
def test_a_timezone_change_never_starts_two_days_in_one_and_never_loses_one(
    old: str, new: str, now: datetime, following: int
) -> None:
    assume(old != new)
    before = Schedule.of(old)
    after = schedule_change(before, new, now)
    today = period_for("daily", now, schedule=before)
    changed = period_for("daily", now, schedule=after)
    assert changed.start == today.start  # no new day starts because of the change
    assert changed.end is not None and today.end is not None
    assert today.end <= changed.end < today.end + timedelta(hours=27)  # longer, never shorter
    starts = [s for s, _ in days(after, today.start - timedelta(days=3), 6 + following)]
    # Starts next to the change are at least the old day's length apart (never a short
    # extra day), and those from the change on are the new zone's midnights.
    for previous, current in zip(starts, starts[1:], strict=False):
        assert current - previous >= timedelta(hours=23)
        if previous == today.start:
            assert current - previous >= today.end - today.start
        if current > today.start:
            assert current.astimezone(ZoneInfo(new)).time().hour == 0 or (
                current.astimezone(ZoneInfo(new)).date()
                != (current - timedelta(microseconds=1)).astimezone(ZoneInfo(new)).date()
            )
    # Where neither zone has DST, no 24-hour window holds two starts.
    fixed = {"UTC", "Asia/Tokyo", "Asia/Kathmandu", "Pacific/Kiritimati", "Pacific/Pago_Pago"}
    if {old, new} <= fixed:
        assert all(b - a >= timedelta(hours=24) for a, b in zip(starts, starts[1:], strict=False))
    # No day lost: labels of consecutive days are consecutive dates, but for dates no day
    # has (a change east skipped them), which a streak does not miss.
    labels = [after.label("daily", s) for s in starts]
    skipped = after.skipped_labels("daily")
    for a, b in zip(labels, labels[1:], strict=False):
        assert b > a
        assert all(a + timedelta(days=n) in skipped for n in range(1, (b - a).days))
    assert len(skipped) <= 2  # at most the dates of a 26-hour jump


@settings(max_examples=100, deadline=None)
@given(schedules(), PERIOD_TYPES)
def test_periods_before_a_change_never_move(
    built: tuple[Schedule, list[tuple[Schedule, datetime]]], period_type: str
) -> None:
    schedule, changes = built
    for index, (earlier, at) in enumerate(changes):
        later = changes[index + 1][0] if index + 1 < len(changes) else schedule
        # Every period that ended by the change is unchanged; the one in progress keeps its
        # start (only its end may move).
        period = period_for(period_type, at - timedelta(days=40), schedule=earlier)
        while period.end is not None and period.end <= at:
            assert period_for(period_type, period.start, schedule=later) == period
            assert later.label(period_type, period.start) == earlier.label(
                period_type, period.start
            )
            period = period_for(period_type, period.end, schedule=earlier)
        assert period_for(period_type, at, schedule=later).start == period.start
