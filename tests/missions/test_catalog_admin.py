"""The action catalog as data, and the admin screens of the engine."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from missions.catalog import DEFAULT_ACTIONS, action_catalog
from missions.models import ActionType, ServiceKey
from missions.services.service_keys import key_hash


@pytest.mark.django_db
def test_the_migration_seeds_the_default_catalog() -> None:
    assert action_catalog() == DEFAULT_ACTIONS


@pytest.mark.django_db
def test_an_admin_edit_reaches_the_cached_catalog(admin_client: Any) -> None:
    assert "poll:voted" not in action_catalog()  # now cached
    response = admin_client.post(
        reverse("admin:missions_actiontype_add"),
        {
            "action": "poll:voted",
            "description": "",
            "fields": '{"poll_id": "int"}',
            "required": '["poll_id"]',
        },
    )
    assert response.status_code == 302
    assert action_catalog()["poll:voted"] == {"poll_id": "int"}
    entry = ActionType.objects.get(action="poll:voted")
    admin_client.post(reverse("admin:missions_actiontype_delete", args=[entry.pk]), {"post": "yes"})
    assert "poll:voted" not in action_catalog()


@pytest.mark.django_db
def test_the_admin_refuses_a_bad_catalog_entry(admin_client: Any) -> None:
    response = admin_client.post(
        reverse("admin:missions_actiontype_add"),
        {"action": "Poll Voted", "fields": '{"poll_id": "integer"}', "required": '["x"]'},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "noun:verb" in errors["action"][0]
    assert "type must be one of int, number, str, bool" in errors["fields"][0]
    assert not ActionType.objects.filter(action="Poll Voted").exists()


@pytest.mark.django_db
def test_the_admin_shows_a_new_service_key_once_and_revokes_it(admin_client: Any) -> None:
    response = admin_client.post(
        reverse("admin:missions_servicekey_add"), {"name": "wallet"}, follow=True
    )
    (shown,) = [str(m) for m in response.context["messages"] if "copy it now" in str(m)]
    raw = shown.split("'wallet': ")[1].split()[0]
    key = ServiceKey.objects.get(name="wallet")
    assert key.key_hash == key_hash(raw) and raw != key.prefix
    page = admin_client.get(reverse("admin:missions_servicekey_change", args=[key.pk]))
    assert raw not in page.content.decode()
    admin_client.post(
        reverse("admin:missions_servicekey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.django_db
def test_the_event_log_can_be_viewed_but_never_written_in_the_admin(admin_client: Any) -> None:
    from missions.models import Event
    from missions.services.ingest import events_ingest
    from tests.factories import UserFactory
    from tests.rewards.test_admin import assert_read_only

    from .engine import at, event

    user = UserFactory()
    events_ingest(events=[event(user.pk, "post:created", when=at(0, 9))], now=at(0, 9))
    logged = Event.objects.get(user=user)
    assert admin_client.get(reverse("admin:missions_event_changelist")).status_code == 200
    assert_read_only(admin_client, logged, {"action": "tip:sent", "event_id": "forged"})
    logged.refresh_from_db()
    assert (logged.action, logged.occurred_at) == ("post:created", at(0, 9))
