from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from missions.models import ActiveMission, MissionProgress, MissionTemplate
from missions.periods import Period, period_for
from missions.services import missions_assign, missions_assign_all, missions_assign_for_user
from missions.services.assignment import draw_seed, weighted_draw
from tests.factories import ProfileFactory, TemplateFactory, UserFactory, requirement
from tests.locks import backend_pid, wait_until_blocked_on_a_lock

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def t(key: str, weight: int) -> MissionTemplate:
    return MissionTemplate(key=key, weight=weight)


def test_the_draw_never_repeats_a_template() -> None:
    pool = [t(f"k{i}", 1 + i % 4) for i in range(12)]
    for seed in range(500):
        drawn = weighted_draw(pool, 5, seed)
        assert len(drawn) == 5 and len({d.key for d in drawn}) == 5


def test_the_draw_is_deterministic_in_its_seed() -> None:
    pool = [t(f"k{i}", 10 * (i + 1)) for i in range(8)]
    assert [d.key for d in weighted_draw(pool, 3, 42)] == [
        d.key for d in weighted_draw(list(reversed(pool)), 3, 42)
    ]
    period = period_for("daily", NOW)
    assert draw_seed(1, period) == draw_seed(1, period)
    assert draw_seed(1, period) != draw_seed(2, period)
    assert draw_seed(1, period) != draw_seed(1, Period("daily", period.end, None))


def test_the_draw_respects_weights_over_many_seeds() -> None:
    pool = [t("heavy", 300), t("medium", 100), t("light", 50), t("zero", 0)]
    counts = Counter(d.key for seed in range(4000) for d in weighted_draw(pool, 1, seed))
    assert counts["zero"] == 0
    # Expected shares for one pick: 300/450, 100/450, 50/450.
    assert abs(counts["heavy"] / 4000 - 2 / 3) < 0.03
    assert abs(counts["medium"] / 4000 - 2 / 9) < 0.03
    assert abs(counts["light"] / 4000 - 1 / 9) < 0.03


def test_a_draw_of_more_than_the_pool_takes_the_pool() -> None:
    assert len(weighted_draw([t("a", 1), t("b", 1)], 5, 1)) == 2


@pytest.fixture
def catalog(db: None) -> dict[str, list[MissionTemplate]]:
    return {
        "daily": [TemplateFactory(key=f"d{i}", weight=10 + i) for i in range(6)],
        "weekly": [TemplateFactory(key=f"w{i}", period_type="weekly") for i in range(4)],
        "monthly": [TemplateFactory(key=f"m{i}", period_type="monthly") for i in range(2)],
        "special": [
            TemplateFactory(
                key="s_now",
                period_type="special",
                starts_at=NOW - timedelta(days=1),
                ends_at=NOW + timedelta(days=1),
            ),
            TemplateFactory(
                key="s_later",
                period_type="special",
                starts_at=NOW + timedelta(days=1),
                ends_at=NOW + timedelta(days=2),
            ),
        ],
        "perpetual": [
            TemplateFactory(
                key="p0",
                period_type="perpetual",
                requirements={"a": requirement(), "b": requirement("tip:sent", 1)},
            )
        ],
    }


@pytest.mark.django_db
def test_a_player_gets_3_daily_2_weekly_1_monthly_and_every_special_and_perpetual(
    catalog: dict,
) -> None:
    user = UserFactory()
    created = missions_assign(user_ids=[user.pk], now=NOW)
    counts = Counter(m.period_type for m in created)
    assert counts == {"daily": 3, "weekly": 2, "monthly": 1, "special": 1, "perpetual": 1}
    special = next(m for m in created if m.period_type == "special")
    assert special.template.key == "s_now"
    assert (special.period_start, special.period_end) == (
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
    )
    weekly = next(m for m in created if m.period_type == "weekly")
    assert weekly.period_start == datetime(2026, 11, 23, tzinfo=UTC)
    perpetual = next(m for m in created if m.period_type == "perpetual")
    assert perpetual.period_end is None
    assert MissionProgress.objects.filter(mission=perpetual).count() == 2
    assert MissionProgress.objects.filter(user=user).count() == 9


