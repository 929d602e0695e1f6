from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from missions.models import ActiveMission, MissionTemplate
from missions.periods import period_for

VALID = {
    "key": "k1",
    "name": "One",
    "category": "social",
    "type": "count",
    "requirements": {"r": {"action": "post:created", "target": 2, "label": "Post twice"}},
}


def write(tmp_path: Path, payload: object) -> Path:
    path = tmp_path / "templates.json"
    path.write_text(json.dumps(payload))
    return path


@pytest.mark.django_db
def test_load_templates_creates_then_updates_by_key(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    call_command("load_templates", str(write(tmp_path, [VALID])))
    assert "1 created, 0 updated" in capsys.readouterr().out
    call_command("load_templates", str(write(tmp_path, [dict(VALID, name="Renamed")])))
    assert "0 created, 1 updated" in capsys.readouterr().out
    assert MissionTemplate.objects.get(key="k1").name == "Renamed"


@pytest.mark.django_db
def test_load_templates_is_all_or_nothing_and_names_the_bad_template(tmp_path: Path) -> None:
    bad = dict(
        VALID, key="k2", requirements={"r": {"action": "post:created", "target": -1, "label": "x"}}
    )
    with pytest.raises(CommandError) as caught:
        call_command("load_templates", str(write(tmp_path, [VALID, bad])))
    message = str(caught.value)
    assert "#1 k2" in message and "requirements.r.target" in message
    assert not MissionTemplate.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"key": "x"}', "file: must be a JSON list"),
        ("[]", "0 created"),
    ],
)
def test_load_templates_reports_bad_files(
    tmp_path: Path, content: str, expected: str, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "f.json"
    path.write_text(content)
    if expected == "0 created":
        call_command("load_templates", str(path))
        assert expected in capsys.readouterr().out
    else:
        with pytest.raises(CommandError, match=expected):
            call_command("load_templates", str(path))


@pytest.mark.django_db
def test_load_templates_refuses_repeated_keys(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="repeats the key"):
        call_command("load_templates", str(write(tmp_path, [VALID, VALID])))


def test_load_templates_missing_file() -> None:
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_templates", "/nonexistent/t.json")


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_covers_every_category_and_type(
    capsys: pytest.CaptureFixture,
) -> None:
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "admin / admin-demo-pass" in out and "player01 / player-demo-pass" in out
    templates = MissionTemplate.objects.all()
    assert templates.count() >= 20
    assert {t.category for t in templates} == {
        "participation",
        "social",
        "trading",
        "content",
        "engagement",
        "achievement",
        "special_event",
        "vip_exclusive",
    }
    assert {t.type for t in templates} == {
        "count",
        "threshold",
        "streak",
        "timebound",
        "combo",
        "unique",
        "competitive",
    }
    missions = ActiveMission.objects.count()
    call_command("seed_demo")
    assert ActiveMission.objects.count() == missions
    player = Counter(
        ActiveMission.objects.filter(user__username="player01").values_list(
            "period_type", flat=True
        )
    )
    # The assignment policy holds a week's or month's set back near its end (any real date).
    now = timezone.now()
    for period_type, count in (("daily", 3), ("weekly", 2), ("monthly", 1)):
        period = period_for(period_type, now)
        left = (period.end - now) * 100 >= (period.end - period.start) * int(
            settings.MISSIONS_MIN_REMAINING_PERCENT[period_type]
        )
        assert player[period_type] == (count if left else 0), period_type
    assert player["special"] >= 1 and player["perpetual"] >= 1


@pytest.mark.django_db
def test_assign_missions_command(capsys: pytest.CaptureFixture) -> None:
    call_command("seed_demo", players=3)
    ActiveMission.objects.all().delete()
    call_command("assign_missions", "--no-progress", "--chunk", "2")
    assert "missions assigned to 4 users" in capsys.readouterr().out
    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("assign_missions", "--at", "yesterday")
