"""Every write of the missions app goes through a function here (keyword-only, typed)."""

from .assignment import missions_assign, missions_assign_all, missions_assign_for_user
from .ingest import IngestResult, events_ingest, track
from .progress import progress_apply
from .replay import replay_events, replay_users
from .service_keys import service_key_create, service_key_revoke
from .templates import template_upsert, templates_load

__all__ = [
    "IngestResult",
    "events_ingest",
    "progress_apply",
    "replay_events",
    "replay_users",
    "service_key_create",
    "service_key_revoke",
    "track",
    "missions_assign",
    "missions_assign_all",
    "missions_assign_for_user",
    "template_upsert",
    "templates_load",
]
