"""Business hours: open or not at a given moment, and when people answer next, in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from core.hours import BusinessHours

SHANGHAI = BusinessHours(always=False, timezone="Asia/Shanghai", days=["mon", "tue", "wed", "thu", "fri"])


@pytest.mark.parametrize(("utc", "open_", "next_local"), [
    (datetime(2026, 11, 30, 2, 0, tzinfo=UTC), True, "2026-11-30 10:00"),  # Monday 10:00 in Shanghai
    (datetime(2026, 11, 30, 10, 30, tzinfo=UTC), False, "2026-12-01 09:00"),  # Monday 18:30: tomorrow
    (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), False, "2026-11-30 09:00"),  # Saturday: Monday
    (datetime(2026, 11, 29, 23, 30, tzinfo=UTC), False, "2026-11-30 09:00"),  # Monday 07:30: at nine
])
def test_open_and_next_opening(utc: datetime, open_: bool, next_local: str) -> None:
    assert SHANGHAI.is_open(utc) is open_
    assert SHANGHAI.next_open(utc).strftime("%Y-%m-%d %H:%M") == next_local


def test_always_is_the_default_and_bad_settings_are_refused() -> None:
    assert BusinessHours().is_open(datetime(2026, 11, 28, 3, 0, tzinfo=UTC))
    with pytest.raises(ValidationError, match="unknown time zone"):
        BusinessHours(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="later than opens"):
        BusinessHours(opens="18:00", closes="09:00")
