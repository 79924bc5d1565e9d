"""Lambda's reading of a function's response to a stream batch.

Sources: the Lambda developer guide's success and failure conditions
(https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html), and LocalStack's AWS-validated
snapshot tests test_dynamodb_report_batch_item_success_scenarios and test_dynamodb_report_batch_item_failure_scenarios,
recorded 2025-11-25 (tests/fixtures/aws-recorded/partial-response-successes.json and partial-response-failures.json).
Those recordings cover the responses None, [], {}, batchItemFailures [] and null, and the entries with itemIdentifier
123, "" and null and with the key foo. The other shapes here ({"x": 1}, a string, an identifier not in the batch
given as a string...) are recorded nowhere: they check shardline's own reading of the guide.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from shardline._response import interpret_response, marshal_response
from shardline.testing import LambdaContext, VirtualClock

NUMBERS = ["111", "222", "333"]


@pytest.mark.parametrize("response", [None, [], {}, {"batchItemFailures": []}, {"batchItemFailures": None}, {"x": 1}])
def test_complete_success_shapes(response: Any) -> None:
    verdict = interpret_response(response, NUMBERS)
    assert (verdict.kind, verdict.checkpoint, verdict.retry) == ("success", None, 0)


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ({"batchItemFailures": [{"itemIdentifier": 123}]}, "batchItemFailures[0].itemIdentifier 123 is not a sequence"),
        (
            {"batchItemFailures": [{"itemIdentifier": "999"}]},
            "batchItemFailures[0].itemIdentifier '999' is not a sequence number",
        ),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, "batchItemFailures[0].itemIdentifier is empty"),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, "batchItemFailures[0].itemIdentifier is null"),
        ({"batchItemFailures": [{"foo": 123}]}, "batchItemFailures[0] has no itemIdentifier"),
        ({"batchItemFailures": [{"foo": None}]}, "batchItemFailures[0] has no itemIdentifier"),
        ({"batchItemFailures": ["222"]}, "batchItemFailures[0] has no itemIdentifier"),
        ({"batchItemFailures": "222"}, "batchItemFailures is a string, not an array"),
        ("ok", "the response is a string, not an object"),
        ([1], "the response is an array, not an object"),
        (3, "the response is a number, not an object"),
    ],
)
def test_complete_failure_shapes(response: Any, reason: str) -> None:
    verdict = interpret_response(response, NUMBERS)
    assert verdict.kind == "failure"
    assert verdict.reason.startswith(reason)
    assert verdict.reason.endswith("; Lambda retries the whole batch (3 records)")
    assert verdict.function_error is None  # a bad response is not a function error (functionError null)


def test_partial_checkpoints_at_the_lowest_reported_record() -> None:
    verdict = interpret_response({"batchItemFailures": [{"itemIdentifier": "333"}, {"itemIdentifier": "222"}]}, NUMBERS)
    assert (verdict.kind, verdict.checkpoint, verdict.retry, verdict.reported) == ("partial", "222", 2, ("333", "222"))


def test_reporting_the_first_record_redelivers_everything() -> None:
    verdict = interpret_response({"batchItemFailures": [{"itemIdentifier": "111"}]}, NUMBERS)
    assert verdict.kind == "partial"
    assert verdict.reason == "the first record is reported: Lambda delivers all 3 records again"


def test_function_errors_retry_the_whole_batch() -> None:
    verdict = interpret_response(None, NUMBERS, function_error="the function timed out")
    assert (verdict.kind, verdict.function_error) == ("failure", "Unhandled")
    assert verdict.reason == "the function timed out; Lambda retries the whole batch (3 records)"


def test_without_report_batch_item_failures_the_response_is_not_read() -> None:
    verdict = interpret_response(
        {"batchItemFailures": [{"itemIdentifier": ""}]}, NUMBERS, report_batch_item_failures=False
    )
    assert verdict.kind == "success"


def test_a_tumbling_window_invoke_must_return_state() -> None:
    assert interpret_response({"batchItemFailures": []}, NUMBERS, tumbling_window=True).kind == "failure"
    assert interpret_response({"state": {}}, NUMBERS, tumbling_window=True).kind == "success"


def test_lambda_context_counts_down_on_its_clock() -> None:
    clock = VirtualClock("2026-11-27T06:00:00Z")
    context = LambdaContext(function_name="f", timeout=2, clock=clock, request_id="r")
    assert context.get_remaining_time_in_millis() == 2000
    clock.advance(5000)
    assert context.get_remaining_time_in_millis() == 0
    assert context.log_stream_name.startswith("2026/11/27/[$LATEST]")
    assert context.memory_limit_in_mb == "128"
    with pytest.raises(ValueError, match=r"^timeout must be positive"):
        LambdaContext(timeout=0)


def test_virtual_clock_refuses_to_go_backwards() -> None:
    clock = VirtualClock(1000)
    with pytest.raises(ValueError, match="cannot go backwards"):
        clock.advance(-1)
    with pytest.raises(TypeError, match=r"^advance\(\) takes whole milliseconds \(an int\), got float 1.5"):
        clock.advance(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot go backwards"):
        clock.advance_to(999)
    with pytest.raises(ValueError, match="naive datetime"):
        VirtualClock(__import__("datetime").datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="not an ISO-8601 time"):
        VirtualClock("yesterday")
    clock.advance_to("1970-01-01T00:00:02Z")
    assert clock.now_ms() == 2000


# -- hardening: responses no JSON reader could produce (issue 12) ----------------------------------------


class _Unreadable(dict[str, Any]):
    def get(self, key: str, default: Any = None) -> Any:
        raise RuntimeError("get() fails")


class _BrokenItems(dict[str, Any]):
    def items(self) -> Any:
        raise RuntimeError("items() fails")


class _Opaque:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("== fails")

    def __bool__(self) -> bool:
        raise RuntimeError("bool() fails")

    __hash__ = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (
            _Unreadable(),
            r"^the response cannot be read \(RuntimeError: get\(\) fails\); Lambda retries the whole batch",
        ),
        (
            {"batchItemFailures": [{"itemIdentifier": _Opaque()}]},
            r"^batchItemFailures\[0\]\.itemIdentifier _Opaque is not",
        ),
        (
            {"batchItemFailures": [{"itemIdentifier": 10**5000}]},
            r"^batchItemFailures\[0\]\.itemIdentifier a number of more",
        ),
        (
            {"batchItemFailures": [{"itemIdentifier": "9" * 500}]},
            r"^batchItemFailures\[0\]\.itemIdentifier '9{56}\.\.\. is not",
        ),
        (
            {"batchItemFailures": [{"itemIdentifier": True}]},
            r"^batchItemFailures\[0\]\.itemIdentifier a boolean is not",
        ),
    ],
)
def test_responses_no_json_reader_could_produce_are_complete_failures(response: Any, reason: str) -> None:
    verdict = interpret_response(response, NUMBERS)
    assert verdict.kind == "failure"
    assert re.match(reason, verdict.reason), verdict.reason


def test_a_str_subclass_identifier_is_read_as_its_text() -> None:
    class Sequence(str):
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("== fails")

        __hash__ = str.__hash__

    verdict = interpret_response({"batchItemFailures": [{"itemIdentifier": Sequence("222")}]}, NUMBERS)
    assert (verdict.kind, verdict.checkpoint, verdict.reported) == ("partial", "222", ("222",))
    assert type(verdict.reported[0]) is str


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        ({"n": 10**5000}, ValueError, r"^Exceeds the limit \(4300 digits\)"),
        ({"ids": {1}}, TypeError, r"^Object of type set is not JSON serializable$"),
        (
            {"n": _BrokenItems(a=1)},
            TypeError,
            r"^the response cannot be written as JSON: RuntimeError: items\(\) fails$",
        ),
    ],
)
def test_marshal_refuses_what_the_runtime_cannot_send_with_type_or_value_error(
    response: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        marshal_response(response)


def test_marshal_refuses_nesting_too_deep_to_write_with_a_value_error() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(ValueError, match=r"^maximum recursion depth exceeded"):  # the runtime's own words
        marshal_response({"state": {"deep": deep}})
