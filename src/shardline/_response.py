"""What Lambda does with a function's answer to a stream batch, as a pure function.

The rules are those of the Lambda developer guide, "Configuring partial batch response with DynamoDB and Lambda"
(https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html). Three points the guide leaves
open follow LocalStack's AWS-validated snapshot tests test_dynamodb_report_batch_item_success_scenarios and
test_dynamodb_report_batch_item_failure_scenarios, recorded 2025-11-25: an empty array is a complete success, an
itemIdentifier that names no record of the batch (the number 123) fails the whole batch, and such a failure reports
no function error. Other shapes no recording covers (a string, a number, an entry that is not an object) are
shardline's own reading of the guide: anything it cannot read fails the whole batch.

Used by `shardline invoke` to explain a response, and by the local event source mapping to act on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final, Literal, final

from ._attributes import _type_name as _json_type
from ._exceptions import describe_exception
from ._json import json_dumps

__all__ = ["Verdict", "interpret_response", "marshal_response"]

Kind = Literal["success", "partial", "failure"]


@final
class Verdict:
    """Lambda's reading of one invoke.

    `kind` is "success" (the whole batch is done), "partial" (Lambda checkpoints before `checkpoint`, the
    lowest reported sequence number, and delivers `retry` records from it again) or "failure" (the whole
    batch is retried; `reason` says why). `reported` lists the sequence numbers the response named.
    """

    __slots__ = ("checkpoint", "function_error", "kind", "reason", "reported", "retry")

    def __init__(
        self,
        kind: Kind,
        reason: str,
        *,
        checkpoint: str | None = None,
        retry: int = 0,
        reported: tuple[str, ...] = (),
        function_error: str | None = None,
    ) -> None:
        self.kind: Kind = kind
        self.reason = reason
        self.checkpoint = checkpoint
        self.retry = retry
        self.reported = reported
        self.function_error = function_error

    def __repr__(self) -> str:
        return f"<Verdict {self.kind}: {self.reason}>"


_UNHANDLED: Final = "Unhandled"


def interpret_response(
    response: object,
    sequence_numbers: Sequence[str],
    *,
    report_batch_item_failures: bool = True,
    tumbling_window: bool = False,
    function_error: str | None = None,
) -> Verdict:
    """How Lambda reads `response` for a batch whose records carry `sequence_numbers` (in order).

    `function_error` is the error the invoke ended with instead of a response (an exception, a timeout):
    the whole batch is retried. Without `report_batch_item_failures` (the mapping's
    FunctionResponseTypes) Lambda ignores what a successful invoke returns.

    Examples:
        >>> numbers = ["111", "222", "333"]
        >>> interpret_response({"batchItemFailures": [{"itemIdentifier": "222"}]}, numbers).reason
        'Lambda checkpoints before sequence number 222 and delivers the 2 records from it on again'
        >>> interpret_response({"batchItemFailures": [{"itemIdentifier": ""}]}, numbers).kind
        'failure'
    """
    count = len(sequence_numbers)
    whole = f"Lambda retries the whole batch ({count} record{'s' if count != 1 else ''})"
    if function_error is not None:
        return Verdict("failure", f"{function_error}; {whole}", function_error=_UNHANDLED)
    try:
        return _read(response, sequence_numbers, whole, report_batch_item_failures, tumbling_window)
    except Exception as exc:  # noqa: BLE001 - a handler's odd object (a mapping whose get raises...)
        # Lambda reads the JSON the runtime wrote; what cannot even be read here is not a response it could use.
        return Verdict("failure", f"the response cannot be read ({describe_exception(exc)}); {whole}")


def _read(
    response: object,
    sequence_numbers: Sequence[str],
    whole: str,
    report_batch_item_failures: bool,
    tumbling_window: bool,
) -> Verdict:
    count = len(sequence_numbers)
    if tumbling_window and (not isinstance(response, Mapping) or "state" not in response):
        return Verdict("failure", f"a tumbling-window invoke must return an object with 'state'; {whole}")
    if not report_batch_item_failures:
        return Verdict("success", "the batch is done (ReportBatchItemFailures is off: the response is not read)")
    if response is None or (isinstance(response, list) and not response):
        return Verdict("success", "the batch is done")
    if not isinstance(response, Mapping):
        return Verdict("failure", f"the response is {_json_type(response)}, not an object; {whole}")
    failures = response.get("batchItemFailures")
    if failures is None or (isinstance(failures, list) and not failures):
        return Verdict("success", "the batch is done")
    if not isinstance(failures, list):
        return Verdict("failure", f"batchItemFailures is {_json_type(failures)}, not an array; {whole}")
    position = {number: index for index, number in enumerate(sequence_numbers)}
    reported: list[str] = []
    for index, item in enumerate(failures):
        where = f"batchItemFailures[{index}]"
        if not isinstance(item, Mapping) or "itemIdentifier" not in item:
            return Verdict("failure", f"{where} has no itemIdentifier; {whole}")
        identifier = item["itemIdentifier"]
        if isinstance(identifier, str):
            identifier = str.__str__(identifier)  # the text JSON would carry, whatever a subclass overrides
        if identifier is None or (isinstance(identifier, str) and not identifier):
            return Verdict("failure", f"{where}.itemIdentifier is {'null' if identifier is None else 'empty'}; {whole}")
        if not isinstance(identifier, str) or identifier not in position:
            return Verdict(
                "failure", f"{where}.itemIdentifier {_shown(identifier)} is not a sequence number of the batch; {whole}"
            )
        reported.append(identifier)
    first = min(position[number] for number in reported)
    retry = count - first
    checkpoint = sequence_numbers[first]
    if first == 0:
        reason = f"the first record is reported: Lambda delivers all {count} records again"
    else:
        again = "that record again" if retry == 1 else f"the {retry} records from it on again"
        reason = f"Lambda checkpoints before sequence number {checkpoint} and delivers {again}"
    return Verdict("partial", reason, checkpoint=checkpoint, retry=retry, reported=tuple(reported))


def _shown(identifier: object) -> str:
    """An identifier for a message: the value when it is a string or a whole number, cut to a readable
    length; its JSON type otherwise."""
    if isinstance(identifier, bool) or not isinstance(identifier, (int, str)):
        return _json_type(identifier)
    if isinstance(identifier, int) and identifier.bit_length() > 200:  # repr of a huge int is slow, or refused
        return "a number of more than 60 digits"
    text = repr(str.__str__(identifier)) if isinstance(identifier, str) else repr(int(identifier))
    return text if len(text) <= 60 else text[:57] + "..."


def marshal_response(response: object) -> str:
    """A handler's response as the Lambda Python runtime writes it: JSON in which Decimals are numbers.

    Sets, bytes and other objects, NaN, ints too long to write and nesting too deep make the runtime fail
    the invoke (`Runtime.MarshalError`): a TypeError or ValueError here, and nothing else, whatever the
    response holds.

    Examples:
        >>> marshal_response({"state": {"total": Decimal("12.50")}})
        '{"state": {"total": 12.5}}'
    """

    def check(value: object) -> object:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"{value} is not a JSON number")
            return 0  # checked only; json_dumps below writes it exactly
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    try:
        json.dumps(response, default=check, allow_nan=False)
        return json_dumps(response)
    except (TypeError, ValueError):
        raise
    except RecursionError as exc:  # nested too deeply: the runtime fails with the same message
        raise ValueError(str(exc)) from None
    except Exception as exc:  # a handler's odd object (a dict subclass whose items() raises...)
        raise TypeError(f"the response cannot be written as JSON: {describe_exception(exc)}") from exc
