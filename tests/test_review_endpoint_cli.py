"""What a new user of the endpoint meets first, checked as they would meet it: the lines `serve` and `run` print
work when pasted into a shell without any AWS configuration; the example app's own instructions work verbatim;
a developer's real credentials (in ~/.aws) are not replaced by dummy ones; a shell or config file that tells
botocore to ignore configured endpoints does not send the functions' writes to AWS; an old botocore that ignores
AWS_ENDPOINT_URL_DYNAMODB is named at start-up; `--host` takes a bracketed IPv6 address and refuses an empty one.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from shardline.cli.serve import _advice, how_to_reach, missing_configuration
from shardline.local._runner import (
    DUMMY_CREDENTIALS,
    aws_credentials_configured,
    aws_region_configured,
    endpoint_environment,
    stale_botocore,
)
from shardline.local._template import load_template
from shardline.testing.pytest_plugin import LocalEndpoint

ROOT = Path(__file__).resolve().parent.parent
_SCRIPT = Path(sys.executable).parent / "shardline"
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "shardline"]
URL = r"http://127\.0\.0\.1:\d+"


def bare_environment(home: Path, **more: str) -> dict[str, str]:
    """A shell on a machine with no AWS configuration: no AWS_* variables, and a HOME without ~/.aws."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "SHARDLINE_", "BOTO_"))
    }
    return {**environment, "HOME": str(home), **more}


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """`shardline serve --port 0` from a bare shell, with the orders example's tables: its URL and its lines."""
    home = tmp_path / "home"
    home.mkdir()
    template = ROOT / "examples" / "orders_app" / "template.yaml"
    with subprocess.Popen(
        [*COMMAND, "serve", "--port", "0", "--state", str(tmp_path / "state.db"), "--template", str(template)],
        cwd=tmp_path,
        env=bare_environment(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        lines: list[str] = []
        try:
            while not lines or not lines[-1].startswith("  any access key"):
                line = process.stderr.readline()
                assert line, f"serve ended early: {lines}"
                lines.append(line.rstrip("\n"))
            url = re.search(URL, lines[0]).group(0)  # type: ignore[union-attr]
            yield url, lines
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)


APP = """\
import boto3
print(boto3.client("dynamodb").list_tables()["TableNames"])
"""


def test_the_apps_line_serve_prints_works_verbatim_in_a_shell_without_aws_configuration(
    tmp_path: Path, serving: tuple[str, list[str]]
) -> None:
    pytest.importorskip("boto3")
    url, lines = serving
    assert lines[1:] == [
        f"  apps:    AWS_ENDPOINT_URL_DYNAMODB={url} AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=shardline-local"
        " AWS_SECRET_ACCESS_KEY=shardline-local python app.py",
        f'  boto3:   boto3.client("dynamodb", endpoint_url="{url}")',
        f"  AWS CLI: aws dynamodb list-tables --endpoint-url {url}",
        "  no AWS Region or credentials set here, and boto3 and the AWS CLI need some to sign requests: export"
        " AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=shardline-local AWS_SECRET_ACCESS_KEY=shardline-local",
        "  any access key and region work: requests are not authenticated, and every key sees the same tables",
    ]
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    command = lines[1].removeprefix("  apps:    ").replace("python ", f"{sys.executable} ")
    result = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=tmp_path,
        env=bare_environment(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "['invoices', 'orders']\n"), result.stderr


def test_the_example_apps_instructions_work_verbatim(tmp_path: Path, serving: tuple[str, list[str]]) -> None:
    pytest.importorskip("boto3")
    url, _ = serving
    app = ROOT / "examples" / "orders_app" / "app.py"
    docstring = app.read_text(encoding="utf-8").split('"""')[1]
    # The docstring's first two indented blocks: the command for the first terminal, then the one for the second.
    blocks = [textwrap.dedent(block) for block in docstring.split("\n\n") if block.startswith("    ")]
    first, second = blocks[0].strip(), blocks[1].strip()
    assert first == "shardline run --plain"
    command = second.replace("http://127.0.0.1:8000", url).replace(" python app.py", f" {sys.executable} app.py")
    shutil.copy(app, tmp_path / "app.py")
    environment = bare_environment(tmp_path / "home")
    outputs = [
        subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        for _ in range(2)
    ]
    assert [(result.returncode, result.stdout) for result in outputs] == [
        (0, "order#1: placed\norder#2: placed\n2 new orders\n"),
        (0, "order#1: exists already\norder#2: exists already\n2 new orders\n"),
    ], [result.stderr for result in outputs]


# -- what counts as a configured Region and credentials ----------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("files", "variables", "credentials", "region"),
    [
        pytest.param({}, {}, False, False, id="nothing"),
        pytest.param(
            {".aws/credentials": "[default]\naws_access_key_id = AKIA\naws_secret_access_key = s\n"},
            {},
            True,
            False,
            id="the-default-profile-in-the-credentials-file",
        ),
        pytest.param(
            {".aws/credentials": "[other]\naws_access_key_id = AKIA\n"}, {}, False, False, id="another-profile-only"
        ),
        pytest.param(
            {".aws/config": "[default]\nregion = eu-west-1\nsso_session = work\n"},
            {},
            True,
            True,
            id="sso-and-a-region-in-the-config-file",
        ),
        pytest.param(
            {".aws/config": "[profile dev]\nregion = eu-west-1\n"},
            {"AWS_PROFILE": "dev"},
            True,
            True,
            id="a-named-profile-with-a-region",
        ),
        pytest.param(
            {"elsewhere/creds": "[default]\naws_access_key_id = AKIA\n"},
            {"AWS_SHARED_CREDENTIALS_FILE": "{home}/elsewhere/creds", "AWS_REGION": "us-west-2"},
            True,
            True,
            id="files-named-by-variables",
        ),
        pytest.param({".aws/config": "[default\nnot ini at all"}, {}, False, False, id="a-malformed-file-is-none"),
        pytest.param({}, {"AWS_WEB_IDENTITY_TOKEN_FILE": "/token"}, True, False, id="web-identity"),
    ],
)
def test_what_counts_as_configured(
    tmp_path: Path, files: dict[str, str], variables: dict[str, str], credentials: bool, region: bool
) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    environ = {"HOME": str(tmp_path), **{name: value.format(home=tmp_path) for name, value in variables.items()}}
    assert (aws_credentials_configured(environ), aws_region_configured(environ)) == (credentials, region)
    expected = {} if region else {"AWS_DEFAULT_REGION": "eu-central-1"}
    assert missing_configuration(environ, region="eu-central-1") == {
        **expected,
        **({} if credentials else DUMMY_CREDENTIALS),
    }


