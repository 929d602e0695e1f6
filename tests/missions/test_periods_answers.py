"""Known answers of a player's schedule that no other test pinned down: which zone governs
an instant per period type, when a change is still pending, replacing a pending change after
earlier ones, the JSON a schedule is stored as, and week labels across the date line (issue
14: each guards mutants of missions/periods.py; docs/mutation/periods.md)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from missions.periods import Epoch, Schedule, period_for, schedule_change, zone_validate

D = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)
NOW = D(2026, 11, 30, 20)  # Monday 12:00 in Los Angeles, Tuesday 05:00 in Tokyo

LA = Schedule.of("America/Los_Angeles")
# LA, then Tokyo chosen at NOW: Tokyo governs days from the end of LA's day (1 Dec 08:00 UTC;
# that day runs on to Tokyo's next midnight); weeks from Tokyo's boundary with the old end's
# date (Mon 7 Dec 00:00 JST = 6 Dec 15:00 UTC); months from LA's end of November (1 Dec 08:00
# UTC), Tokyo's 1 December (30 Nov 15:00 UTC) being already past.
TOKYO = schedule_change(LA, "Asia/Tokyo", NOW)


def test_the_change_takes_effect_per_period_type_at_these_instants() -> None:
    assert TOKYO.epochs[1].since == {
        "daily": D(2026, 12, 1, 8),
        "weekly": D(2026, 12, 6, 15),
        "monthly": D(2026, 12, 1, 8),
    }


@pytest.mark.parametrize(
    ("instant", "period_type", "zone"),
    [
        (D(2026, 12, 1, 8) - TICK, "daily", "America/Los_Angeles"),
        (D(2026, 12, 1, 8), "daily", "Asia/Tokyo"),
        (D(2026, 12, 1, 8), "weekly", "America/Los_Angeles"),  # the week has not ended yet
        (D(2026, 12, 6, 15), "weekly", "Asia/Tokyo"),
        (D(2026, 12, 1, 8) - TICK, "monthly", "America/Los_Angeles"),
        (D(2026, 12, 1, 8), "monthly", "Asia/Tokyo"),
    ],
)
def test_the_zone_governing_an_instant_depends_on_the_period_type(
    instant: datetime, period_type: str, zone: str
) -> None:
    assert TOKYO.zone_at(instant, period_type) == zone


def test_the_zone_governing_an_instant_is_the_daily_one_by_default() -> None:
    assert TOKYO.zone_at(D(2026, 12, 2)) == "Asia/Tokyo"
    assert TOKYO.zone_at(NOW) == "America/Los_Angeles"
    assert TOKYO.zone == "Asia/Tokyo"  # chosen, though not yet in effect at NOW


def test_a_change_is_pending_until_the_instant_it_takes_effect() -> None:
    since = D(2026, 12, 1, 8)
    assert TOKYO.pending_since(NOW) == since
    assert TOKYO.pending_since(since - TICK) == since
    assert TOKYO.pending_since(since) is None
    assert LA.pending_since(NOW) is None


def test_only_the_latest_of_several_changes_can_be_pending() -> None:
    # LA → Tokyo (in effect since 1 Dec) → Paris chosen on 10 Dec: pending until Tokyo's
    # day ends (11 Dec 00:00 JST = 10 Dec 15:00 UTC; that day runs on to Paris' midnight).
    chosen = D(2026, 12, 10, 3)
    paris = schedule_change(TOKYO, "Europe/Paris", chosen)
    assert [e.zone for e in paris.epochs] == ["America/Los_Angeles", "Asia/Tokyo", "Europe/Paris"]
    assert paris.pending_since(chosen) == D(2026, 12, 10, 15)
    assert period_for("daily", chosen, schedule=paris).end == D(2026, 12, 10, 23)
    # Changing again the same day replaces the pending Paris, and keeps Tokyo.
    berlin = schedule_change(paris, "Europe/Berlin", chosen + HOUR)
    assert [e.zone for e in berlin.epochs] == [
        "America/Los_Angeles",
        "Asia/Tokyo",
        "Europe/Berlin",
    ]
    assert berlin == schedule_change(TOKYO, "Europe/Berlin", chosen + HOUR)


def test_a_schedule_is_stored_as_its_epochs_and_a_single_zone_as_nothing() -> None:
    assert Schedule.of("Asia/Tokyo").as_json() == []
    assert TOKYO.as_json() == [
        {"zone": "America/Los_Angeles"},
        {
            "zone": "Asia/Tokyo",
            "daily": "2026-12-01T08:00:00+00:00",
            "weekly": "2026-12-06T15:00:00+00:00",
            "monthly": "2026-12-01T08:00:00+00:00",
        },
    ]
    assert Schedule.of("Asia/Tokyo", TOKYO.as_json()) == TOKYO


def test_a_stored_schedule_reads_back_in_utc_whatever_the_servers_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = {"zone": "Asia/Tokyo", "daily": "2026-12-01T15:00:00+00:00"}
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        epoch = Epoch.from_json(raw)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert epoch.as_json() == raw
    assert epoch.since["daily"].utcoffset() == timedelta(0)


def test_weeks_across_the_date_line_westwards_keep_consecutive_labels() -> None:
    # Kiritimati (UTC+14) → Pago Pago (UTC-11): the week in progress runs until Pago Pago's
    # Monday (7 Dec 00:00 SST = 7 Dec 11:00 UTC), the next is labelled 7 December.
    after = schedule_change(Schedule.of("Pacific/Kiritimati"), "Pacific/Pago_Pago", NOW)
    week = period_for("weekly", NOW, schedule=after)
    weeks = []
    for _ in range(3):
        assert week.end is not None
        weeks.append((week.start, week.end, after.label("weekly", week.start)))
        week = period_for("weekly", week.end, schedule=after)
    assert weeks == [
        (D(2026, 11, 29, 10), D(2026, 12, 7, 11), date(2026, 11, 30)),
        (D(2026, 12, 7, 11), D(2026, 12, 14, 11), date(2026, 12, 7)),
        (D(2026, 12, 14, 11), D(2026, 12, 21, 11), date(2026, 12, 14)),
    ]
    assert after.skipped_labels("weekly") == frozenset()


def test_back_east_across_the_date_line_skips_exactly_the_date_jumped_over() -> None:
    # Kiritimati → Pago Pago (its 1 December relabelled 2 December), then back two days
    # later: the day in progress runs to Kiritimati's 5 December, so 4 December is skipped.
    west = schedule_change(Schedule.of("Pacific/Kiritimati"), "Pacific/Pago_Pago", NOW)
    back = schedule_change(west, "Pacific/Kiritimati", D(2026, 12, 2, 12))
    day = period_for("daily", D(2026, 11, 30, 10), schedule=back)
    days = []
    for _ in range(5):
        assert day.end is not None
        days.append((day.start, back.label("daily", day.start)))
        day = period_for("daily", day.end, schedule=back)
    assert days == [
        (D(2026, 11, 30, 10), date(2026, 12, 1)),
        (D(2026, 12, 1, 11), date(2026, 12, 2)),
        (D(2026, 12, 2, 11), date(2026, 12, 3)),
        (D(2026, 12, 4, 10), date(2026, 12, 5)),
        (D(2026, 12, 5, 10), date(2026, 12, 6)),
    ]
    assert back.skipped_labels("daily") == frozenset({date(2026, 12, 4)})


@pytest.mark.parametrize(
    ("schedule", "zone", "now", "since"),
    [
        # Going west from Tokyo: the week ends at Tokyo's Monday (7 Dec 00:00 JST), which is
        # before LA's Monday; the month likewise at Tokyo's 1 January.
        (
            Schedule.of("Asia/Tokyo"),
            "America/Los_Angeles",
            NOW,
            {
                "daily": D(2026, 12, 1, 15),
                "weekly": D(2026, 12, 6, 15),
                "monthly": D(2026, 12, 31, 15),
            },
        ),
        # Chosen exactly at Tokyo's Monday midnight: no longer ahead, so the week ends at LA's.
        (
            LA,
            "Asia/Tokyo",
            D(2026, 12, 6, 15),
            {
                "daily": D(2026, 12, 7, 8),
                "weekly": D(2026, 12, 7, 8),
                "monthly": D(2026, 12, 31, 15),
            },
        ),
    ],
    ids=["west_from_tokyo", "exactly_at_the_new_zones_boundary"],
)
def test_a_change_takes_effect_at_these_instants(
    schedule: Schedule, zone: str, now: datetime, since: dict[str, datetime]
) -> None:
    assert schedule_change(schedule, zone, now).epochs[-1].since == since


def test_a_second_change_never_takes_effect_before_the_first_one() -> None:
    # LA → Honolulu on 30 Nov: days from 1 Dec, weeks only from LA's Monday (7 Dec 08:00
    # UTC). On 2 Dec → Tokyo: Tokyo's Monday (6 Dec 15:00 UTC) would come before that, so
    # Tokyo's weeks start when Honolulu's would have.
    honolulu = schedule_change(LA, "Pacific/Honolulu", NOW)
    assert honolulu.epochs[1].since["weekly"] == D(2026, 12, 7, 8)
    tokyo = schedule_change(honolulu, "Asia/Tokyo", D(2026, 12, 2, 12))
    assert tokyo.epochs[2].since == {
        "daily": D(2026, 12, 3, 10),
        "weekly": D(2026, 12, 7, 8),
        "monthly": D(2026, 12, 31, 15),
    }


def test_a_change_after_an_earlier_one_reads_the_old_end_in_the_zone_then_in_effect() -> None:
    # Tokyo's week ends Mon 14 Dec 00:00 JST (13 Dec 15:00 UTC, a Sunday in LA): Paris'
    # midnight of 14 December is later, so the week ends at Tokyo's boundary.
    paris = schedule_change(TOKYO, "Europe/Paris", D(2026, 12, 10, 3))
    assert paris.epochs[2].since == {
        "daily": D(2026, 12, 10, 15),
        "weekly": D(2026, 12, 13, 15),
        "monthly": D(2026, 12, 31, 15),
    }


@pytest.mark.parametrize("name", [42, None, "", "   "])
def test_a_zone_that_is_not_a_name_is_refused_saying_what_is_expected(name: object) -> None:
    with pytest.raises(ValueError) as caught:
        zone_validate(name)
    assert str(caught.value) == "must be an IANA timezone name such as 'Europe/Paris'"


def test_an_unknown_zone_name_is_refused_naming_it() -> None:
    with pytest.raises(ValueError) as caught:
        zone_validate(" Mars/Olympus ")
    assert (
        str(caught.value)
        == "'Mars/Olympus' is not an IANA timezone name (e.g. 'Asia/Tokyo', 'UTC')"
    )
    assert zone_validate(" Asia/Tokyo ") == "Asia/Tokyo"


def test_months_are_named_by_their_local_first_day_across_a_year_end() -> None:
    tokyo = Schedule.of("Asia/Tokyo")
    assert tokyo.label("monthly", NOW) == date(2026, 12, 1)  # already December in Tokyo
    assert LA.label("monthly", NOW) == date(2026, 11, 1)
    assert tokyo.label("monthly", D(2026, 12, 31, 15)) == date(2027, 1, 1)
    assert tokyo.label("monthly", D(2026, 12, 31, 15) - TICK) == date(2026, 12, 1)
    # After the change LA → Tokyo, the months keep their local names.
    assert TOKYO.label("monthly", D(2027, 1, 15)) == date(2027, 1, 1)
    assert TOKYO.label("monthly", D(2026, 12, 15)) == date(2026, 11, 1)  # LA's long November
    assert TOKYO.skipped_labels("monthly") == frozenset({date(2026, 12, 1)})
