"""The in-process and signal doors, validation against the catalog, completion signals and
live messages."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import TestCase
from django.utils import timezone

import missions
from missions.errors import ValidationFailed
from missions.models import ActionType, ActiveMission, Event, MissionProgress
from missions.player.live import presence_join, user_group
from missions.services.ingest import events_ingest
from missions.signals import mission_completed, track_event
from tests.conftest import DEAD_CACHE, DEAD_CHANNEL_LAYERS
from tests.factories import UserFactory

from .engine import event, make_template, req


def quality_template() -> Any:
    return make_template(
        name="Quality Poster",
        category="content",
        period_type="perpetual",
        requirements={"posts": req(target=2, where={"content_length": {"gte": 100}})},
        rewards={"xp": 50, "dgt": "10"},
    )


class TrackTests(TestCase):
    def setUp(self) -> None:
        self.template = quality_template()
        self.user = UserFactory()

    def progress(self) -> MissionProgress:
        return MissionProgress.objects.get(user=self.user, mission__template=self.template)

    def test_it_accepts_a_user_or_a_user_id_and_assigns_lazily(self) -> None:
        assert not ActiveMission.objects.filter(user=self.user).exists()
        assert missions.track(self.user, "post:created", {"content_length": 120}) == "accepted"
        assert missions.track(self.user.pk, "post:created", {"content_length": 130}) == "accepted"
        progress = self.progress()
        assert progress.current == 2 and progress.done_at is not None
        assert Event.objects.filter(user=self.user).count() == 2

    def test_it_counts_a_repeated_id_once(self) -> None:
        for _ in range(3):
            missions.track(self.user, "post:created", {"content_length": 120}, event_id="p-1")
        assert missions.track(self.user, "post:created", event_id="p-1") == "duplicate"
        assert self.progress().current == 1
        assert Event.objects.filter(event_id="p-1").count() == 1

    def test_it_rejects_an_unknown_action_and_keeps_nothing(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            missions.track(self.user, "post:deleted", {})
        assert "not in the action catalog" in caught.value.errors["action"][0]
        assert not Event.objects.exists()

    def test_it_rejects_a_field_of_the_wrong_type_naming_the_field(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            missions.track(self.user, "post:created", {"content_length": "long"})
        assert caught.value.errors == {"data.content_length": ["must be a whole number, got str"]}
        assert not Event.objects.exists()

    def test_it_rejects_floats_negatives_huge_numbers_and_unknown_fields(self) -> None:
        cases = {
            "tip:sent": ({"amount": 1.5}, "data.amount", "not a float"),
            "rain:created": ({"amount": "-3"}, "data.amount", "must not be negative"),
            "shop:purchase": ({"price": "1" + "0" * 30}, "data.price", "at most"),
            "shoutbox:message": ({"lenght": 3}, "data.lenght", "known: length"),
        }
        for action, (data, path, message) in cases.items():
            with pytest.raises(ValidationFailed) as caught:
                missions.track(self.user, action, data)
            assert message in caught.value.errors[path][0], (action, caught.value.errors)
        assert not Event.objects.exists()

    def test_it_rejects_oversized_data(self) -> None:
        ActionType.objects.create(action="note:written", fields={"text": "str"})
        # Several fields of 1,000 characters: over 16 KB in total.
        ActionType.objects.filter(action="note:written").update(
            fields={f"f{i}": "str" for i in range(20)}
        )
        from missions.catalog import catalog_invalidate

        catalog_invalidate()
        with pytest.raises(ValidationFailed) as caught:
            missions.track(self.user, "note:written", {f"f{i}": "x" * 1000 for i in range(20)})
        assert "the limit is 16384" in caught.value.errors["data"][0]

    def test_a_new_catalog_action_is_usable_without_code(self) -> None:
        ActionType.objects.create(
            action="poll:voted", fields={"poll_id": "int"}, required=["poll_id"]
        )
        assert missions.track(self.user, "poll:voted", {"poll_id": 4}) == "accepted"
        with pytest.raises(ValidationFailed) as caught:
            missions.track(self.user, "poll:voted", {})
        assert caught.value.errors == {"data.poll_id": ["is required for this action"]}

    def test_it_rejects_a_naive_or_future_occurred_at(self) -> None:
        naive = timezone.now().replace(tzinfo=None)
        with pytest.raises(ValidationFailed) as caught:
            missions.track(self.user, "post:created", occurred_at=naive)
        assert "timezone" in caught.value.errors["occurred_at"][0]
        future = timezone.now() + timezone.timedelta(hours=1)
        with pytest.raises(ValidationFailed) as caught:
            missions.track(self.user, "post:created", occurred_at=future)
        assert caught.value.errors["occurred_at"] == ["is in the future"]

    def test_the_signal_door_ingests_like_track(self) -> None:
        # How a forum wires post_save of its Post model (docs/events.md).
        track_event.send(
            sender=object,
            user=self.user,
            action="post:created",
            data={"content_length": 300},
            event_id="forum-post-1",
        )
        track_event.send(
            sender=object,
            user=self.user,
            action="post:created",
            data={"content_length": 300},
            event_id="forum-post-1",
        )
        assert self.progress().current == 1

    def test_completion_fires_the_signal_once_after_commit(self) -> None:
        received: list[ActiveMission] = []

        def on_completed(sender: Any, mission: ActiveMission, **kwargs: Any) -> None:
            received.append(mission)

        mission_completed.connect(on_completed)
        try:
            with self.captureOnCommitCallbacks(execute=True):
                missions.track(self.user, "post:created", {"content_length": 120})
            assert received == []
            with self.captureOnCommitCallbacks(execute=True):
                missions.track(self.user, "post:created", {"content_length": 120})
                assert received == []  # not before the commit
            with self.captureOnCommitCallbacks(execute=True):
                missions.track(self.user, "post:created", {"content_length": 120})
        finally:
            mission_completed.disconnect(on_completed)
        assert len(received) == 1
        mission = received[0]
        assert mission.state == "completed" and mission.template_id == self.template.pk
        stored = ActiveMission.objects.get(pk=mission.pk)
        assert stored.completed_at == Event.objects.order_by("id")[1].occurred_at

    def test_a_failing_completion_receiver_neither_fails_the_event_nor_stops_others(self) -> None:
        received: list[int] = []

        def broken(sender: Any, mission: ActiveMission, **kwargs: Any) -> None:
            raise RuntimeError("receiver bug")

        def healthy(sender: Any, mission: ActiveMission, **kwargs: Any) -> None:
            received.append(mission.pk)

        mission_completed.connect(broken)
        mission_completed.connect(healthy)
        try:
            with (
                self.assertLogs("missions.services.progress", "ERROR") as logs,
                self.captureOnCommitCallbacks(execute=True),
            ):
                missions.track(self.user, "post:created", {"content_length": 120})
                missions.track(self.user, "post:created", {"content_length": 120})
        finally:
            mission_completed.disconnect(broken)
            mission_completed.disconnect(healthy)
        mission = ActiveMission.objects.get(user=self.user, template=self.template)
        assert mission.state == "completed" and received == [mission.pk]
        assert "receiver bug" in "\n".join(logs.output)

    def test_it_pushes_progress_and_completion_to_that_user_only(self) -> None:
        layer = get_channel_layer()
        mine = async_to_sync(layer.new_channel)()
        theirs = async_to_sync(layer.new_channel)()
        other = UserFactory()
        async_to_sync(layer.group_add)(user_group(self.user.pk), mine)
        async_to_sync(layer.group_add)(user_group(other.pk), theirs)
        presence_join(self.user.pk)  # as the consumer does for an open socket
        presence_join(other.pk)
        with self.captureOnCommitCallbacks(execute=True):
            missions.track(self.user, "post:created", {"content_length": 120})
            missions.track(self.user, "post:created", {"content_length": 120})

        async def drain(channel: str, count: int) -> list[dict[str, Any]]:
            # One layer message per batch and user, holding that batch's messages in order.
            got: list[dict[str, Any]] = []
            while len(got) < count:
                got.extend((await layer.receive(channel))["messages"])
            return got

        async def nothing_for(channel: str) -> bool:
            try:
                await asyncio.wait_for(layer.receive(channel), timeout=0.2)
            except TimeoutError:
                return True
            return False

        messages = async_to_sync(drain)(mine, 3)
        assert async_to_sync(nothing_for)(theirs)
        mission_id = ActiveMission.objects.get(user=self.user).pk
        assert messages[0] == {
            "type": "mission:progress",
            "missionId": mission_id,
            "requirement": "posts",
            "current": 1,
            "target": 2,
            "percentage": 50,
        }
        assert messages[1]["current"] == 2 and messages[1]["percentage"] == 100
        assert messages[2] == {
            "type": "mission:complete",
            "missionId": mission_id,
            "name": "Quality Poster",
            "rewards": {"xp": 50, "dgt": "10"},
            "animation": "sparkles",
        }
        async_to_sync(layer.group_discard)(user_group(self.user.pk), mine)
        async_to_sync(layer.group_discard)(user_group(other.pk), theirs)
        assert layer.__class__.__name__ == "RedisChannelLayer"


@pytest.mark.django_db
def test_a_claimed_or_expired_mission_does_not_change_on_later_events() -> None:
    template = quality_template()
    user = UserFactory()
    missions.track(user, "post:created", {"content_length": 120})
    mission = ActiveMission.objects.get(user=user, template=template)
    for state in ("claimed", "expired"):
        ActiveMission.objects.filter(pk=mission.pk).update(state=state)
        missions.track(user, "post:created", {"content_length": 120})
        mission.refresh_from_db()
        assert mission.state == state
        assert MissionProgress.objects.get(mission=mission).current == 1


@pytest.mark.django_db
def test_an_unknown_user_is_rejected_and_the_rest_of_the_batch_kept() -> None:
    quality_template()
    user = UserFactory()
    now = timezone.now()
    result = events_ingest(
        events=[
            event(user.pk, "post:created", {"content_length": 120}, when=now),
            event(999_999, "post:created", {}, when=now, event_id="ghost"),
        ],
        now=now,
    )
    assert result.accepted == 1
    assert [r.as_dict() for r in result.rejected] == [
        {"index": 1, "id": "ghost", "errors": {"user_id": ["no such user"]}}
    ]


@pytest.mark.django_db
def test_no_accepted_event_is_lost_while_redis_is_down(
    django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Cache and channel layer both on a dead Redis; the after-commit pushes run too."""
    from django.test import override_settings

    from config.redis_guard import reset_breakers
    from missions.services.replay import replay_users

    reset_breakers()  # an earlier test may have left this dead address's breaker open
    template = quality_template()
    user = UserFactory()
    with override_settings(CACHES=DEAD_CACHE, CHANNEL_LAYERS=DEAD_CHANNEL_LAYERS):
        for n in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                outcome = missions.track(
                    user, "post:created", {"content_length": 120}, event_id=f"r{n}"
                )
            assert outcome == "accepted"
    progress = MissionProgress.objects.get(user=user, mission__template=template)
    assert progress.current == 2 and Event.objects.filter(user=user).count() == 3
    assert replay_users(user_ids=[user.pk]).differences == []
    # The progress pushes were attempted and failed without undoing anything: the channel
    # layer's breaker logged the outage once (or a push failure was logged).
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        ("live message" in m and "failed" in m) or ("unavailable" in m and "failing fast" in m)
        for m in messages
    ), messages