def test_how_to_reach_adds_only_what_the_shell_lacks(tmp_path: Path) -> None:
    lines = how_to_reach("http://127.0.0.1:8000", environ={"HOME": str(tmp_path), "AWS_REGION": "eu-west-1"})
    assert lines[0] == (
        "apps:    AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 AWS_ACCESS_KEY_ID=shardline-local"
        " AWS_SECRET_ACCESS_KEY=shardline-local python app.py"
    )
    assert lines[3] == (
        "no AWS credentials set here, and boto3 and the AWS CLI need some to sign requests: export"
        " AWS_ACCESS_KEY_ID=shardline-local AWS_SECRET_ACCESS_KEY=shardline-local"
    )
    configured = how_to_reach("http://127.0.0.1:8000", environ={"AWS_PROFILE": "dev", "AWS_REGION": "eu-west-1"})
    assert configured == [
        "apps:    AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 python app.py",
        'boto3:   boto3.client("dynamodb", endpoint_url="http://127.0.0.1:8000")',
        "AWS CLI: aws dynamodb list-tables --endpoint-url http://127.0.0.1:8000",
        "any access key and region work: requests are not authenticated, and every key sees the same tables",
    ]


def test_a_developers_credentials_file_keeps_the_functions_real_credentials(tmp_path: Path) -> None:
    # The most common set-up: a default profile in ~/.aws/credentials and no AWS_PROFILE. Dummy keys in the
    # environment would win over it and break the function's calls to real AWS services (SQS, S3...).
    write(tmp_path / ".aws" / "credentials", "[default]\naws_access_key_id = AKIA\naws_secret_access_key = s\n")
    assert endpoint_environment("http://127.0.0.1:8000", explicit={}, host={"HOME": str(tmp_path)}, region=None) == {
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "http://127.0.0.1:8000",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
    }
    # the template's own setting wins, as for every variable
    explicit = {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" not in endpoint_environment(
        "http://127.0.0.1:8000", explicit=explicit, host={"HOME": str(tmp_path)}, region=None
    )


