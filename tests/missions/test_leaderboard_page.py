"""The leaderboard page of a competitive mission, linked from its card, which shows my rank."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from missions.services import track
from tests.factories import TemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def race() -> Any:
    return TemplateFactory(
        key="post_race",
        name="Post Race",
        type="competitive",
        period_type="weekly",
        requirements={"score": {"action": "post:created", "target": 1, "label": "Posts"}},
        metadata={"reward_tiers": [{"rank_to": 3, "rewards": {"xp": 100}}]},
    )


def _post(user: Any, n: int) -> None:
    for i in range(n):
        track(user, "post:created", {"content_length": 10}, event_id=f"{user.pk}-{i}")


def test_the_card_shows_my_rank_and_score_and_links_the_leaderboard(
    client: Client, race: Any
) -> None:
    me, rival = UserFactory(username="me"), UserFactory(username="rival")
    client.force_login(me)
    client.get("/")
    _post(rival, 3)
    _post(me, 2)
    body = client.get("/").content.decode()
    assert 'Your rank <b class="rank">#2</b> · score <b>2</b>' in body
    assert 'href="/leaderboards/post_race/"' in body
    assert 'score <span class="cur">2</span>' in body


def test_an_unranked_card_says_how_to_enter(client: Client, race: Any) -> None:
    client.force_login(UserFactory(username="me"))
    assert "Not ranked yet" in client.get("/").content.decode()


def test_the_page_shows_the_top_my_rank_the_players_around_me_and_past_results(
    client: Client, race: Any
) -> None:
    players = [UserFactory(username=f"p{i:02}") for i in range(25)]
    for index, user in enumerate(players):
        _post(user, 26 - index)  # p00 leads with 26 posts ... p24 has 2
    client.force_login(players[23])
    body = client.get("/leaderboards/post_race/").content.decode()
    assert "Top 20" in body and body.count('data-rank="') == 20 + 4
    assert 'Your rank <b class="rank">#24</b> with a score of <b class="score">3</b>' in body
    around = body.split('id="board-around"')[1].split("</ol>")[0]
    assert [f'data-rank="{r}"' in around for r in (22, 23, 24, 25)] == [True] * 4
    assert 'class="me" aria-current="true" data-rank="24"' in around
    assert "No final results yet" in body


def test_an_unknown_or_non_competitive_key_is_404(client: Client, race: Any) -> None:
    client.force_login(UserFactory())
    TemplateFactory(key="plain")
    assert client.get("/leaderboards/nope/").status_code == 404
    assert client.get("/leaderboards/plain/").status_code == 404


def test_past_periods_show_their_final_results_once_finalised(client: Client, race: Any) -> None:
    from datetime import timedelta

    from missions.services import missions_assign
    from rewards.services import competitive_finalize_due
    from tests.missions.engine import send

    then = timezone.now() - timedelta(days=14)
    me, rival = UserFactory(username="me"), UserFactory(username="rival")
    missions_assign(user_ids=[me.pk, rival.pk], now=then)
    for n, user in ((2, rival), (1, me)):
        for i in range(n):
            send(user.pk, "post:created", {"content_length": 10}, when=then, event_id=f"{user}{i}")
    competitive_finalize_due(now=timezone.now())
    client.force_login(me)
    past = client.get("/leaderboards/post_race/").content.decode().split('id="past-results"')[1]
    assert "No final results yet" not in past and "2 players ranked" in past
    assert '<span class="u">rival</span> <b class="s">2</b>' in past
    assert 'class="me"><span class="r">#2</span> <span class="u">me</span>' in past
