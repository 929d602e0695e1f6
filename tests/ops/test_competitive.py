"""Competitive finalisation: final ranks with ties, fewer players than tiers, tiers paid once
through the one grant path, the standings kept and shown in the player's history."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from missions.models import ActiveMission
from rewards import tasks
from rewards.models import Balance, Claim, CompetitiveStanding, LedgerEntry
from rewards.selectors import ledger_differences
from rewards.services.competitive import competitive_finalize_due, final_ranks
from tests.factories import UserFactory
from tests.missions.engine import assign, make_template, req, send

WEEK = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
END = WEEK + timedelta(days=7)
AFTER = END + timedelta(minutes=60)
TIERS = [
    {"rank_to": 1, "rewards": {"xp": 1000, "dgt": "50", "badges": ["champion"]}},
    {"rank_to": 3, "rewards": {"xp": 300, "dgt": "10"}},
    {"rank_to": 10, "rewards": {"xp": 50}},
]


def competition() -> Any:
    return make_template(
        key="weekly_top",
        type="competitive",
        period_type="weekly",
        requirements={"posts": req(target=2)},
        metadata={"reward_tiers": TIERS},
    )


def play(scores: dict[str, list[datetime]]) -> dict[str, Any]:
    users = {}
    for name, times in scores.items():
        user = UserFactory(username=name)
        assign(user.pk, WEEK)
        for when in times:
            send(user.pk, "post:created", when=when)
        users[name] = user
    return users


def t(day: int, hour: int = 12) -> datetime:
    return WEEK + timedelta(days=day, hours=hour)


def standings() -> list[tuple[str, int, int | None]]:
    return list(
        CompetitiveStanding.objects.order_by("rank", "user__username").values_list(
            "user__username", "rank", "tier_rank_to"
        )
    )


@pytest.mark.django_db
def test_ties_share_a_rank_and_each_is_paid_once() -> None:
    competition()
    users = play(
        {
            "ann": [t(0), t(1), t(2)],  # 3 posts
            # bea and cat: 2 posts each, the second at the same instant: a true tie
            "bea": [t(0, 1), t(3)],
            "cat": [t(0, 2), t(3)],
            "dan": [t(0), t(4)],  # 2 posts, reached later: rank 4
            "eve": [t(1)],  # 1 post: below the qualifying score of 2, not ranked
            "fay": [],  # no score
        }
    )
    assert competitive_finalize_due(now=AFTER - timedelta(seconds=1)).periods == 0
    report = competitive_finalize_due(now=AFTER)
    assert report.as_dict() == {"periods": 1, "ranked": 4, "paid": 4, "expired": 2}
    assert standings() == [("ann", 1, 1), ("bea", 2, 3), ("cat", 2, 3), ("dan", 4, 10)]
    assert CompetitiveStanding.objects.filter(players=4).count() == 4
    xp = dict(Balance.objects.values_list("user__username", "xp"))
    assert xp == {"ann": 1000, "bea": 300, "cat": 300, "dan": 50}
    states = dict(ActiveMission.objects.values_list("user__username", "state"))
    assert states == {
        "ann": "claimed",
        "bea": "claimed",
        "cat": "claimed",
        "dan": "claimed",
        "eve": "expired",
        "fay": "expired",
    }
    assert set(Claim.objects.values_list("source", flat=True)) == {"competitive"}
    # A re-run pays nothing and the ledger is sound.
    before = LedgerEntry.objects.count()
    assert competitive_finalize_due(now=AFTER + timedelta(hours=1)).as_dict() == {
        "periods": 0,
        "ranked": 0,
        "paid": 0,
        "expired": 0,
    }
    assert tasks.finalize_competitive(now=(AFTER + timedelta(days=1)).isoformat())["paid"] == 0
    assert LedgerEntry.objects.count() == before == 4
    assert ledger_differences() == []
    call_command("check_ledger")
    # The player's history shows the payout with the final standing.
    api = APIClient()
    api.force_authenticate(users["bea"])
    entry = api.get("/api/v1/history").json()["results"][0]
    assert entry["kind"] == "competitive"
    assert entry["standing"]["rank"] == 2 and entry["standing"]["players"] == 4
    assert entry["granted"]["xp"] == 300


@pytest.mark.django_db
def test_fewer_players_than_tiers_pays_the_top_tiers_only() -> None:
    competition()
    play({"solo": [t(0), t(1)], "duo": [t(2), t(2, 13), t(3)]})
    report = competitive_finalize_due(now=AFTER)
    assert (report.ranked, report.paid, report.expired) == (2, 2, 0)
    assert standings() == [("duo", 1, 1), ("solo", 2, 3)]
    assert dict(Balance.objects.values_list("user__username", "xp")) == {
        "duo": 1000,
        "solo": 300,
    }
    assert ledger_differences() == []


def weekly_top_paying_only_first() -> None:
    make_template(
        key="weekly_top",
        type="competitive",
        period_type="weekly",
        requirements={"posts": req(target=1)},
        metadata={"reward_tiers": [{"rank_to": 1, "rewards": {"xp": 10}}]},
    )


@pytest.mark.django_db
def test_ranks_below_every_tier_are_kept_but_not_paid() -> None:
    weekly_top_paying_only_first()
    play({"a": [t(0), t(1)], "b": [t(2)]})
    report = competitive_finalize_due(now=AFTER)
    assert (report.ranked, report.paid, report.expired) == (2, 1, 1)
    assert standings() == [("a", 1, 1), ("b", 2, None)]


@pytest.mark.django_db
def test_the_player_history_shows_a_competition_pending_then_its_final_board_paid_or_not() -> None:
    weekly_top_paying_only_first()
    users = play({"a": [t(0), t(1)], "b": [t(2)], "c": [t(3)], "outsider": []})

    def competitions(name: str) -> dict[str, Any]:
        api = APIClient()
        api.force_authenticate(users[name])
        response = api.get("/api/v1/history/competitions")
        assert response.status_code == 200
        return dict(response.json())

    # The week has ended (the real clock is past it) but nobody finalised it: pending, with
    # the rank the score holds, nothing paid.
    before = competitions("b")
    assert before["results"] == []
    assert [
        (p["status"], p["key"], p["provisional_rank"], p["players"]) for p in before["pending"]
    ] == [("pending", "weekly_top", 2, 3)]
    assert before["pending"][0]["finalises_after"].startswith("2026-11-30T01:00")

    competitive_finalize_due(now=AFTER)
    after = competitions("b")
    assert after["pending"] == []
    [row] = after["results"]
    # b ranked 2nd, below the only tier: kept on the board, not paid — and shown.
    assert (row["status"], row["rank"], row["players"], row["tier_rank_to"]) == (
        "ranked", 2, 3, None
    )  # fmt: skip
    assert row["rewards"]["xp"] == 0 and Decimal(row["rewards"]["dgt"]) == 0
    board = [(e["rank"], e["username"], e["score"], e["paid"]) for e in row["leaderboard"]]
    # c scored as much as b, but later: ranked after.
    assert board == [(1, "a", 2, True), (2, "b", 1, False), (3, "c", 1, False)]
    [won] = competitions("a")["results"]
    assert won["status"] == "paid" and won["rank"] == 1 and won["rewards"]["xp"] == 10
    # The prize's history entry carries the same final board.
    api = APIClient()
    api.force_authenticate(users["a"])
    prize = api.get("/api/v1/history?kind=competitive").json()["results"][0]
    assert [e["username"] for e in prize["standing"]["leaderboard"]] == ["a", "b", "c"]
    # A player who did not qualify has no standing, and sees nobody else's.
    assert competitions("outsider") == {**competitions("outsider"), "results": [], "pending": []}


def test_final_ranks_competition_ranking() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    later = when + timedelta(hours=1)
    entries = [
        (1, Decimal(5), when),
        (2, Decimal(7), later),
        (3, Decimal(5), when),
        (4, Decimal(5), later),
        (5, Decimal(1), None),
    ]
    assert final_ranks(entries) == [(2, 1), (1, 2), (3, 2), (4, 4), (5, 5)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_finalisers_pay_once() -> None:
    competition()
    play({f"p{i}": [t(0, i), t(1, i)] for i in range(6)})
    barrier = threading.Barrier(3)
    paid: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            paid.append(competitive_finalize_due(now=AFTER).paid)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(paid) == [0, 0, 6]
    assert LedgerEntry.objects.count() == 6
    assert ledger_differences() == []
