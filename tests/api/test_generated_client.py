"""A mobile client generated from the served /api/schema/ with openapi-python-client works out
of the box: the player flow (token, missions, one mission, claim, me, streaks, history,
leaderboard) and the service flow (events), against a real uvicorn server.

The client is generated into a temporary directory at test time, so it always matches the
schema the server serves now.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import typing
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from missions.services.service_keys import service_key_create
from tests.browser.conftest import live_server_url  # noqa: F401  (the uvicorn fixture)
from tests.factories import TemplateFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PACKAGE = "mission_api_client"


@pytest.fixture(scope="module")
def generated(live_server_url: str, tmp_path_factory: Any) -> Iterator[ModuleType]:  # noqa: F811
    generator = shutil.which("openapi-python-client") or str(
        Path(sys.executable).with_name("openapi-python-client")
    )
    workdir = tmp_path_factory.mktemp("client")
    schema = workdir / "schema.json"
    request = urllib.request.Request(
        f"{live_server_url}/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        schema.write_bytes(response.read())
    result = subprocess.run(
        [generator, "generate", "--path", str(schema), "--output-path",
         str(workdir / PACKAGE), "--meta", "none"],
        capture_output=True, text=True, timeout=300,
        # The generator formats its output with ruff, which lives beside this interpreter.
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # Every request body is JSON only: no form or multipart variants were generated.
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_the_schema_advertises_json_request_bodies_only(live_server_url: str) -> None:  # noqa: F811
    import json

    request = urllib.request.Request(
        f"{live_server_url}/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        schema = json.loads(response.read())
    bodies = {
        (path, method): sorted(op["requestBody"]["content"])
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
    }
    assert bodies
    assert all(types == ["application/json"] for types in bodies.values()), bodies


def test_a_generated_client_runs_the_player_and_service_flows(
    generated: ModuleType,
    live_server_url: str,  # noqa: F811
) -> None:
    player = UserFactory(username="mobile")
    TemplateFactory(
        key="daily_one_post",
        name="One Post",
        requirements={"posts": {"action": "post:created", "target": 1, "label": "Write a post"}},
        rewards={"xp": 40, "dgt": "2.5"},
    )
    TemplateFactory(
        key="post_race",
        name="Post Race",
        type="competitive",
        period_type="weekly",
        requirements={"score": {"action": "post:created", "target": 1, "label": "Posts"}},
        rewards={},
        metadata={"reward_tiers": [{"rank_to": 1, "rewards": {"xp": 100}}]},
    )
    _, service_key = service_key_create(name="forum")

    client_module = _module("client")
    models = _module("models")
    anonymous = client_module.Client(base_url=live_server_url, raise_on_unexpected_status=True)

    # Player: token
    token_create = _module("api.auth.auth_token_create")
    # The body's model is whatever the schema names it (the token view's input serializer).
    body_model = typing.get_type_hints(token_create.sync)["body"]
    token = token_create.sync(
        client=anonymous, body=body_model(username="mobile", password="pass-1234")
    )
    assert isinstance(token, models.AuthToken), token
    api = client_module.AuthenticatedClient(
        base_url=live_server_url, token=token.token, prefix="Token",
        raise_on_unexpected_status=True,
    )  # fmt: skip

    # Player: missions
    missions = _module("api.missions.missions_list").sync(client=api)
    assert all(isinstance(m, models.Mission) for m in missions)
    daily = next(m for m in missions if m.key == "daily_one_post")
    assert daily.status.value == "active"

    # Service: events (Bearer service key), applied before the answer
    service = client_module.AuthenticatedClient(
        base_url=live_server_url, token=service_key, prefix="Bearer",
        raise_on_unexpected_status=True,
    )  # fmt: skip
    batch = models.EventBatchRequest(
        events=[
            models.EventRequest(
                id="mobile-post-1",
                user_id=player.pk,
                action="post:created",
                data=models.EventRequestData.from_dict({"post_id": 1, "content_length": 120}),
            )
        ]
    )
    result = _module("api.events.events_ingest").sync(client=service, body=batch)
    assert isinstance(result, models.EventBatchResult), result
    assert (result.accepted, result.duplicates, result.rejected) == (1, 0, [])

    # Player: one mission, now complete
    one = _module("api.missions.missions_retrieve").sync(client=api, mission_id=daily.id)
    assert isinstance(one, models.Mission)
    assert one.status.value == "completed"

    # Player: claim
    claim = _module("api.missions.missions_claim").sync(client=api, mission_id=daily.id)
    assert isinstance(claim, models.ClaimResult), claim
    # The player's only daily mission: a perfect day, 40 XP × 1.25.
    assert claim.base_rewards.xp == 40 and claim.granted.xp == 50
    assert claim.mission.status.value == "claimed"

    # Player: me, streaks, history, leaderboard
    me = _module("api.player.me_retrieve").sync(client=api)
    assert isinstance(me, models.Me)
    assert (me.username, me.xp) == ("mobile", 50)
    streaks = _module("api.player.streaks_retrieve").sync(client=api)
    assert isinstance(streaks, models.Streaks)
    assert streaks.daily.current == 1
    history = _module("api.player.history_list").sync(client=api)
    assert history.count == 1
    assert history.results[0].xp == 50 and history.results[0].kind.value == "claim"
    board = _module("api.player.leaderboards_retrieve").sync(client=api, template_key="post_race")
    assert isinstance(board, models.Leaderboard)
    assert board.me is not None and board.me.rank == 1
