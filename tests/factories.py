from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model

from missions.models import MissionTemplate, PlayerProfile


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pass-1234")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlayerProfile

    user = factory.SubFactory(UserFactory)
    level = 1


def requirement(action: str = "post:created", target: int = 3, **extra: Any) -> dict[str, Any]:
    return {"action": action, "target": target, "label": f"Do {action} ×{target}", **extra}


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MissionTemplate

    key = factory.Sequence(lambda n: f"tmpl_{n}")
    name = factory.LazyAttribute(lambda o: o.key.replace("_", " ").title())
    category = "participation"
    type = "count"
    period_type = "daily"
    requirements = factory.LazyFunction(lambda: {"posts": requirement()})
    rewards = factory.LazyFunction(lambda: {"xp": 10, "dgt": "1"})
    weight = 100
    min_level = 1
    max_level = None
