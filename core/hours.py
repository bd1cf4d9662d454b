"""Business hours: when people answer. Outside them a handoff says when a person will reply.

Configured in ``channels.yaml`` (``business_hours``) and, once an admin saves them on the settings page,
read from the store; the engine asks `BusinessHours.is_open` / `next_open` with the current time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class BusinessHours(BaseModel):
    """``always: true`` (the default) means people answer around the clock."""

    model_config = ConfigDict(extra="forbid")

    always: bool = True
    timezone: str = "UTC"
    days: list[Day] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    opens: time = time(9, 0)
    closes: time = time(18, 0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Shanghai, Europe/Berlin, UTC)") from None
        return value

    @field_validator("closes")
    @classmethod
    def _after_opening(cls, value: time, info: object) -> time:
        opens = getattr(info, "data", {}).get("opens")
        if opens is not None and value <= opens:
            raise ValueError("must be later than opens")
        return value

    def is_open(self, now: datetime) -> bool:
        if self.always:
            return True
        local = now.astimezone(ZoneInfo(self.timezone))
        return DAYS[local.weekday()] in self.days and self.opens <= local.time() < self.closes

    def next_open(self, now: datetime) -> datetime:
        """When people answer next (``now`` when open), as a tz-aware time in the configured zone."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        if self.is_open(now) or not self.days:
            return local
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            start = datetime.combine(day, self.opens, tzinfo=zone)
            if DAYS[day.weekday()] in self.days and start > local:
                return start
        return local
