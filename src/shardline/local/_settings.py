"""An event source mapping's settings, validated with AWS's ranges and messages (CreateEventSourceMapping
in the Lambda API reference)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, final

from shardline._exceptions import ShardlineError
from shardline._filters import FilterCriteria, FilterPatternError

__all__ = ["InvalidParameterValueError", "MappingSettings", "ResourceConflictError"]


@final
class InvalidParameterValueError(ShardlineError, ValueError):
    """A mapping setting AWS would refuse (InvalidParameterValueException / ValidationException), with the
    message [CreateEventSourceMapping](https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html)
    gives."""

    __module__ = "shardline.local"


@final
class ResourceConflictError(ShardlineError):
    """A second mapping for the same function and stream (ResourceConflictException)."""

    __module__ = "shardline.local"


_STARTING_POSITIONS: Final = ("TRIM_HORIZON", "LATEST")
_RESPONSE_TYPES: Final = ("ReportBatchItemFailures",)


def _invalid(name: str, value: object, constraint: str) -> InvalidParameterValueError:
    # The wording of AWS's ValidationException for a field out of range.
    return InvalidParameterValueError(
        f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: {constraint}"
    )


def _whole(name: str, value: object, low: int, high: int) -> int:
    if type(value) is not int:
        raise _invalid(name, value, "Member must be an integer")
    if value < low:
        raise _invalid(name, value, f"Member must have value greater than or equal to {low}")
    if value > high:
        raise _invalid(name, value, f"Member must have value less than or equal to {high}")
    return value


@final
class MappingSettings:
    """The settings of one mapping, in Python names; [`as_aws`][shardline.local.MappingSettings.as_aws] gives them
    in the API's names.

    Each setting is [CreateEventSourceMapping](https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html)'s,
    checked with AWS's ranges and messages ([`InvalidParameterValueError`][shardline.local.InvalidParameterValueError]
    otherwise): `batch_size` is `BatchSize`, `maximum_retry_attempts` is `MaximumRetryAttempts` (-1: until the records
    expire), and so on.

    Examples:
        >>> MappingSettings(batch_size=10).as_aws()["BatchSize"]
        10
        >>> MappingSettings(batch_size=0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        shardline.local.InvalidParameterValueError: ...Value '0' at 'batchSize' failed to satisfy constraint...
    """

    __slots__ = (
        "batch_size",
        "bisect_batch_on_function_error",
        "enabled",
        "filter_criteria",
        "function_response_types",
        "maximum_batching_window_in_seconds",
        "maximum_record_age_in_seconds",
        "maximum_retry_attempts",
        "parallelization_factor",
        "starting_position",
        "tumbling_window_in_seconds",
    )

    def __init__(
        self,
        *,
        batch_size: int = 100,
        maximum_batching_window_in_seconds: int = 0,
        starting_position: str = "TRIM_HORIZON",
        bisect_batch_on_function_error: bool = False,
        maximum_retry_attempts: int = -1,
        maximum_record_age_in_seconds: int = -1,
        parallelization_factor: int = 1,
        tumbling_window_in_seconds: int = 0,
        function_response_types: Iterable[str] = (),
        filter_criteria: FilterCriteria | Mapping[str, Any] | None = None,
        enabled: bool = True,
    ) -> None:
        self.batch_size = _whole("batchSize", batch_size, 1, 10000)
        self.maximum_batching_window_in_seconds = _whole(
            "maximumBatchingWindowInSeconds", maximum_batching_window_in_seconds, 0, 300
        )
        if starting_position == "AT_TIMESTAMP":
            raise InvalidParameterValueError("Unsupported starting position for DynamoDB Streams: AT_TIMESTAMP")
        if starting_position not in _STARTING_POSITIONS:
            raise _invalid(
                "startingPosition", starting_position, "Member must satisfy enum value set: [TRIM_HORIZON, LATEST]"
            )
        self.starting_position = starting_position
        if type(bisect_batch_on_function_error) is not bool:
            raise _invalid("bisectBatchOnFunctionError", bisect_batch_on_function_error, "Member must be a boolean")
        self.bisect_batch_on_function_error = bisect_batch_on_function_error
        self.maximum_retry_attempts = _whole("maximumRetryAttempts", maximum_retry_attempts, -1, 10000)
        age = maximum_record_age_in_seconds
        if age != -1:
            _whole("maximumRecordAgeInSeconds", age, 60, 604800)
        self.maximum_record_age_in_seconds = _whole("maximumRecordAgeInSeconds", age, -1, 604800)
        self.parallelization_factor = _whole("parallelizationFactor", parallelization_factor, 1, 10)
        self.tumbling_window_in_seconds = _whole("tumblingWindowInSeconds", tumbling_window_in_seconds, 0, 900)
        if isinstance(function_response_types, str):
            raise _invalid(
                "functionResponseTypes",
                function_response_types,
                "Member must be a list, like [ReportBatchItemFailures]",
            )
        types = tuple(function_response_types)
        for value in types:
            if value not in _RESPONSE_TYPES:
                raise _invalid(
                    "functionResponseTypes", value, "Member must satisfy enum value set: [ReportBatchItemFailures]"
                )
        self.function_response_types = types
        if filter_criteria is None or isinstance(filter_criteria, FilterCriteria):
            self.filter_criteria = filter_criteria
        else:
            try:
                self.filter_criteria = FilterCriteria(filter_criteria)
            except FilterPatternError as exc:
                raise InvalidParameterValueError(str(exc)) from None
        if type(enabled) is not bool:
            raise _invalid("enabled", enabled, "Member must be a boolean")
        self.enabled = enabled

    @property
    def reports_item_failures(self) -> bool:
        """Whether `function_response_types` has `ReportBatchItemFailures`: Lambda then reads the function's
        partial batch response instead of treating any response as success."""
        return "ReportBatchItemFailures" in self.function_response_types

    def as_aws(self) -> dict[str, Any]:
        """The settings as `GetEventSourceMapping` reports them."""
        settings: dict[str, Any] = {
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.maximum_batching_window_in_seconds,
            "StartingPosition": self.starting_position,
            "BisectBatchOnFunctionError": self.bisect_batch_on_function_error,
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "MaximumRecordAgeInSeconds": self.maximum_record_age_in_seconds,
            "ParallelizationFactor": self.parallelization_factor,
            "TumblingWindowInSeconds": self.tumbling_window_in_seconds,
            "FunctionResponseTypes": list(self.function_response_types),
            "State": "Enabled" if self.enabled else "Disabled",
        }
        if self.filter_criteria is not None:
            settings["FilterCriteria"] = {"Filters": [{"Pattern": text} for text in self.filter_criteria.patterns]}
        return settings

    def __repr__(self) -> str:
        return f"MappingSettings({self.as_aws()})"
