"""The live leaderboard of a competitive mission."""

from __future__ import annotations

import pytest

from missions.errors import NotFound
from missions.selectors import leaderboard
from tests.factories import UserFactory

from .engine import at, make_template, req, send


def competitive() -> str:
    template = make_template(
        type="competitive",
        period_type="weekly",
        requirements={"posts": req(target=1)},
        metadata={"reward_tiers": [{"rank_to": 3, "rewards": {"xp": 100}}]},
    )
    return template.key


@pytest.mark.django_db
def test_it_ranks_by_score_then_who_reached_it_first() -> None:
    key = competitive()
    users = [UserFactory(username=f"racer{i}") for i in range(6)]
    # racer0: 3 posts; racer1 and racer2: 2 each, racer2 got there first; racer3: 1.
    plan = {0: [1, 2, 3], 1: [1, 5], 2: [1, 4], 3: [2]}
    for index, hours in plan.items():
        for hour in hours:
            send(users[index].pk, "post:created", when=at(0, hour))
    # Last week's posts are not this week's score.
    send(users[4].pk, "post:created", when=at(-1, 9), received=at(-1, 9))
    board = leaderboard(template_key=key, now=at(0, 12))
    assert [(e["rank"], e["username"], e["score"]) for e in board["entries"]] == [
        (1, "racer0", 3),
        (2, "racer2", 2),
        (3, "racer1", 2),
        (4, "racer3", 1),
    ]
    assert board["period_start"] == at(0)
    assert board["me"] is None and board["around"] == []


@pytest.mark.django_db
def test_it_shows_a_players_rank_and_neighbours_beyond_the_limit() -> None:
    key = competitive()
    users = [UserFactory(username=f"p{i}") for i in range(8)]
    for index, user in enumerate(users):
        for n in range(8 - index):  # p0 has 8 posts ... p7 has 1
            send(user.pk, "post:created", when=at(0, 1, n), event_id=f"{index}-{n}")
    board = leaderboard(template_key=key, now=at(0, 12), limit=3, around_user_id=users[5].pk)
    assert [e["username"] for e in board["entries"]] == ["p0", "p1", "p2"]
    assert board["me"] == {"rank": 6, "user_id": users[5].pk, "username": "p5", "score": 3}
    assert [e["rank"] for e in board["around"]] == [4, 5, 6, 7, 8]
    outsider = UserFactory()
    assert leaderboard(template_key=key, now=at(0, 12), around_user_id=outsider.pk)["me"] is None


@pytest.mark.django_db
def test_an_unknown_template_is_not_found() -> None:
    with pytest.raises(NotFound):
        leaderboard(template_key="nope", now=at(0))


@pytest.mark.django_db
def test_a_player_appears_once_even_on_a_template_saved_before_the_one_requirement_rule() -> None:
    from tests.factories import TemplateFactory

    # Made without the validator, as an old row would be: two requirements on one action.
    TemplateFactory(
        key="legacy_race",
        type="competitive",
        period_type="weekly",
        requirements={"b_posts": req(target=1), "a_posts": req(target=1)},
        metadata={"reward_tiers": [{"rank_to": 1, "rewards": {"xp": 1}}]},
    )
    users = [UserFactory(username=f"l{i}") for i in range(2)]
    for user in users:
        send(user.pk, "post:created", when=at(0, 1))
    board = leaderboard(template_key="legacy_race", now=at(0, 12))
    assert sorted(e["username"] for e in board["entries"]) == ["l0", "l1"]
