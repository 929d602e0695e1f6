from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missions.models import PERPETUAL_START, MissionTemplate
from missions.periods import next_reset, period_for

D = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731


@pytest.mark.parametrize(
    ("instant", "monday"),
    [
        (D(2026, 11, 23, 0, 0), D(2026, 11, 23)),  # Monday 00:00
        (D(2026, 11, 24, 12), D(2026, 11, 23)),
        (D(2026, 11, 25, 12), D(2026, 11, 23)),
        (D(2026, 11, 26, 12), D(2026, 11, 23)),
        (D(2026, 11, 27, 12), D(2026, 11, 23)),
        (D(2026, 11, 28, 12), D(2026, 11, 23)),
        # Sunday belongs to the week that began the Monday before (the sketch's bug).
        (D(2026, 11, 29, 23, 59, 59, 999999), D(2026, 11, 23)),
        (D(2026, 11, 30, 0, 0), D(2026, 11, 30)),
    ],
)
def test_it_starts_weeks_on_monday_for_every_weekday(instant: datetime, monday: datetime) -> None:
    period = period_for("weekly", instant)
    assert period.start == monday
    assert period.end == monday + timedelta(days=7)
    assert period.start.weekday() == 0


def test_a_week_can_span_a_year_end() -> None:
    period = period_for("weekly", D(2027, 1, 1, 8))
    assert period.start == D(2026, 12, 28)
    assert period.end == D(2027, 1, 4)


@pytest.mark.parametrize(
    ("instant", "start", "end"),
    [
        (D(2026, 1, 31, 23, 59, 59, 999999), D(2026, 1, 1), D(2026, 2, 1)),
        (D(2026, 2, 28, 12), D(2026, 2, 1), D(2026, 3, 1)),
        (D(2028, 2, 29, 12), D(2028, 2, 1), D(2028, 3, 1)),  # leap year
        (D(2026, 12, 31, 23, 59, 59, 999999), D(2026, 12, 1), D(2027, 1, 1)),
        (D(2027, 1, 1), D(2027, 1, 1), D(2027, 2, 1)),
    ],
)
def test_months_are_calendar_months(instant: datetime, start: datetime, end: datetime) -> None:
    period = period_for("monthly", instant)
    assert (period.start, period.end) == (start, end)


def test_the_last_microsecond_belongs_to_the_period_and_the_end_does_not() -> None:
    day = period_for("daily", D(2028, 2, 29, 23, 59, 59, 999999))
    assert day.start == D(2028, 2, 29)
    assert day.contains(D(2028, 2, 29, 23, 59, 59, 999999))
    assert not day.contains(D(2028, 3, 1))
    assert period_for("daily", D(2028, 3, 1)).start == D(2028, 3, 1)


def test_daily_periods_are_utc_days_even_for_other_timezones() -> None:
    tz = datetime(2026, 11, 27, 1, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("America/New_York")
    )
    assert period_for("daily", tz).start == D(2026, 11, 27)


def test_special_periods_are_the_template_window() -> None:
    template = MissionTemplate(
        period_type="special", starts_at=D(2026, 12, 1), ends_at=D(2026, 12, 24)
    )
    period = period_for("special", D(2026, 12, 5), template)
    assert (period.start, period.end) == (D(2026, 12, 1), D(2026, 12, 24))
    with pytest.raises(ValueError, match="starts_at"):
        period_for("special", D(2026, 12, 5))


def test_perpetual_periods_never_end() -> None:
    period = period_for("perpetual", D(2031, 5, 5))
    assert period.start == PERPETUAL_START and period.end is None
    assert period.contains(D(2999, 1, 1))
    assert next_reset("perpetual", D(2031, 5, 5)) is None


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        period_for("daily", datetime(2026, 1, 1))  # noqa: DTZ001


instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(instants)
def test_each_instant_is_in_exactly_one_period_of_each_type(instant: datetime) -> None:
    for period_type in ("daily", "weekly", "monthly"):
        period = period_for(period_type, instant)
        assert period.contains(instant)
        assert period.end is not None
        # The neighbouring periods do not contain it: the instant is in exactly one.
        before = period_for(period_type, period.start - timedelta(microseconds=1))
        after = period_for(period_type, period.end)
        assert before.end == period.start and not before.contains(instant)
        assert after.start == period.end and not after.contains(instant)
        assert period_for(period_type, period.start) == period
        assert period.start.tzinfo is not None


@pytest.mark.parametrize(
    ("period_type", "instant", "reset"),
    [
        ("daily", D(2026, 11, 27, 13), D(2026, 11, 28)),
        ("daily", D(2026, 11, 27), D(2026, 11, 28)),
        ("weekly", D(2026, 11, 29, 23, 59), D(2026, 11, 30)),  # Sunday night
        ("weekly", D(2026, 11, 30), D(2026, 12, 7)),
        ("monthly", D(2026, 12, 31, 12), D(2027, 1, 1)),
        ("special", D(2026, 12, 5), None),
        ("perpetual", D(2026, 12, 5), None),
    ],
)
def test_next_reset_is_the_end_of_the_drawn_period(
    period_type: str, instant: datetime, reset: datetime | None
) -> None:
    assert next_reset(period_type, instant) == reset


@pytest.mark.parametrize("period_type", ["daily", "weekly", "monthly", "special", "perpetual"])
def test_a_period_knows_its_type(period_type: str) -> None:
    template = MissionTemplate(starts_at=D(2026, 12, 1), ends_at=D(2026, 12, 24))
    assert period_for(period_type, D(2026, 12, 5), template).period_type == period_type


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [(None, None), (D(2026, 12, 1), None), (None, D(2026, 12, 24))],
)
def test_a_special_period_needs_both_ends_of_its_window(
    starts_at: datetime | None, ends_at: datetime | None
) -> None:
    template = MissionTemplate(period_type="special", starts_at=starts_at, ends_at=ends_at)
    with pytest.raises(ValueError, match="^a special period needs a template with starts_at"):
        period_for("special", D(2026, 12, 5), template)


def test_errors_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="^naive datetime: periods need timezone-aware"):
        period_for("daily", datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="^unknown period type 'hourly'$"):
        period_for("hourly", D(2026, 1, 1))


def test_periods_do_not_depend_on_the_servers_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    # Auckland is UTC+13 in December: its local midnight is 11:00 UTC the day before.
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    time.tzset()
    try:
        assert period_for("daily", D(2026, 12, 5, 12)).start == D(2026, 12, 5)
        assert period_for("weekly", D(2026, 12, 6, 12)).start == D(2026, 11, 30)
    finally:
        monkeypatch.undo()
        time.tzset()
