"""Why a remote stream waits, as `shardline run --remote` and `shardline stream tail` say it: a line when the reads
start waiting for a retry, when the cause changes and when they go on again, never a line per retry; a summary
of the calls and retries at the end.

The stream is an in-memory DynamoDB Streams client that fails the calls a script names (the idea of
tests/test_aws_remote.py's fakes, kept here), read through the real :class:`RemoteStream` on a virtual clock, so
the backoff times, and so the lines, are exact. The commands run in this process through the real entry point.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import boto_error

from shardline.cli import main
from shardline.cli._dashboard import Dashboard
from shardline.cli._health import RetryNotes, remote_summary, troubled
from shardline.local import Pipeline, Store
from shardline.testing import VirtualClock

botocore_exceptions = pytest.importorskip("botocore.exceptions")

import shardline.aws  # noqa: E402 - after the check for the aws extra
from shardline.aws import RemoteStream  # noqa: E402

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000"
SHARD = "shardId-00000001"
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the lines' stamps are 00:00:xx


# -- a DynamoDB Streams client that fails on cue -----------------------------------------------------------------


FAULTS: dict[str, Any] = {
    "throttle": lambda op: boto_error("LimitExceededException", 400, op),
    "500": lambda op: boto_error("InternalServerError", 500, op),
    "dropped": lambda op: botocore_exceptions.ConnectionClosedError(endpoint_url="http://streams"),
}


def throttled_text(operation: str) -> str:
    return (
        f"ClientError: An error occurred (LimitExceededException) when calling the {operation} operation:"
        " injected LimitExceededException"
    )


SERVER_TEXT = (
    "ClientError: An error occurred (InternalServerError) when calling the GetRecords operation:"
    " injected InternalServerError"
)


class ScriptedStreams:
    """One open shard of ``records`` INSERTs; each operation's calls fail as its script says, in order (``None``:
    answer). ``"sigint"`` answers, but first sends this process Ctrl-C, as a user at the terminal would."""

    def __init__(self, records: int, faults: dict[str, list[str | None]]) -> None:
        self.records = [_record(n) for n in range(1, records + 1)]
        self.faults = faults
        self.calls: list[str] = []

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        script = self.faults.get(operation)
        fault = script.pop(0) if script else None
        if fault == "sigint":
            os.kill(os.getpid(), signal.SIGINT)
        elif fault is not None:
            raise FAULTS[fault](operation)

    def describe_stream(self, StreamArn: str, ExclusiveStartShardId: str | None = None) -> dict[str, Any]:
        self._call("DescribeStream")
        shard = {"ShardId": SHARD, "SequenceNumberRange": {"StartingSequenceNumber": _seq(0)}}
        return {
            "StreamDescription": {
                "StreamArn": StreamArn,
                "StreamStatus": "ENABLED",
                "TableName": "Orders",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "Shards": [shard],
            }
        }

    def get_shard_iterator(
        self, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str | None = None
    ) -> dict[str, Any]:
        self._call("GetShardIterator")
        if ShardIteratorType == "TRIM_HORIZON":
            index = 0
        elif ShardIteratorType == "LATEST":
            index = len(self.records)
        else:
            numbers = [record["dynamodb"]["SequenceNumber"] for record in self.records]
            index = numbers.index(SequenceNumber) + (ShardIteratorType == "AFTER_SEQUENCE_NUMBER")
        return {"ShardIterator": f"{ShardId}|{index}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        self._call("GetRecords")
        shard_id, _, index = ShardIterator.partition("|")
        page = self.records[int(index) : int(index) + Limit]
        return {"Records": page, "NextShardIterator": f"{shard_id}|{int(index) + len(page)}"}


def _seq(n: int) -> str:
    return str(10**21 + n)


def _record(n: int) -> dict[str, Any]:
    return {
        "eventID": f"{n:032x}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {"Keys": {"pk": {"S": f"order#{n}"}}, "SequenceNumber": _seq(n), "StreamViewType": "KEYS_ONLY"},
    }


def health(**counts: Any) -> dict[str, Any]:
    """A RemoteStream.health with the given counts, the rest zero."""
    base: dict[str, Any] = {
        "calls": 0,
        "throttled": 0,
        "server_errors": 0,
        "network_errors": 0,
        "expired_iterators": 0,
        "trimmed": 0,
        "last_error": None,
        "retrying": {},
    }
    return {**base, **counts}


# -- the rule: a line when the state changes -------------------------------------------------------------------


def test_a_line_when_waiting_begins_when_its_cause_changes_and_when_reads_go_on() -> None:
    notes = RetryNotes("mapping Orders")
    assert notes.update(health(calls=3), 1000) is None
    waiting = notes.update(health(calls=4, throttled=1, retrying={SHARD: 1262}, last_error="slow down"), 1000)
    assert waiting == "mapping Orders: waiting: throttled; next try in 262 ms (last error: slow down)"
    assert notes.waiting
    # More throttles, the backoff growing: nothing new to say.
    for count, (now, retry_at) in enumerate([(1262, 1800), (1800, 2900), (2900, 5000)], start=2):
        assert notes.update(health(calls=3 + count, throttled=count, retrying={SHARD: retry_at}), now) is None
    changed = notes.update(
        health(calls=8, throttled=4, server_errors=1, retrying={SHARD: 9100}, last_error="500 InternalServerError"),
        5000,
    )
    assert changed == (
        "mapping Orders: still waiting: now server errors; next try in 4.1 s (last error: 500 InternalServerError)"
    )
    # Throttled again: a cause already named in this wait is not named twice (a mix of faults is no line storm).
    assert notes.update(health(calls=9, throttled=5, server_errors=1, retrying={SHARD: 9800}), 9100) is None
    recovered = notes.update(health(calls=10, throttled=5, server_errors=1), 9800)
    assert recovered == "mapping Orders: reading again after 6 retries (5 throttled, 1 server error)"
    assert not notes.waiting
    # The next wait counts from where this one ended.
    again = notes.update(health(calls=11, throttled=5, server_errors=1, network_errors=1, retrying={SHARD: 9800}), 9800)
    assert again == "mapping Orders: waiting: network errors; next try now"
    assert notes.update(health(calls=12, throttled=5, server_errors=1, network_errors=1), 10_100) == (
        "mapping Orders: reading again after 1 retry (1 network error)"
    )


def test_a_failed_refresh_of_the_shard_list_alone_is_no_wait_but_is_counted() -> None:
    notes = RetryNotes()
    # DescribeStream throttled: the last shard list stands, no shard waits, the reads go on.
    assert notes.update(health(calls=5, throttled=1, last_error="DescribeStream throttled"), 1000) is None
    assert notes.update(health(calls=6, throttled=1), 1200) is None
    line = notes.update(health(calls=7, throttled=1, server_errors=1, retrying={SHARD: 1700}, last_error="x"), 1200)
    assert line == "waiting: server errors; next try in 500 ms (last error: x)"
    assert notes.update(health(calls=8, throttled=2, server_errors=1, retrying={SHARD: 1700}), 1300) == (
        "still waiting: now throttled; next try in 400 ms"
    )
    assert notes.update(health(calls=9, throttled=2, server_errors=1), 1700) == (
        "reading again after 2 retries (1 throttled, 1 server error)"
    )


def test_a_caller_may_say_the_reads_wait_when_no_shard_is_known_yet() -> None:
    notes = RetryNotes()
    first = notes.update(health(calls=1, network_errors=1, last_error="DescribeStream network"), 0, waiting_until=1500)
    assert first == "waiting: network errors; next try in 1.5 s (last error: DescribeStream network)"
    assert notes.update(health(calls=2, network_errors=1), 1500) == "reading again after 1 retry (1 network error)"


def test_the_summary_gives_calls_and_retries_by_cause() -> None:
    assert remote_summary("mapping A", health(calls=1)) == "mapping A: 1 call to DynamoDB Streams, no retries"
    assert not troubled(health(calls=1))
    busy = health(calls=40, throttled=1, network_errors=2, expired_iterators=1, trimmed=2)
    assert troubled(busy)
    assert remote_summary("", busy) == (
        "40 calls to DynamoDB Streams, 3 retries (1 throttled, 2 network errors), 1 expired iterator renewed,"
        " 2 trimmed positions passed (records past the retention)"
    )


# -- the dashboard of `shardline run` --------------------------------------------------------------------------


def remote_pipeline(store: Store, client: ScriptedStreams, batches: list[int]) -> Pipeline:
    def handler(event: dict[str, Any], context: Any) -> None:
        batches.append(len(event["Records"]))

    pipeline = Pipeline(store)
    pipeline.add_mapping(RemoteStream(ARN, client=client), handler, name="orders", batch_size=10)
    return pipeline


GET_RECORDS_THROTTLED = f"GetRecords on shard {SHARD} throttled ({throttled_text('GetRecords')})"


def test_plain_lines_say_when_a_remote_mapping_waits_and_reads_again() -> None:
    client = ScriptedStreams(3, {"GetRecords": ["throttle", "throttle", "throttle", "500", "dropped", None]})
    batches: list[int] = []
    with Store(":memory:", clock=VirtualClock(START_MS)) as store:
        pipeline = remote_pipeline(store, client, batches)
        screen = io.StringIO()
        dashboard = Dashboard(pipeline, stream=screen, live=False)

        def stopping() -> bool:
            dashboard.refresh()
            return False

        pipeline.run_until_idle(stop=stopping)
        dashboard.close()
        stream_health = pipeline.mappings[0].stream.health
    assert batches == [3]
    lines = screen.getvalue().splitlines()
    # Five retries, three lines: waiting, a new cause (the second one, 500, then network: each named once), again.
    # The backoff doubles from 250 ms, with up to a tenth more of jitter (seeded): 0.262, then 3.873 after
    # 0.5 + 1 + 2 s of backoff, then 8.005.
    assert lines == [
        f"00:00:00 mapping orders: waiting: throttled; next try at 00:00:00.262 (last error: {GET_RECORDS_THROTTLED};"
        " retry 1 in 262 ms)",
        "00:00:03 mapping orders: still waiting: now server errors; next try at 00:00:03.873 (last error: GetRecords on"
        f" shard {SHARD} server ({SERVER_TEXT}); retry 4 in 2010 ms)",
        "00:00:08 mapping orders: still waiting: now network errors; next try at 00:00:08.005 (last error: GetRecords"
        f" on shard {SHARD} network (ConnectionClosedError: Connection was closed before we received a valid response"
        ' from endpoint URL: "http://streams".); retry 5 in 4132 ms)',
        "00:00:08 orders shardId-00000001 3 records, attempt 1: success (0.0 ms)",
        "00:00:08 mapping orders: reading again after 5 retries (3 throttled, 1 server error, 1 network error)",
    ]
    assert remote_summary("mapping orders", stream_health) == (
        "mapping orders: 12 calls to DynamoDB Streams, 5 retries (3 throttled, 1 server error, 1 network error)"
    )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_line_is_printed_above_the_live_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    client = ScriptedStreams(2, {"GetRecords": ["throttle", None]})
    with Store(":memory:", clock=VirtualClock(START_MS)) as store:
        pipeline = remote_pipeline(store, client, [])
        screen = Terminal()
        dashboard = Dashboard(pipeline, stream=screen, interval=0)

        def stopping() -> bool:
            dashboard.refresh()
            return False

        pipeline.run_until_idle(stop=stopping)
        dashboard.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    shown = [line.rstrip() for line in text.splitlines() if "mapping orders:" in line]
    assert shown == [
        f"00:00:00 mapping orders: waiting: throttled; next try at 00:00:00.262 (last error: {GET_RECORDS_THROTTLED};"
        " retry 1 in 262 ms)",
        "00:00:00 mapping orders: reading again after 1 retry (1 throttled)",
    ]
    # The table is still drawn after them: the last frame holds the mapping's row.
    assert re.search(r"^orders +…00000001 +2/2/0/0 ", text.split("mapping orders: reading again")[-1], re.M)


# -- `shardline run --remote`, through the real entry point ---------------------------------------------------

TEMPLATE = f"""\
Transform: AWS::Serverless-2016-10-31
Resources:
  OnOrder:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.on_order
      Runtime: python3.12
      Events:
        Orders:
          Type: DynamoDB
          Properties: {{Stream: "{ARN}", StartingPosition: TRIM_HORIZON, BatchSize: 10}}