@pytest.mark.django_db
def test_re_running_is_a_no_op(catalog: dict) -> None:
    users = [UserFactory().pk for _ in range(5)]
    first = missions_assign(user_ids=users, now=NOW)
    before = set(ActiveMission.objects.values_list("user_id", "template_id", "period_start"))
    assert missions_assign(user_ids=users, now=NOW + timedelta(hours=3)) == []
    assert (
        set(ActiveMission.objects.values_list("user_id", "template_id", "period_start")) == before
    )
    assert len(first) == len(before)


@pytest.mark.django_db
def test_the_same_user_and_period_draw_the_same_set(catalog: dict) -> None:
    user = UserFactory()
    first = {
        m.template.key
        for m in missions_assign(user_ids=[user.pk], now=NOW)
        if m.period_type == "daily"
    }
    ActiveMission.objects.all().delete()
    again = {
        m.template.key
        for m in missions_assign(user_ids=[user.pk], now=NOW + timedelta(hours=5))
        if m.period_type == "daily"
    }
    assert first == again
    tomorrow = {
        m.template.key
        for m in missions_assign(user_ids=[user.pk], now=NOW + timedelta(days=1))
        if m.period_type == "daily"
    }
    assert len(tomorrow) == 3


@pytest.mark.django_db
def test_level_gated_templates_are_not_drawn(catalog: dict) -> None:
    high = TemplateFactory(key="d_high", min_level=50, weight=1_000_000)
    capped = TemplateFactory(key="d_capped", max_level=2, weight=1_000_000)
    veteran = ProfileFactory(level=60).user
    rookie = ProfileFactory(level=1).user
    missions_assign(user_ids=[veteran.pk, rookie.pk], now=NOW)
    assert ActiveMission.objects.filter(user=veteran, template=high).exists()
    assert not ActiveMission.objects.filter(user=veteran, template=capped).exists()
    assert ActiveMission.objects.filter(user=rookie, template=capped).exists()
    assert not ActiveMission.objects.filter(user=rookie, template=high).exists()


@pytest.mark.django_db
def test_assigning_1000_users_runs_in_a_fixed_number_of_queries(catalog: dict) -> None:
    TemplateFactory(
        key="gated",
        prerequisites={"missions_completed": ["d0"], "badges": ["vip"], "min_streak": 2},
    )
    TemplateFactory(key="cool", cooldown_hours=24)
    User = get_user_model()
    User.objects.bulk_create([User(username=f"bulk{i}") for i in range(1000)])
    ids = list(User.objects.values_list("pk", flat=True))
    few = ids[:10]
    with CaptureQueriesContext(connection) as small:
        missions_assign(user_ids=few, now=NOW)
    with CaptureQueriesContext(connection) as large:
        missions_assign(user_ids=ids[10:], now=NOW)
    assert len(large) == len(small)
    assert len(large) == 12  # 11 + the running experiments (analytics' exclusion source)
    assert ActiveMission.objects.count() == 1000 * 8


@pytest.mark.django_db
def test_assign_all_walks_every_active_user_in_chunks(catalog: dict) -> None:
    users = [UserFactory() for _ in range(7)]
    inactive = UserFactory(is_active=False)
    chunks: list[int] = []
    total = missions_assign_all(now=NOW, chunk_size=3, on_chunk=lambda n, _c: chunks.append(n))
    assert chunks == [3, 3, 1]
    assert total == 7 * 8
    assert not ActiveMission.objects.filter(user=inactive).exists()
    assert all(ActiveMission.objects.filter(user=u).count() == 8 for u in users)


@pytest.mark.django_db
def test_lazy_assignment_on_first_access_then_cached(catalog: dict) -> None:
    user = UserFactory()
    assert len(missions_assign_for_user(user_id=user.pk, now=NOW)) == 8
    with CaptureQueriesContext(connection) as queries:
        assert missions_assign_for_user(user_id=user.pk, now=NOW) == []
    assert len(queries) == 0  # the Redis cache answers


