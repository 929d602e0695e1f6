"""The late-event rule (SPEC: an event counts for the period it happened in, if it arrives
no later than the grace after that period ends and after the mission was assigned), at each
of its edges: first the rule itself on in-memory runs, then yesterday's and today's missions
side by side, loaded together by one batch, so the midnight boundary is really exercised."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from missions.evaluators.base import ACTIVE, EventRecord, MissionRun, in_period
from missions.services.ingest import events_ingest
from tests.factories import UserFactory

from .engine import assign, at, event, make_template, mission_of, progress_of, req

GRACE = timedelta(minutes=60)
US = timedelta(microseconds=1)
MONDAY, TUESDAY = at(0), at(1)


def run(
    *, start: datetime = MONDAY, end: datetime | None = TUESDAY, assigned: datetime = MONDAY
) -> MissionRun:
    return MissionRun(
        mission_id=1,
        user_id=1,
        template_key="t",
        mission_type="count",
        requirements={},
        metadata={},
        period_start=start,
        period_end=end,
        assigned_at=assigned,
        state=ACTIVE,
        completed_at=None,
        progress={},
    )


def record(occurred: datetime, received: datetime) -> EventRecord:
    return EventRecord(1, "e", 1, "post:created", occurred, received, {})


@pytest.mark.parametrize(
    ("occurred", "received", "assigned", "counts"),
    [
        pytest.param(MONDAY, MONDAY, MONDAY, True, id="the_first_instant_counts"),
        pytest.param(MONDAY - US, MONDAY, MONDAY - US, False, id="the_instant_before_does_not"),
        pytest.param(TUESDAY - US, TUESDAY - US, MONDAY, True, id="the_last_instant_counts"),
        pytest.param(TUESDAY, TUESDAY, MONDAY, False, id="the_end_belongs_to_the_next_period"),
        pytest.param(
            at(0, 23, 50), TUESDAY + GRACE - US, MONDAY, True, id="arriving_just_inside_the_grace"
        ),
        pytest.param(
            at(0, 23, 50), TUESDAY + GRACE, MONDAY, False, id="arriving_when_the_grace_ends"
        ),
        pytest.param(
            at(0, 9), at(0, 9), at(0, 9), True, id="arriving_at_the_instant_of_assignment"
        ),
        pytest.param(at(0, 9), at(0, 9), at(0, 9) + US, False, id="arriving_before_the_assignment"),
    ],
)
def test_the_rule_at_each_edge(
    occurred: datetime, received: datetime, assigned: datetime, counts: bool
) -> None:
    assert in_period(run(assigned=assigned), record(occurred, received), GRACE) is counts


def test_a_perpetual_mission_counts_anything_after_its_start_however_late() -> None:
    perpetual = run(end=None)
    assert in_period(perpetual, record(at(400), at(500)), GRACE)
    assert not in_period(perpetual, record(MONDAY - US, at(500)), GRACE)
    assert not in_period(run(end=None, assigned=at(2)), record(at(1), at(1)), GRACE)


# -- side by side through ingestion ------------------------------------------------------


@pytest.fixture
def two_days() -> Any:
    """A player with yesterday's (Monday's) and today's (Tuesday's) daily mission."""
    template = make_template(requirements={"posts": req(target=5)})
    user = UserFactory()
    assign(user.pk, at(0, 8))
    assign(user.pk, at(1, 0))

    def progress(day: int) -> dict[str, Any]:
        return progress_of(mission_of(user.pk, template, at(day, 12)))

    return user.pk, progress


def batch(user_id: int, *occurred: datetime, received: datetime) -> None:
    result = events_ingest(
        events=[event(user_id, "post:created", when=when) for when in occurred], now=received
    )
    assert not result.rejected, result.rejected


@pytest.mark.django_db
def test_a_batch_across_midnight_splits_between_yesterday_and_today(two_days: Any) -> None:
    user_id, progress = two_days
    # One batch spans both days, so both missions are loaded and every event meets both.
    batch(user_id, at(0, 23, 50), TUESDAY - US, TUESDAY, at(1, 0, 5), received=at(1, 0, 10))
    assert progress(0) == {"posts": 2}  # 23:50 and the last microsecond
    assert progress(1) == {"posts": 2}  # midnight itself and 00:05


@pytest.mark.django_db
def test_an_event_arriving_exactly_when_the_grace_ends_counts_for_neither_day(
    two_days: Any,
) -> None:
    user_id, progress = two_days
    batch(user_id, at(0, 23, 50), at(1, 0, 30), received=TUESDAY + GRACE)
    assert progress(0) == {"posts": 0}
    assert progress(1) == {"posts": 1}


@pytest.mark.django_db
def test_an_event_arriving_just_inside_the_grace_counts_for_its_own_day_only(
    two_days: Any,
) -> None:
    user_id, progress = two_days
    batch(user_id, at(0, 23, 50), at(1, 0, 30), received=TUESDAY + GRACE - US)
    assert progress(0) == {"posts": 1}
    assert progress(1) == {"posts": 1}