"""

APP = """\
def on_order(event, context):
    return None
"""


@contextlib.contextmanager
def scripted(monkeypatch: pytest.MonkeyPatch, client: ScriptedStreams, clock: VirtualClock) -> Iterator[None]:
    """`shardline.aws.RemoteStream` reading ``client``, and the state store on ``clock``, for the command."""
    import shardline.cli.run as run_module
    import shardline.local._runner as runner

    real = RemoteStream

    def remote(stream_arn: str | None = None, **options: Any) -> RemoteStream:
        return real(stream_arn, table_name=options.get("table_name"), client=client, clock=clock)

    @contextlib.contextmanager
    def virtual_store(path: str, *, create: bool = True) -> Iterator[Store]:
        with Store(path, clock=clock) as store:
            yield store

    def build_pipeline(*args: Any, **options: Any) -> Any:
        return real_build(*args, **options, clock=clock)  # the functions' timeouts on the same clock

    real_build = runner.build_pipeline
    monkeypatch.setattr(shardline.aws, "RemoteStream", remote)
    monkeypatch.setattr(run_module, "open_store", virtual_store)
    monkeypatch.setattr(runner, "build_pipeline", build_pipeline)
    monkeypatch.setenv("COLUMNS", "300")  # the mapping's line unwrapped
    yield


def command(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    assert isinstance(exited.value.code, int)
    return exited.value.code, out, err


def project(folder: Path) -> None:
    (folder / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    (folder / "app.py").write_text(APP, encoding="utf-8")


RUN = ("run", "--remote", "--invoker", "in-process", "--no-endpoint", "--region", "eu-west-1")


def normalised(err: str) -> list[str]:
    """stderr's lines, an invoke's duration (the wall clock's) written as <ms>."""
    return [re.sub(r"\(\d+\.\d ms\)$", "(<ms>)", line) for line in err.splitlines()]


def test_run_until_idle_says_why_it_waited_and_sums_up_each_remote_stream(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project(tmp_path)
    monkeypatch.chdir(tmp_path)
    client = ScriptedStreams(2, {"GetRecords": ["throttle", "throttle", "500", None]})
    with scripted(monkeypatch, client, VirtualClock(START_MS)):
        status, out, err = command(capsys, *RUN, "--until-idle", "--state", str(tmp_path / "state.db"))
    assert status == 0, err
    stack = tmp_path.name.replace("_", "-")
    assert out == ""
    assert normalised(err) == [
        "note: --no-endpoint: the functions' DynamoDB clients reach AWS, unless their Environment or --env-vars"
        " sets AWS_ENDPOINT_URL_DYNAMODB",
        f"mapping OnOrder.Orders: remote stream {ARN} -> {stack}-OnOrder (BatchSize=10)",
        f"00:00:00 mapping OnOrder.Orders: waiting: throttled; next try at 00:00:00.262 (last error:"
        f" {GET_RECORDS_THROTTLED}; retry 1 in 262 ms)",
        "00:00:01 mapping OnOrder.Orders: still waiting: now server errors; next try at 00:00:01.863 (last error:"
        f" GetRecords on shard {SHARD} server ({SERVER_TEXT}); retry 3 in 1053 ms)",
        "00:00:01 OnOrder.Orders shardId-00000001 2 records, attempt 1: success (<ms>)",
        "00:00:01 mapping OnOrder.Orders: reading again after 3 retries (2 throttled, 1 server error)",
        'summary: {"invocations": 1, "records_in": 2, "delivered": 2, "filtered": 0, "failed": 0, "retries": 0,'
        ' "bisects": 0, "destination_records": 0}',
        "summary: mapping OnOrder.Orders: 8 calls to DynamoDB Streams, 3 retries (2 throttled, 1 server error)",
    ]
    # The calls counted: the shard list (and its refresh a second later), an iterator, four reads to the records,
    # one more that found the shard caught up.
    assert client.calls == [
        "DescribeStream",
        "GetShardIterator",
        *["GetRecords"] * 3,
        "DescribeStream",
        *["GetRecords"] * 2,
    ]


def test_ctrl_c_while_throttled_exits_130_with_the_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    project(tmp_path)
    monkeypatch.chdir(tmp_path)
    # Throttled three times; Ctrl-C comes during the fourth read, before any record was delivered.
    client = ScriptedStreams(2, {"GetRecords": ["throttle", "throttle", "throttle", "sigint"]})
    with scripted(monkeypatch, client, VirtualClock(START_MS)):
        status, out, err = command(capsys, *RUN, "--state", str(tmp_path / "state.db"))
    assert status == 130
    assert normalised(err)[2:] == [
        f"00:00:00 mapping OnOrder.Orders: waiting: throttled; next try at 00:00:00.262 (last error:"
        f" {GET_RECORDS_THROTTLED}; retry 1 in 262 ms)",
        'summary: {"invocations": 0, "records_in": 0, "delivered": 0, "filtered": 0, "failed": 0, "retries": 0,'
        ' "bisects": 0, "destination_records": 0}',
        "summary: mapping OnOrder.Orders: 7 calls to DynamoDB Streams, 3 retries (3 throttled)",
        "stopped by SIGINT: checkpoints are saved; run again to continue",
    ]
    assert client.calls == ["DescribeStream", "GetShardIterator", *["GetRecords"] * 3, "DescribeStream", "GetRecords"]
    assert out == ""


# -- `shardline stream tail` on a remote stream ------------------------------------------------------------------

TAIL = ("stream", "tail", "--stream-arn", ARN, "--region", "eu-west-1", "--json")


def test_tail_says_once_per_change_why_it_waits_and_sums_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = ScriptedStreams(3, {"GetRecords": ["throttle", "throttle", "500", "throttle", None]})
    with scripted(monkeypatch, client, VirtualClock(START_MS)):
        status, out, err = command(capsys, *TAIL, "--from", "trim-horizon", "--limit", "3")
    assert status == 0
    assert out.splitlines() == [
        f'{{"eventID":"{n:032x}","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb",'
        f'"awsRegion":"eu-west-1","dynamodb":{{"Keys":{{"pk":{{"S":"order#{n}"}}}},"SequenceNumber":"{_seq(n)}",'
        f'"StreamViewType":"KEYS_ONLY"}},"eventSourceARN":"{ARN}"}}'
        for n in (1, 2, 3)
    ]
    assert err.splitlines() == [
        f"note: waiting: throttled; next try in 262 ms (last error: {GET_RECORDS_THROTTLED}; retry 1 in 262 ms)",
        f"note: still waiting: now server errors; next try in 1.1 s (last error: GetRecords on shard {SHARD} server"
        f" ({SERVER_TEXT}); retry 3 in 1053 ms)",
        "note: reading again after 4 retries (3 throttled, 1 server error)",
        "3 records",
        "note: 10 calls to DynamoDB Streams, 4 retries (3 throttled, 1 server error)",
    ]
    # The shard list is refreshed once a second, also while the reads wait (new shards are looked for).
    assert client.calls == [
        "DescribeStream", "GetShardIterator", "GetRecords", "GetRecords", "GetRecords", "DescribeStream", "GetRecords",
        "DescribeStream", "DescribeStream", "GetRecords",
    ]  # fmt: skip


def test_tail_waits_for_a_first_shard_list_that_was_throttled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = ScriptedStreams(1, {"DescribeStream": ["throttle"]})
    with scripted(monkeypatch, client, VirtualClock(START_MS)):
        status, out, err = command(capsys, *TAIL, "--from", "trim-horizon", "--limit", "1")
    assert status == 0
    assert len(out.splitlines()) == 1
    assert err.splitlines() == [
        f"note: waiting: throttled; next try in 262 ms (last error: DescribeStream throttled"
        f" ({throttled_text('DescribeStream')}); retry 1 in 262 ms)",
        "note: reading again after 1 retry (1 throttled)",
        "1 record",
        "note: 4 calls to DynamoDB Streams, 1 retry (1 throttled)",
    ]


def test_tail_without_trouble_says_nothing_more(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = ScriptedStreams(2, {})
    with scripted(monkeypatch, client, VirtualClock(START_MS)):
        status, out, err = command(capsys, *TAIL, "--from", "trim-horizon", "--limit", "2")
    assert (status, len(out.splitlines()), err) == (0, 2, "2 records\n")


def test_ctrl_c_stops_a_remote_tail_with_130_and_whole_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ctrl-C arrives during the second read, which still answers: its records are printed whole, then it stops.
    client = ScriptedStreams(2, {"GetRecords": ["throttle", "sigint"]})
    with scripted(monkeypatch, client, VirtualClock(START_MS)):
        status, out, err = command(capsys, *TAIL, "--from", "trim-horizon")
    assert status == 130
    assert [line[-len(ARN) - 2 :] for line in out.splitlines()] == [f'{ARN}"}}'] * 2
    assert out.endswith("\n")
    assert err.splitlines() == [
        f"note: waiting: throttled; next try in 262 ms (last error: {GET_RECORDS_THROTTLED}; retry 1 in 262 ms)",
        "note: reading again after 1 retry (1 throttled)",
        "stopped after 2 records",
        "note: 4 calls to DynamoDB Streams, 1 retry (1 throttled)",
    ]
