"""Quota periods in UTC: DAY from midnight, WEEK from the offset weekday (0 Sunday), MONTH from day offset+1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway_runtime.limits import Quota, parse_quota, period_bounds, period_start

WEDNESDAY = datetime(2024, 1, 3, 15, 30, tzinfo=UTC)


def _day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_a_day_starts_at_midnight_utc() -> None:
    assert period_start("DAY", 0, WEDNESDAY) == _day(2024, 1, 3)


@pytest.mark.parametrize(
    ("offset", "start"),
    [
        (0, _day(2023, 12, 31)),  # Sunday
        (1, _day(2024, 1, 1)),  # Monday
        (3, _day(2024, 1, 3)),  # Wednesday: today
        (4, _day(2023, 12, 28)),  # Thursday: last week's
        (6, _day(2023, 12, 30)),  # Saturday
    ],
)
def test_a_week_starts_on_the_offset_weekday_counted_from_sunday(offset: int, start: datetime) -> None:
    assert period_start("WEEK", offset, WEDNESDAY) == start


@pytest.mark.parametrize(
    ("offset", "start"),
    [(0, _day(2024, 1, 1)), (2, _day(2024, 1, 3)), (4, _day(2023, 12, 5)), (27, _day(2023, 12, 28))],
)
def test_a_month_starts_on_day_offset_plus_one(offset: int, start: datetime) -> None:
    assert period_start("MONTH", offset, WEDNESDAY) == start


def test_bounds_are_the_previous_current_next_and_following_period_starts() -> None:
    bounds = period_bounds(Quota(limit=10, period="MONTH", offset=4), WEDNESDAY.timestamp())

    assert [datetime.fromtimestamp(bound, UTC) for bound in bounds] == [
        _day(2023, 11, 5),
        _day(2023, 12, 5),
        _day(2024, 1, 5),
        _day(2024, 2, 5),
    ]


def test_bounds_move_on_when_the_period_does() -> None:
    quota = Quota(limit=10, period="DAY", offset=0)
    today = period_bounds(quota, WEDNESDAY.timestamp())

    tomorrow = period_bounds(quota, _day(2024, 1, 4).timestamp())

    assert tomorrow[1] == today[2]
    assert tomorrow[0] == today[1]


def test_a_quota_is_read_from_aws_quota_settings() -> None:
    assert parse_quota({"limit": 1000, "offset": 1, "period": "WEEK"}) == Quota(1000, "WEEK", 1)
    assert parse_quota({"limit": 5, "period": "DAY"}) == Quota(5, "DAY", 0)
    assert parse_quota({"limit": 5, "period": "YEAR"}) is None
    assert parse_quota(None) is None