@pytest.mark.django_db
def test_template_targets_are_snapshotted_into_progress(catalog: dict) -> None:
    user = UserFactory()
    missions_assign(user_ids=[user.pk], now=NOW)
    progress = MissionProgress.objects.filter(user=user, mission__template__key="p0").order_by(
        "requirement_key"
    )
    assert [(p.requirement_key, p.action, int(p.target), int(p.current)) for p in progress] == [
        ("a", "post:created", 3, 0),
        ("b", "tip:sent", 1, 0),
    ]


@pytest.mark.django_db
def test_the_orm_path_for_sqlite_writes_the_same_rows_as_the_sql_path(
    catalog: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from missions.services import assignment

    sql_user, orm_user = UserFactory(), UserFactory()
    via_sql = missions_assign(user_ids=[sql_user.pk], now=NOW)
    monkeypatch.setattr(assignment, "_insert_sql", assignment._insert_orm)
    via_orm = missions_assign(user_ids=[orm_user.pk], now=NOW)

    def shape(user_id: int) -> list[tuple]:
        return sorted(
            MissionProgress.objects.filter(user_id=user_id).values_list(
                "mission__template__key",
                "mission__period_start",
                "mission__period_end",
                "mission__state",
                "requirement_key",
                "action",
                "current",
                "target",
            )
        )

    assert len(via_sql) == len(via_orm) == 8
    assert all(m.pk for m in via_sql + via_orm)
    # Different users draw differently; compare the non-drawn missions and the row shapes.
    fixed = lambda rows: [r for r in rows if r[0] in ("s_now", "p0")]  # noqa: E731
    assert fixed(shape(sql_user.pk)) == fixed(shape(orm_user.pk))
    assert len(shape(sql_user.pk)) == len(shape(orm_user.pk)) == 9


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_concurrent_duplicate_insert_is_left_alone(catalog: dict) -> None:
    """Two assignments of the same player in two transactions: the second read no missions
    (the first had not committed), so it inserts the same ones, waits on the unique index,
    and once the first commits leaves them alone instead of failing or duplicating."""
    user = UserFactory()
    inserted, release = threading.Event(), threading.Event()
    second_pid: list[int] = []
    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                outcome["first"] = missions_assign(user_ids=[user.pk], now=NOW)
                inserted.set()
                release.wait(timeout=30)
        except Exception as exc:
            outcome["first"] = exc
        finally:
            inserted.set()
            connection.close()

    def second() -> None:
        try:
            second_pid.append(backend_pid())
            outcome["second"] = missions_assign(user_ids=[user.pk], now=NOW + timedelta(hours=1))
        except Exception as exc:
            outcome["second"] = exc
        finally:
            connection.close()

    a = threading.Thread(target=first)
    a.start()
    assert inserted.wait(timeout=30)
    b = threading.Thread(target=second)
    b.start()
    try:
        while not second_pid and b.is_alive():
            time.sleep(0.01)
        wait_until_blocked_on_a_lock(second_pid[0])
    finally:
        release.set()
        a.join()
        b.join()

    assert len(outcome["first"]) == 8, outcome
    assert outcome["second"] == [], outcome
    assert ActiveMission.objects.filter(user=user).count() == 8
    assert MissionProgress.objects.filter(user=user).count() == 9
    assert not ActiveMission.objects.filter(assigned_at=NOW + timedelta(hours=1)).exists()


@pytest.mark.django_db
def test_lazy_assignment_works_while_the_redis_cache_is_down(catalog: dict) -> None:
    from django.test import override_settings

    from tests.conftest import DEAD_CACHE

    user = UserFactory()
    with override_settings(CACHES=DEAD_CACHE):
        assert len(missions_assign_for_user(user_id=user.pk, now=NOW)) == 8
        assert missions_assign_for_user(user_id=user.pk, now=NOW) == []  # idempotent in the DB
    assert ActiveMission.objects.filter(user=user).count() == 8


@pytest.mark.django_db
def test_a_player_holding_this_periods_draw_gets_no_second_one(catalog: dict) -> None:
    user, other = UserFactory(), UserFactory()
    missions_assign(user_ids=[user.pk], now=NOW)
    # New, heavier templates of every drawn type: a fresh draw would pick them.
    for key, period_type in [("d_new", "daily"), ("w_new", "weekly"), ("m_new", "monthly")]:
        for n in range(3):
            TemplateFactory(key=f"{key}{n}", period_type=period_type, weight=10_000)
    assert missions_assign(user_ids=[user.pk], now=NOW + timedelta(hours=1)) == []
    counts = Counter(ActiveMission.objects.filter(user=user).values_list("period_type", flat=True))
    assert counts == {"daily": 3, "weekly": 2, "monthly": 1, "special": 1, "perpetual": 1}
    # Another player's missions are not this one's: the second player gets a full draw.
    assert len(missions_assign(user_ids=[other.pk], now=NOW + timedelta(hours=1))) == 8


@pytest.mark.django_db
def test_a_special_template_is_assigned_only_inside_its_window(catalog: dict) -> None:
    TemplateFactory(
        key="s_past",
        period_type="special",
        starts_at=NOW - timedelta(days=3),
        ends_at=NOW - timedelta(days=1),
    )
    TemplateFactory(
        key="s_ends_now", period_type="special", starts_at=NOW - timedelta(days=1), ends_at=NOW
    )
    user = UserFactory()
    missions_assign(user_ids=[user.pk], now=NOW)
    specials = ActiveMission.objects.filter(user=user, period_type="special")
    assert list(specials.values_list("template__key", flat=True)) == ["s_now"]


@pytest.mark.django_db
def test_lazy_assignment_is_remembered_per_player_for_an_hour_and_a_template_version(
    catalog: dict, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.cache import cache

    from missions.services.assignment import _assigned_cache_key
    from missions.services.templates import template_upsert

    alice, bob = UserFactory(), UserFactory()
    assert len(missions_assign_for_user(user_id=alice.pk, now=NOW)) == 8
    assert len(missions_assign_for_user(user_id=bob.pk, now=NOW)) == 8  # not alice's mark
    assert 3500 < cache.ttl(_assigned_cache_key(alice.pk)) <= 3600
    new_template = {
        "key": "p_new",
        "name": "New perpetual",
        "category": "social",
        "type": "count",
        "period_type": "perpetual",
        "requirements": {"r": {"action": "post:created", "target": 1, "label": "Post"}},
        "rewards": {"xp": 1},
    }
    with django_capture_on_commit_callbacks(execute=True):  # the version moves on commit
        template_upsert(data=new_template)
    # A new template version: the marks no longer hold, the new mission arrives the same day.
    created = missions_assign_for_user(user_id=alice.pk, now=NOW + timedelta(minutes=5))
    assert [m.template.key for m in created] == ["p_new"]


@pytest.mark.django_db
def test_the_orm_path_is_idempotent_too(catalog: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from missions.services import assignment

    monkeypatch.setattr(assignment, "_insert_sql", assignment._insert_orm)
    user = UserFactory()
    first = missions_assign(user_ids=[user.pk], now=NOW)
    rows = [
        assignment.NewMission(m.user_id, m.template, m.period_start, m.period_end) for m in first
    ]
    assignment._insert_orm(rows, NOW)  # the same missions again: no error, no duplicates
    assert ActiveMission.objects.filter(user=user).count() == 8
    assert MissionProgress.objects.filter(user=user).count() == 9


@pytest.mark.django_db
def test_assign_all_reports_each_chunk_and_what_it_made(catalog: dict) -> None:
    users = [UserFactory().pk for _ in range(5)]
    missions_assign(user_ids=users[:2], now=NOW)
    chunks: list[tuple[int, int]] = []
    total = missions_assign_all(now=NOW, chunk_size=2, on_chunk=lambda n, c: chunks.append((n, c)))
    assert chunks == [(2, 0), (2, 16), (1, 8)]
    assert total == 24
