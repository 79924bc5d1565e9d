"""pytest fixtures for code that consumes DynamoDB streams (registered automatically with shardline).

`event_builder` (an [`EventBuilder`][shardline.testing.EventBuilder] on a virtual clock), `virtual_clock` and
`lambda_context`:

```python
def test_orders_handler(event_builder, lambda_context):
    event_builder.put({"Id": 1, "status": "NEW"})
    event_builder.put({"Id": 1, "status": "PAID"})
    response = lambda_handler(event_builder.build(), lambda_context)
    assert response == {"batchItemFailures": []}
```

`shardline_endpoint`: a local DynamoDB endpoint over a fresh store, for code that uses boto3:

```python
def test_app_saves_orders(shardline_endpoint, monkeypatch):
    shardline_endpoint.store.create_table("orders", key_schema={"pk": "S"})
    for name, value in shardline_endpoint.environment.items():  # the app makes its own boto3 client
        monkeypatch.setenv(name, value)
    save_order({"pk": "order#1"})
    assert shardline_endpoint.store.table("orders").get_item({"pk": "order#1"}) == {"pk": "order#1"}
```
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, final

import pytest

from ._builder import EventBuilder
from ._clock import VirtualClock
from ._context import LambdaContext

if TYPE_CHECKING:
    from shardline.local import Store
    from shardline.local.endpoint import Endpoint


@pytest.fixture
def virtual_clock() -> VirtualClock:
    """A clock at 2026-01-01T00:00:00Z that moves only when told to."""
    return VirtualClock()


@pytest.fixture
def event_builder(virtual_clock: VirtualClock) -> EventBuilder:
    """A model of SAM's sample table (key `Id`, a number) whose writes become stream records.

    Its timestamps come from `virtual_clock`: advance the clock to space the records out.
    """
    return EventBuilder(clock=virtual_clock)


@pytest.fixture
def lambda_context(virtual_clock: VirtualClock) -> LambdaContext:
    """A Lambda context with a 3-second timeout counted on `virtual_clock`."""
    return LambdaContext(function_name="test-function", clock=virtual_clock, request_id="test-request")


@final
class LocalEndpoint:
    """What the `shardline_endpoint` fixture gives: a started endpoint and the store it serves.

    `url` (`http://127.0.0.1:<port>`, a free port), `store` (a [`shardline.local.Store`][shardline.local.Store] in the
    test's `tmp_path`: create tables, read items and stream records directly), `endpoint` (the running
    [`shardline.local.endpoint.Endpoint`][shardline.local.endpoint.Endpoint]), `environment` (the variables that send an
    unchanged `boto3.client("dynamodb")` there, with a region and dummy credentials) and `client()` / `resource()`:
    boto3 objects ready for it.
    """

    def __init__(self, endpoint: Endpoint, store: Store) -> None:
        self.endpoint = endpoint
        self.store = store
        self.url: str = endpoint.url

    @property
    def environment(self) -> dict[str, str]:
        """`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_DYNAMODB_STREAMS`, `AWS_DEFAULT_REGION` and dummy
        credentials: set them (`monkeypatch.setenv`) for code that makes its own boto3 clients, before it makes
        them (botocore reads the variables when a client is created: a client made at import time keeps AWS).

        `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `false`: set to true in the shell or the shared config file,
        it would make botocore skip the endpoint variables, and the code under test would reach AWS."""
        options = self._options()
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": self.url,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.url,
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
            "AWS_DEFAULT_REGION": options["region_name"],
            "AWS_ACCESS_KEY_ID": options["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": options["aws_secret_access_key"],
        }

    def client(self, service_name: str = "dynamodb", **kwargs: Any) -> Any:
        """A boto3 client (`"dynamodb"` or `"dynamodbstreams"`) for the endpoint, with a region and dummy
        credentials (the endpoint checks none); `kwargs` go to `boto3.client` and win."""
        import boto3  # type: ignore[import-untyped]  # only when asked for: the plugin loads without boto3

        return boto3.client(service_name, **{**self._options(), **kwargs})

    def resource(self, **kwargs: Any) -> Any:
        """boto3's DynamoDB resource for the endpoint (`kwargs` go to `boto3.resource`)."""
        import boto3

        return boto3.resource("dynamodb", **{**self._options(), **kwargs})

    def _options(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.url,
            "region_name": getattr(self.store, "region", "us-east-1"),
            "aws_access_key_id": "shardline-test",
            "aws_secret_access_key": "shardline-test",
        }

    def __repr__(self) -> str:
        return f"<LocalEndpoint {self.url}>"


@pytest.fixture
def shardline_endpoint(tmp_path: Path) -> Iterator[LocalEndpoint]:
    """A DynamoDB and DynamoDB Streams endpoint on a free port of 127.0.0.1, over a fresh store in
    `tmp_path` (`shardline-endpoint.db`), stopped after the test.

    `.url` is where boto3 goes (`endpoint_url=`, or `AWS_ENDPOINT_URL_DYNAMODB` for code that makes its
    own clients); `.store` is the same tables, to set up and check them directly; `.client()` and
    `.resource()` give boto3 objects for it when boto3 is installed.
    """
    from shardline.local import Store
    from shardline.local.endpoint import serve

    with Store(tmp_path / "shardline-endpoint.db") as store, serve(store, port=0) as endpoint:
        yield LocalEndpoint(endpoint, store)
