from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from missions.player.presentation import RING_CIRCUMFERENCE, reward_chips, ring_offset, time_left

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@given(st.integers(min_value=-50, max_value=150), st.integers(min_value=-50, max_value=150))
def test_the_ring_fills_monotonically_and_stays_on_the_circle(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert 0 <= ring_offset(high) <= ring_offset(low) <= RING_CIRCUMFERENCE
    assert ring_offset(100) == 0 and ring_offset(0) == RING_CIRCUMFERENCE


@given(st.integers(min_value=-(10**6), max_value=10**8))
def test_time_left_always_says_something_sensible(seconds: int) -> None:
    text = time_left(NOW + timedelta(seconds=seconds), NOW)
    assert text == "Ended" if seconds <= 0 else text.endswith(" left")


def test_time_left_reads_like_a_person_would_say_it() -> None:
    assert time_left(None, NOW) == "No time limit"
    assert time_left(NOW + timedelta(days=2, hours=3, minutes=5), NOW) == "2d 3h left"
    assert time_left(NOW + timedelta(hours=5, minutes=12), NOW) == "5h 12m left"
    assert time_left(NOW + timedelta(seconds=20), NOW) == "1m left"


def test_reward_chips_preview_every_kind_of_reward() -> None:
    rewards = {
        "xp": 50,
        "dgt": "10",
        "items": [{"key": "streak_freeze", "qty": 1}],
        "badges": ["wordsmith"],
        "titles": ["Scribe"],
    }
    assert reward_chips(rewards) == [
        "+50 XP",
        "+10 DGT",
        "1× streak freeze",
        "🏅 wordsmith",
        "“Scribe”",
    ]
    assert reward_chips({"xp": 0, "dgt": "0"}) == []
