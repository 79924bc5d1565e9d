"""Why a remote stream is waiting, in a few lines: shared by `shardline run --remote` and `shardline stream tail`.

[`shardline.aws.RemoteStream.health`][shardline.aws.RemoteStream.health] counts every call, every retry by cause
(throttled, server errors, network errors), expired iterators and trimmed positions, and holds the time each waiting
shard is read again. A throttled reader is retried with backoff for as long as the throttling lasts ("Error handling
with DynamoDB", DynamoDB developer guide), and a reader beside two others on a shard is throttled for as long as they
read ("Reading and processing a stream": no more than two readers per shard), so a line per retry would bury everything
else. `RetryNotes` compares each look at the counters with the last one and says something only when the state changes:
the reads start waiting, the cause of the waiting changes, or the reads go on again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final, final

__all__ = ["RetryNotes", "remote_summary", "troubled"]

#: `health` counters of retried calls, and how a line names them (a count of one, of several).
_RETRIES: Final = (
    ("throttled", "throttled", "throttled"),
    ("server_errors", "server error", "server errors"),
    ("network_errors", "network error", "network errors"),
)


@final
class RetryNotes:
    """Turns successive looks at a remote stream's `health` into a line when its reads start waiting, when
    the cause changes, and when they go on again; `None` otherwise.

    The time of the next try is said as a wait (`next try in 262 ms`), or with `time_of_day` as the time
    (UTC) it comes (`next try at 10:42:07.262`): `shardline run`'s lines start with the time of day, and
    its pipeline may look a little after the failure.

    A stream waits while one of its shards has a time to be read again (`health["retrying"]`), or while the
    caller says so with `waiting_until` (a tail whose DescribeStream failed before any shard was known). A
    failed refresh of the shard list alone does not make the reads wait (the last list stands): it is counted in
    the retries of the next line and of the summary.

    Examples:
        >>> notes = RetryNotes("mapping Orders")
        >>> calm = {"calls": 1, "throttled": 0, "server_errors": 0, "network_errors": 0, "retrying": {}}
        >>> notes.update(calm, 1_000) is None
        True
        >>> throttled = {**calm, "calls": 2, "throttled": 1, "retrying": {"shardId-1": 1_262}, "last_error": "Rate"}
        >>> notes.update(throttled, 1_000)
        'mapping Orders: waiting: throttled; next try in 262 ms (last error: Rate)'
        >>> notes.update({**throttled, "calls": 3, "throttled": 2, "retrying": {"shardId-1": 1_800}}, 1_300) is None
        True
        >>> notes.update({**throttled, "calls": 4, "throttled": 2, "retrying": {}}, 1_800)
        'mapping Orders: reading again after 2 retries (2 throttled)'
    """

    def __init__(self, label: str = "", *, time_of_day: bool = False) -> None:
        self._prefix = f"{label}: " if label else ""
        self._time_of_day = time_of_day
        self._seen = dict.fromkeys((counter for counter, _, _ in _RETRIES), 0)  # the counters at the last look
        self._since: dict[str, int] | None = None  # the counters when the current wait began; None: not waiting
        self._causes: list[str] = []  # the causes named since the current wait began

    @property
    def waiting(self) -> bool:
        """Whether the last look found the reads waiting."""
        return self._since is not None

    def update(self, health: Mapping[str, Any], now_ms: int, *, waiting_until: int | None = None) -> str | None:
        """Look at `health` (a [`RemoteStream.health`][shardline.aws.RemoteStream.health]) at `now_ms` (epoch ms on the
        stream's clock): the line to show when the state changed since the last look, else `None`."""
        counts = {counter: _count(health, counter) for counter, _, _ in _RETRIES}
        new = [counter for counter, _, _ in _RETRIES if counts[counter] > self._seen[counter]]
        retrying = health.get("retrying")
        times = [when for when in retrying.values() if type(when) is int] if isinstance(retrying, Mapping) else []
        if waiting_until is not None:
            times.append(waiting_until)
        before, self._seen = self._seen, counts
        if self._since is None:
            if not times:
                return None
            self._since = before
            self._causes = new
            return f"{self._prefix}waiting: {_causes(new)}; {self._next_try(min(times), now_ms, health)}"
        if not times:
            retries = {counter: counts[counter] - self._since[counter] for counter in counts}
            self._since = None
            self._causes = []
            return f"{self._prefix}reading again after {_retries(retries)}"
        fresh = [counter for counter in new if counter not in self._causes]
        if not fresh:
            return None
        self._causes += fresh
        return f"{self._prefix}still waiting: now {_causes(fresh)}; {self._next_try(min(times), now_ms, health)}"

    def _next_try(self, at_ms: int, now_ms: int, health: Mapping[str, Any]) -> str:
        """`next try in 262 ms (last error: ...)`, or `next try at 10:42:07.262 (...)` (UTC)."""
        if self._time_of_day:
            stamp = datetime.fromtimestamp(at_ms // 1000, tz=timezone.utc).strftime("%H:%M:%S")
            when = f"at {stamp}.{at_ms % 1000:03d}"
        else:
            wait = at_ms - now_ms
            when = "now" if wait <= 0 else f"in {wait} ms" if wait < 1000 else f"in {wait / 1000:.1f} s"
        error = health.get("last_error")
        return f"next try {when}" + (f" (last error: {error})" if isinstance(error, str) and error else "")


def remote_summary(label: str, health: Mapping[str, Any]) -> str:
    """One line on a remote stream's reading, for the end of a run: the calls made, the retries by cause, the
    expired iterators renewed and the trimmed positions moved past (those only when there were some).

    Examples:
        >>> remote_summary("mapping Orders", {"calls": 40, "throttled": 3, "server_errors": 1, "network_errors": 0,
        ...                                   "expired_iterators": 0, "trimmed": 0})
        'mapping Orders: 40 calls to DynamoDB Streams, 4 retries (3 throttled, 1 server error)'
    """
    calls = _count(health, "calls")
    retries = {counter: _count(health, counter) for counter, _, _ in _RETRIES}
    total = sum(retries.values())
    text = f"{label}: " if label else ""
    text += f"{calls} call{'s' if calls != 1 else ''} to DynamoDB Streams, "
    text += _retries(retries) if total else "no retries"
    expired = _count(health, "expired_iterators")
    if expired:
        text += f", {expired} expired iterator{'s' if expired != 1 else ''} renewed"
    trimmed = _count(health, "trimmed")
    if trimmed:
        # Records past the 24-hour retention are gone: the reads went on from the oldest record kept.
        text += f", {trimmed} trimmed position{'s' if trimmed != 1 else ''} passed (records past the retention)"
    return text


def troubled(health: Mapping[str, Any]) -> bool:
    """Whether a call was retried, an iterator expired or a position was trimmed: what a tail sums up at its end.

    Examples:
        >>> troubled({"calls": 9, "throttled": 0, "expired_iterators": 1})
        True
    """
    counters = [counter for counter, _, _ in _RETRIES] + ["expired_iterators", "trimmed"]
    return any(_count(health, counter) for counter in counters)


def _count(health: Mapping[str, Any], counter: str) -> int:
    value = health.get(counter, 0)
    return value if type(value) is int else 0


def _causes(counters: list[str]) -> str:
    named = [plural for counter, _, plural in _RETRIES if counter in counters]
    return " and ".join(named) if named else "retrying"


def _retries(retries: Mapping[str, int]) -> str:
    """`5 retries (3 throttled, 2 server errors)`."""
    total = sum(retries.values())
    parts = [
        f"{retries[counter]} {one if retries[counter] == 1 else many}"
        for counter, one, many in _RETRIES
        if retries.get(counter, 0)
    ]
    return f"{total} retr{'y' if total == 1 else 'ies'} ({', '.join(parts) if parts else 'none counted'})"
