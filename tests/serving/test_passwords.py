"""Django's full password validator set (issue 8, defect 8: only two were on)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "too short"),
        ("password123", "too common"),
        ("8675309201734", "entirely numeric"),
        ("alice-wonderland", "too similar to the username"),
    ],
)
def test_weak_passwords_are_refused(password: str, problem: str) -> None:
    user = UserFactory.build(username="alice-wonderland")
    with pytest.raises(ValidationError) as caught:
        validate_password(password, user)
    assert problem in " ".join(caught.value.messages)


def test_a_strong_password_passes() -> None:
    validate_password("correct horse battery staple")