@pytest.mark.django_db
def test_an_old_event_assigns_the_current_periods_not_missions_in_the_past() -> None:
    from .engine import at

    make_template(requirements={"posts": req(target=3)})  # daily
    user = UserFactory()
    result = events_ingest(events=[event(user.pk, "post:created", when=at(0, 9))], now=at(3, 12))
    assert result.accepted == 1
    starts = list(ActiveMission.objects.filter(user=user).values_list("period_start", flat=True))
    assert starts == [at(3)]
    assert MissionProgress.objects.get(user=user).current == 0


@pytest.mark.django_db
def test_the_first_and_the_last_possible_user_ids_are_players_like_any_other() -> None:
    from missions.services.ingest import MAX_USER_ID

    quality_template()
    first, last = UserFactory(id=1), UserFactory(id=MAX_USER_ID)
    now = timezone.now()
    result = events_ingest(
        events=[
            event(first.pk, "post:created", {"content_length": 120}, when=now),
            event(last.pk, "post:created", {"content_length": 120}, when=now),
            event(MAX_USER_ID + 1, "post:created", {}, when=now, event_id="too-big"),
        ],
        now=now,
    )
    assert (result.accepted, [r.as_dict() for r in result.rejected]) == (
        2,
        [{"index": 2, "id": "too-big", "errors": {"user_id": ["no such user"]}}],
    )
    assert Event.objects.filter(user_id__in=[1, MAX_USER_ID]).count() == 2
