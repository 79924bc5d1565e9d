"""Clocks: the only place that reads the system time, and a virtual clock for tests.

Time is integer milliseconds since the Unix epoch everywhere in shardline's machinery: exact, comparable,
and what DynamoDB Streams and Lambda report (seconds are derived from it, never the other way round).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Final, Protocol, final

__all__ = ["DEFAULT_START_MS", "Clock", "SystemClock", "VirtualClock", "iso_z", "to_datetime", "to_ms"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Clock(Protocol):
    """Something that tells the time in integer milliseconds since the epoch."""

    def now_ms(self) -> int:
        """The current time in whole milliseconds since the Unix epoch."""
        ...


@final
class SystemClock:
    """The wall clock."""

    def now_ms(self) -> int:
        """The wall clock's time in whole milliseconds since the Unix epoch."""
        return time.time_ns() // 1_000_000

    def __repr__(self) -> str:
        return "SystemClock()"


#: Where a VirtualClock starts unless told otherwise: 2026-01-01T00:00:00Z, a realistic instant.
DEFAULT_START_MS: Final = 1_767_225_600_000


@final
class VirtualClock:
    """A clock that moves only when told to, in integer milliseconds, for deterministic tests.

    `start_ms` is epoch milliseconds (an aware datetime or ISO-8601 text is accepted too).

    Examples:
        >>> clock = VirtualClock("2026-11-27T06:00:00Z")
        >>> clock.advance(1500)
        >>> clock.now()
        datetime.datetime(2026, 11, 27, 6, 0, 1, 500000, tzinfo=datetime.timezone.utc)
    """

    __slots__ = ("_now",)

    def __init__(self, start_ms: int | datetime | str = DEFAULT_START_MS) -> None:
        self._now = to_ms(start_ms)

    def now_ms(self) -> int:
        """The clock's time in whole milliseconds since the Unix epoch; it changes only when advanced."""
        return self._now

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""
        return to_datetime(self._now)

    def advance(self, ms: int) -> None:
        """Move forward by `ms` milliseconds; never backwards."""
        if type(ms) is not int:
            raise TypeError(f"advance() takes whole milliseconds (an int), got {type(ms).__name__} {ms!r}")
        if ms < 0:
            raise ValueError(f"a clock cannot go backwards (advance({ms}))")
        self._now += ms

    def advance_to(self, when: datetime | str | int) -> None:
        """Move forward to `when`; a time in the past is refused."""
        target = to_ms(when)
        if target < self._now:
            raise ValueError(f"a clock cannot go backwards (to {to_datetime(target).isoformat()})")
        self._now = target

    def __repr__(self) -> str:
        return f"VirtualClock({to_datetime(self._now).isoformat()!r})"


def to_ms(when: datetime | str | int) -> int:
    """Milliseconds since the epoch of an aware datetime, an ISO-8601 text (`Z` allowed) or an int."""
    if isinstance(when, bool):
        raise TypeError("a time must be a datetime, an ISO-8601 string or milliseconds, not a bool")
    if isinstance(when, int):
        return when
    if isinstance(when, str):
        try:
            parsed = datetime.fromisoformat(when.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {when!r}") from None
        when = parsed
    if not isinstance(when, datetime):
        raise TypeError(f"a time must be a datetime, an ISO-8601 string or milliseconds, got {type(when).__name__}")
    if when.tzinfo is None:
        raise ValueError(f"a naive datetime is ambiguous; give it a time zone ({when.isoformat()})")
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def to_datetime(ms: int) -> datetime:
    """The aware UTC datetime of `ms` milliseconds since the epoch."""
    seconds, millis = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(microsecond=millis * 1000)


def iso_z(ms: int, *, millis: bool = False) -> str:
    """ISO-8601 UTC text with a `Z`, as AWS writes times: whole seconds, or milliseconds with `millis`.

    Examples:
        >>> iso_z(1_767_225_600_123), iso_z(1_767_225_600_123, millis=True)
        ('2026-01-01T00:00:00Z', '2026-01-01T00:00:00.123Z')
    """
    text = f"{to_datetime(ms - ms % 1000):%Y-%m-%dT%H:%M:%S}"
    return f"{text}.{ms % 1000:03d}Z" if millis else f"{text}Z"