ENDPOINT_OF_A_NEW_CLIENT = "import boto3; print(boto3.client('dynamodb').meta.endpoint_url)"


def test_a_config_file_that_ignores_configured_endpoints_does_not_send_functions_to_aws(tmp_path: Path) -> None:
    pytest.importorskip("boto3")
    config = write(
        tmp_path / ".aws" / "config", "[default]\nregion = us-east-1\nignore_configured_endpoint_urls = true\n"
    )
    function_environment = endpoint_environment(
        "http://127.0.0.1:4567", explicit={}, host={"HOME": str(tmp_path)}, region=None
    )
    results = [
        subprocess.run(
            [sys.executable, "-c", ENDPOINT_OF_A_NEW_CLIENT],
            env={**bare_environment(tmp_path, AWS_CONFIG_FILE=str(config)), **extra},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for extra in ({"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4567"}, function_environment)
    ]
    assert results == [
        "https://dynamodb.us-east-1.amazonaws.com\n",  # what botocore does with the endpoint variable alone
        "http://127.0.0.1:4567\n",
    ]


def test_the_fixtures_environment_wins_over_a_config_file_that_ignores_endpoints(
    shardline_endpoint: LocalEndpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    boto3 = pytest.importorskip("boto3")
    config = write(tmp_path / "config", "[default]\nignore_configured_endpoint_urls = true\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")  # in the developer's shell, too
    for name, value in shardline_endpoint.environment.items():
        monkeypatch.setenv(name, value)
    client = boto3.session.Session().client("dynamodb")  # a new session: it reads the environment now
    assert client.meta.endpoint_url == shardline_endpoint.url
    shardline_endpoint.store.create_table("orders", key_schema={"pk": "S"})
    client.put_item(TableName="orders", Item={"pk": {"S": "order#1"}})
    assert shardline_endpoint.store.table("orders").get_item({"pk": "order#1"}) == {"pk": "order#1"}


# -- an old botocore ---------------------------------------------------------------------------------------------

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: orders
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: src
      Events:
        Stream:
          Type: DynamoDB
          Properties: {Stream: !GetAtt Orders.StreamArn, StartingPosition: TRIM_HORIZON}
"""


def vendored_botocore(folder: Path, version: str) -> Path:
    """A function folder that vendors botocore ``version`` (only its __init__.py: it is never imported)."""
    write(folder / "template.yaml", TEMPLATE)
    write(folder / "src" / "app.py", "def handler(event, context):\n    return None\n")
    write(folder / "src" / "botocore" / "__init__.py", f"import os\n\n__version__ = '{version}'\n")
    return folder / "template.yaml"


@pytest.mark.parametrize(("version", "stale"), [("1.30.1", True), ("1.29.165", True), ("1.31.0", False)])
def test_an_old_botocore_that_ignores_the_endpoint_variables_is_named(
    tmp_path: Path, version: str, stale: bool
) -> None:
    template = load_template(vendored_botocore(tmp_path, version))
    expected = (
        f"Resources.OrdersFunction: botocore {version} (in {tmp_path / 'src'}) ignores AWS_ENDPOINT_URL_DYNAMODB,"
        " so this function's DynamoDB clients would reach AWS, not the local endpoint; upgrade to boto3 1.28 or"
        " later (botocore 1.31), or give its clients endpoint_url"
    )
    assert stale_botocore(template.functions["OrdersFunction"], path=[]) == (expected if stale else None)


def test_no_botocore_at_all_is_no_warning(tmp_path: Path) -> None:
    template = load_template(vendored_botocore(tmp_path, "1.30.1"))
    shutil.rmtree(tmp_path / "src" / "botocore")
    assert stale_botocore(template.functions["OrdersFunction"], path=[str(tmp_path / "nothing")]) is None


def test_run_warns_about_an_old_botocore_and_says_what_no_endpoint_means(tmp_path: Path) -> None:
    vendored_botocore(tmp_path, "1.30.1")
    environment = bare_environment(tmp_path, SHARDLINE_PORT="0")
    common = ["run", "--until-idle", "--invoker", "in-process", "--state", str(tmp_path / "state.db")]
    served = subprocess.run(
        [*COMMAND, *common], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert served.returncode == 0, served.stderr
    warnings = [line for line in served.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: Resources.OrdersFunction: botocore 1.30.1 (in {tmp_path / 'src'}) ignores"
        " AWS_ENDPOINT_URL_DYNAMODB, so this function's DynamoDB clients would reach AWS, not the local endpoint;"
        " upgrade to boto3 1.28 or later (botocore 1.31), or give its clients endpoint_url"
    ]
    quiet = subprocess.run(
        [*COMMAND, *common, "--no-endpoint"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.splitlines()[0] == (
        "note: --no-endpoint: the functions' DynamoDB clients reach AWS, unless their Environment or --env-vars"
        " sets AWS_ENDPOINT_URL_DYNAMODB"
    )
    assert not [line for line in quiet.stderr.splitlines() if line.startswith("warning: ")]


# -- --host ------------------------------------------------------------------------------------------------------


def test_host_takes_an_ipv6_address_in_brackets(tmp_path: Path) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    with subprocess.Popen(
        [*COMMAND, "serve", "--host", "[::1]", "--port", "0", "--state", str(tmp_path / "state.db")],
        cwd=tmp_path,
        env=bare_environment(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        first = process.stderr.readline()
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=60)[1]
    if "Cannot assign requested address" in first:
        pytest.skip("::1 is not configured here")
    assert re.fullmatch(r"DynamoDB and DynamoDB Streams at http://\[::1\]:\d+ \(state .*\); Ctrl-C to stop\n", first)
    assert "warning" not in first + rest  # ::1 is loopback
    assert process.returncode == 130


def test_an_empty_host_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [*COMMAND, "serve", "--host", " ", "--port", "0", "--state", str(tmp_path / "state.db")],
        cwd=tmp_path,
        env=bare_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--host': expected an address: 127.0.0.1 (this machine only) or 0.0.0.0"
        " (every address)"
    )
    assert not (tmp_path / "state.db").exists()


def test_a_host_name_that_does_not_resolve_says_what_to_use() -> None:
    cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert _advice(cause, "myhost.invalid") == (
        "; --host myhost.invalid is no name this machine can resolve: use 127.0.0.1 (the default, this machine"
        " only), 0.0.0.0 (all of its addresses) or one of its own"
    )
    assert _advice(OSError(13, "Permission denied"), "127.0.0.1") == ""  # the endpoint's own message says it


@pytest.mark.parametrize("service", ["dynamodb", "dynamodbstreams"])
def test_the_variables_functions_get_point_boto3_at_the_endpoint(
    service: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # botocore names a service's variable after its service ID: "DynamoDB Streams" reads
    # AWS_ENDPOINT_URL_DYNAMODB_STREAMS (AWS SDKs and Tools reference guide, "Service-specific endpoints").
    import boto3

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    url = "http://127.0.0.1:8123"
    for name, value in endpoint_environment(url, explicit={}, host={}, region="us-east-1").items():
        monkeypatch.setenv(name, value)
    assert boto3.session.Session().client(service).meta.endpoint_url == url
