"""The pytest plugin: registered on install, its fixtures ready in any test."""

from __future__ import annotations

from importlib.metadata import entry_points

from shardline import StreamEvent, batch_handler
from shardline.testing import EventBuilder, LambdaContext, VirtualClock


def test_the_plugin_is_registered_through_an_entry_point() -> None:
    plugins = {entry.name: entry.value for entry in entry_points(group="pytest11")}
    assert plugins.get("shardline") == "shardline.testing.pytest_plugin"


def test_fixtures_share_one_virtual_clock(
    event_builder: EventBuilder, virtual_clock: VirtualClock, lambda_context: LambdaContext
) -> None:
    event_builder.put({"Id": 1, "status": "NEW"})
    virtual_clock.advance(90_000)
    event_builder.put({"Id": 1, "status": "PAID"})
    first, second = StreamEvent(event_builder.build())
    assert (second.approximate_creation_time - first.approximate_creation_time).total_seconds() == 90
    assert lambda_context.get_remaining_time_in_millis() == 0  # 90 s passed on a 3 s timeout


def test_the_docstring_example_works(event_builder: EventBuilder, lambda_context: LambdaContext) -> None:
    seen: list[str] = []

    @batch_handler
    def lambda_handler(record):  # type: ignore[no-untyped-def]
        seen.append(f"{record.event_name} {record.new_image['status']}")

    event_builder.put({"Id": 1, "status": "NEW"})
    event_builder.put({"Id": 1, "status": "PAID"})
    assert lambda_handler(event_builder.build(), lambda_context) == {"batchItemFailures": []}
    assert seen == ["INSERT NEW", "MODIFY PAID"]
