"""Every write of the missions app goes through a function here (keyword-only, typed)."""

from .assignment import missions_assign, missions_assign_all, missions_assign_for_user
from .templates import template_upsert, templates_load

__all__ = [
    "missions_assign",
    "missions_assign_all",
    "missions_assign_for_user",
    "template_upsert",
    "templates_load",
]
