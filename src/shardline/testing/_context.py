"""A Lambda context object like the one the Python runtime passes to a handler."""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from typing import Any, final

from ._clock import Clock, SystemClock

__all__ = ["LambdaContext"]


@final
class LambdaContext:
    """The `context` argument of a Lambda handler, with the attributes the Python runtime provides.

    `memory_limit_in_mb` is a string, as the runtime gives it. `get_remaining_time_in_millis()` counts
    down from `timeout` seconds on `clock` (the system clock by default; a `VirtualClock` in tests).

    Examples:
        >>> from shardline.testing import VirtualClock
        >>> clock = VirtualClock("2026-11-27T06:00:00Z")
        >>> context = LambdaContext(function_name="orders-stream", timeout=3, clock=clock, request_id="r-1")
        >>> clock.advance(1250)
        >>> context.get_remaining_time_in_millis(), context.invoked_function_arn
        (1750, 'arn:aws:lambda:us-east-1:123456789012:function:orders-stream')
    """

    def __init__(
        self,
        *,
        function_name: str = "shardline-function",
        timeout: float = 3.0,
        memory_mb: int = 128,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        partition: str = "aws",
        request_id: str | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
        # Lambda's timeout is 1 to 900 seconds; shorter ones are allowed here so tests can run out of time fast.
        finite = not isinstance(timeout, float) or math.isfinite(timeout)
        if not finite or timeout <= 0:
            raise ValueError(f"timeout must be positive and finite (seconds), got {timeout!r}")
        if isinstance(memory_mb, bool) or not isinstance(memory_mb, int):
            raise TypeError(f"memory_mb must be an int, got {type(memory_mb).__name__}")
        rng = rng or random.Random()
        self._clock = clock or SystemClock()
        self._deadline_ms = self._clock.now_ms() + round(timeout * 1000)
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:{partition}:lambda:{region}:{account_id}:function:{function_name}"
        self.memory_limit_in_mb = str(memory_mb)
        self.aws_request_id = request_id or _uuid(rng)
        self.log_group_name = f"/aws/lambda/{function_name}"
        day = datetime.fromtimestamp(self._clock.now_ms() / 1000, tz=timezone.utc).strftime("%Y/%m/%d")
        self.log_stream_name = f"{day}/[$LATEST]{rng.getrandbits(128):032x}"
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda would stop the invoke (never negative)."""
        return max(0, self._deadline_ms - self._clock.now_ms())

    def __repr__(self) -> str:
        return f"<LambdaContext {self.function_name} request {self.aws_request_id}>"


def _uuid(rng: random.Random) -> str:
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{'89ab'[int(text[16], 16) % 4]}{text[17:20]}-{text[20:]}"
