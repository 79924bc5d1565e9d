"""Mutation testing of shardline's core rules: run it before a release.

    python tools/mutants.py [--only PATTERN] [--list | --diff] [-v] [--jobs N] [--timeout SECONDS] [--json FILE]
                            [--tests PATH ...]

Each mutant below breaks one rule of the batch runner, the filters, the codec, the change records or the event
source mapping emulator, by replacing one exact piece of source (it must occur exactly once in its file) with
another. The script copies `src/` into a temporary folder, applies one mutant there, and runs the tests that
cover that module against the copy, on pure Python (`SHARDLINE_PURE_PYTHON=1`, without the C accelerator). A
mutant is killed when a test fails, and survives when every test passes: a rule no test checks. The repository's
own files are never changed.

Before the mutants, every module's tests run once on an unmutated copy (they must pass) and once on a copy whose
`shardline` cannot be imported (they must fail): this proves the tests import the copy and nothing else.

A mutant that changes nothing a caller can observe carries an `equivalent` reason instead of a test; it is
counted apart and left out of the score. Exit status: 0 when every mutant is killed or equivalent, 1 when one
survives (or one marked equivalent is killed: its reason is wrong), 2 when the list or the set-up is broken.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_RUNNING: set[subprocess.Popen[str]] = set()  # the test runs under way, stopped on Ctrl-C
_STOPPING = threading.Event()
_FROM_WORKDIR = re.compile(r"^(?:\.\./)+" + re.escape(str(ROOT).lstrip("/") + "/"))


@dataclass(frozen=True)
class Target:
    """A module and the tests that cover it (paths from the repository root; `src/...` ones run its doctests).
    A module's `tests/test_mutants_<name>.py`, the tests written for its survivors, is added when it exists."""

    path: str
    tests: tuple[str, ...]


TARGETS: dict[str, Target] = {
    "batch": Target(
        "src/shardline/_batch.py", ("tests/test_batch.py", "tests/test_fuzz_batch.py", "src/shardline/_batch.py")
    ),
    "changes": Target(
        "src/shardline/_changes.py", ("tests/test_builder.py", "tests/test_local_store.py", "src/shardline/_changes.py")
    ),
    "attributes": Target(
        "src/shardline/_attributes.py",
        ("tests/test_attributes.py", "tests/test_regressions.py", "src/shardline/_attributes.py"),
    ),
    "filters": Target(
        "src/shardline/_filters.py",
        ("tests/test_filters.py", "tests/test_fuzz_filters.py", "src/shardline/_filters.py"),
    ),
    "esm": Target(
        "src/shardline/local/_esm.py",
        ("tests/test_local_esm.py", "tests/test_fuzz_esm.py", "src/shardline/local/_esm.py"),
    ),
}


@dataclass(frozen=True)
class Mutant:
    """One broken rule: in `TARGETS[target].path`, the exact text `old` becomes `new`."""

    name: str  # "<target>/<what the mutant does>"
    rule: str
    old: str
    new: str
    equivalent: str = ""  # why no test can tell the mutant from the original, if none can

    @property
    def target(self) -> str:
        return self.name.split("/")[0]


M = Mutant
MUTANTS: tuple[Mutant, ...] = (
    # -- the batch runner: which records a partial batch response reports -----------------------------------------
    M(
        "batch/continue-reports-like-stop",
        'with on_failure="continue" only the records that failed or never ran are reported',
        "        return list(not_succeeded)",
        "        return list(range(not_succeeded[0], count))",
    ),
    M(
        "batch/stop-skips-the-failed-record",
        'with "stop" the first failed record is reported itself, so the checkpoint cannot pass it',
        "    return list(range(not_succeeded[0], count))",
        "    return list(range(not_succeeded[0] + 1, count))",
    ),
    M(
        "batch/stop-misses-the-last-record",
        'with "stop" every record from the first failure to the end of the batch is reported',
        "    return list(range(not_succeeded[0], count))",
        "    return list(range(not_succeeded[0], count - 1))",
    ),
    M(
        "batch/checkpoint-is-the-highest",
        "the checkpoint is the lowest reported sequence number",
        "self.checkpoint = sequence_numbers[reported[0]] if reported else None",
        "self.checkpoint = sequence_numbers[reported[-1]] if reported else None",
    ),
    M(
        "batch/redelivered-counts-skipped",
        "redelivered records are those that succeeded and are reported anyway, not those that never ran",
        "_compact([index for index in reported if index not in failures and index not in not_run])",
        "_compact([index for index in reported if index not in failures])",
    ),
    M(
        "batch/empty-batch-is-total-failure",
        "an empty batch is not a total failure",
        "return bool(self.records) and len(self.reported) == len(self.records)",
        "return len(self.reported) == len(self.records)",
    ),
    M(
        "batch/stop-runs-on",
        'with "stop" no record runs after the first failure',
        "            unfinished = range(index + 1, len(records))\n            break",
        "            unfinished = range(index + 1, len(records))",
    ),
    M(
        "batch/stop-skipped-off-by-one",
        'with "stop" every record after the failed one is skipped (never started)',
        "unfinished = range(index + 1, len(records))",
        "unfinished = range(index + 2, len(records))",
    ),
    M(
        "batch/awaitable-result-accepted",
        "a synchronous handler that returns an awaitable fails its record",
        "error = None if outcome is None else _not_awaited(outcome)",
        "error = None",
    ),
    M(
        "batch/system-exit-is-a-failure",
        "SystemExit propagates instead of failing its record",
        "if isinstance(exc, (KeyboardInterrupt, SystemExit)):",
        "if isinstance(exc, KeyboardInterrupt):",
    ),
    M(
        "batch/base-exception-propagates",
        "a BaseException other than KeyboardInterrupt, SystemExit and CancelledError fails its record",
        "            if _propagates(exc):  # KeyboardInterrupt, SystemExit, CancelledError: a request to stop\n"
        "                raise",
        "            raise",
    ),
    M(
        "batch/concurrency-zero-accepted",
        "concurrency must be a positive int",
        "if type(concurrency) is not int or concurrency < 1:",
        "if type(concurrency) is not int or concurrency < 0:",
    ),
    M(
        "batch/one-more-in-flight",
        "the asyncio runner keeps at most `concurrency` records in flight",
        "while ready and len(in_flight) < concurrency and not (stop and failures):",
        "while ready and len(in_flight) <= concurrency and not (stop and failures):",
    ),
    M(
        "batch/starts-after-a-failure",
        'with "stop" the asyncio runner starts no record after a failure',
        "while ready and len(in_flight) < concurrency and not (stop and failures):",
        "while ready and len(in_flight) < concurrency:",
    ),
    M(
        "batch/one-item-runs-concurrently",
        "records of one item (same Keys) run one at a time, in stream order",
        "key: object = (table, frozenset(keys.items()))",
        "key: object = (table, frozenset(keys.items()), id(record))",
    ),
    M(
        "batch/items-share-one-lane",
        "records of different items run concurrently",
        "key: object = (table, frozenset(keys.items()))",
        "key: object = (table, frozenset(keys))",
    ),
    M(
        "batch/unreadable-keys-run-concurrently",
        "records whose Keys cannot be read share one lane: one at a time, in stream order",
        "        return _UNREADABLE_KEYS\n    return key",
        "        return object()\n    return key",
    ),
    M(
        "batch/sequential-continue-stops",
        'with "continue" and concurrency 1 every record runs',
        "            if stop and failures:\n                break",
        "            if failures:\n                break",
    ),
    M(
        "batch/total-failure-on-any-failure",
        "raise_on_total_failure raises only when the response reports every record",
        "if raise_on_total_failure and result.all_failed:",
        "if raise_on_total_failure and result.failed:",
    ),
    M(
        "batch/on-result-error-escapes",
        "an on_result hook that raises does not lose the batch's response",
        '            _log(logger, "exception", "the on_result hook raised; the batch response is returned regardless")',
        "            raise",
    ),
    # -- change records: event names, images per view type, SizeBytes, updates ------------------------------------
    M(
        "changes/delete-of-missing-item-writes",
        "a delete of a missing item writes no stream record",
        '        return None if old is None else "REMOVE"',
        '        return "REMOVE"',
    ),
    M(
        "changes/unchanged-write-writes",
        "a put or update that leaves the item as it was writes no stream record",
        '    return None if old == new else "MODIFY"',
        '    return "MODIFY"',
    ),
    M(
        "changes/new-image-view-lacks-new",
        "a NEW_IMAGE record carries the NewImage",
        'NEW_VIEWS: Final = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})',
        'NEW_VIEWS: Final = frozenset({"NEW_AND_OLD_IMAGES"})',
    ),
    M(
        "changes/new-image-view-has-old",
        "a NEW_IMAGE record carries no OldImage",
        'OLD_VIEWS: Final = frozenset({"OLD_IMAGE", "NEW_AND_OLD_IMAGES"})',
        'OLD_VIEWS: Final = frozenset({"OLD_IMAGE", "NEW_IMAGE", "NEW_AND_OLD_IMAGES"})',
    ),
    M(
        "changes/keys-only-has-new",
        "a KEYS_ONLY record carries no image",
        "    if new is not None and view_type in NEW_VIEWS:",
        '    if new is not None and view_type != "OLD_IMAGE":',
    ),
    M(
        "changes/size-without-keys",
        "SizeBytes counts the Keys as well as the images",
        "    size = encoded_item_size(keys)",
        "    size = 0",
    ),
    M(
        "changes/size-ignores-given-size",
        "SizeBytes counts the NewImage it carries",
        "        size += encoded_item_size(new) if new_size is None else new_size",
        "        size += encoded_item_size(new)",
        equivalent="callers pass as new_size what encoded_item_size(new) returned for that very image (the store"
        " keeps it with the item): the two give the same number, and only the walk over the image is saved",
    ),
    M(
        "changes/creation-time-rounds",
        "ApproximateCreationDateTime is the write time in whole seconds, truncated",
        '"ApproximateCreationDateTime": created_ms // 1000',
        '"ApproximateCreationDateTime": round(created_ms / 1000)',
    ),
    M(
        "changes/images-out-of-order",
        "a record's fields come in AWS's order: Keys, NewImage, OldImage",
        "    if new is not None and view_type in NEW_VIEWS:\n"
        '        dynamodb["NewImage"] = new\n'
        "        size += encoded_item_size(new) if new_size is None else new_size\n"
        "    if old is not None and view_type in OLD_VIEWS:\n"
        '        dynamodb["OldImage"] = old\n'
        "        size += encoded_item_size(old) if old_size is None else old_size\n",
        "    if old is not None and view_type in OLD_VIEWS:\n"
        '        dynamodb["OldImage"] = old\n'
        "        size += encoded_item_size(old) if old_size is None else old_size\n"
        "    if new is not None and view_type in NEW_VIEWS:\n"
        '        dynamodb["NewImage"] = new\n'
        "        size += encoded_item_size(new) if new_size is None else new_size\n",
    ),
    M(
        "changes/ttl-identity-shared",
        "each Time to Live record has its own userIdentity, not the module's constant",
        'record["userIdentity"] = dict(TTL_IDENTITY)',
        'record["userIdentity"] = TTL_IDENTITY',
    ),
    M(
        "changes/remove-of-key-attribute",
        "an update cannot REMOVE a key attribute",
        "    for name in (*assigned, *names):",
        "    for name in assigned:",
    ),
    M(
        "changes/set-and-remove-same-attribute",
        "an update cannot SET and REMOVE the same attribute",
        "    if overlap:",
        "    if len(overlap) > 1:",
    ),
    M(
        "changes/update-over-item-limit",
        "an update that leaves the item over 400 KB is refused",
        "        image.pop(name, None)\n    size = encoded_item_size(image)\n"
        "    check_item_limits(image, size, schema.items())\n",
        "        image.pop(name, None)\n    size = encoded_item_size(image)\n",
    ),
    M(
        "changes/key-with-extra-attributes",
        "a key holds exactly the key attributes",
        "    extra = [str(name) for name in key if name not in schema]",
        "    extra: list[str] = []",
    ),
    M(
        "changes/key-values-unchecked",
        "a key's values obey the key rules (not empty, at most 2048 bytes for a partition key)",
        "    check_item_limits(image, encoded_item_size(image), schema.items())",
        "    pass",
    ),
    M(
        "changes/put-over-item-limit",
        "a put of an item over 400 KB, or without its key, is refused",
        "    size = encoded_item_size(image)  # serialize_item made it: valid by construction, only limits to check\n"
        "    check_item_limits(image, size, schema.items())\n",
        "    size = encoded_item_size(image)  # serialize_item made it: valid by construction, only limits to check\n",
    ),
    # -- the codec: type tags, limits, sizes ----------------------------------------------------------------------
    M(
        "attributes/depth-33",
        "values nest at most 32 levels",
        "MAX_DEPTH: Final = 32",
        "MAX_DEPTH: Final = 33",
    ),
    M(
        "attributes/walk-depth-boundary",
        "the careful walk refuses a non-empty container at level 32",
        "def _check_depth(container: Any, path: str, depth: int) -> None:\n    if depth >= MAX_DEPTH and container:",
        "def _check_depth(container: Any, path: str, depth: int) -> None:\n    if depth > MAX_DEPTH and container:",
    ),
    M(
        "attributes/empty-container-at-the-bottom",
        "an empty map or list at level 32 is allowed",
        "def _check_depth(container: Any, path: str, depth: int) -> None:\n    if depth >= MAX_DEPTH and container:",
        "def _check_depth(container: Any, path: str, depth: int) -> None:\n    if depth >= MAX_DEPTH:",
    ),
    M(
        "attributes/encode-depth-boundary",
        "encoding refuses a value nested deeper than 32 levels",
        "def _check_encode_depth(container: Any, path: str, depth: int) -> None:\n"
        "    if depth >= MAX_DEPTH and container:",
        "def _check_encode_depth(container: Any, path: str, depth: int) -> None:\n"
        "    if depth > MAX_DEPTH and container:",
    ),
    M(
        "attributes/partition-key-2049",
        "a partition key value is at most 2048 bytes",
        "_PARTITION_KEY_MAX: Final = 2048",
        "_PARTITION_KEY_MAX: Final = 2049",
    ),
    M(
        "attributes/sort-key-as-long-as-partition-key",
        "a sort key value is at most 1024 bytes",
        "if 0 < length <= (_PARTITION_KEY_MAX if position == 0 else _SORT_KEY_MAX):",
        "if 0 < length <= (_PARTITION_KEY_MAX if position <= 1 else _SORT_KEY_MAX):",
    ),
    M(
        "attributes/empty-key-value",
        "a key value is never empty",
        "if 0 < length <= (_PARTITION_KEY_MAX if position == 0 else _SORT_KEY_MAX):",
        "if 0 <= length <= (_PARTITION_KEY_MAX if position == 0 else _SORT_KEY_MAX):",
    ),
    M(
        "attributes/item-limit-boundary",
        "an item of exactly 409,600 bytes is allowed",
        "    if size > ITEM_SIZE_LIMIT:",
        "    if size >= ITEM_SIZE_LIMIT:",
    ),
    M(
        "attributes/item-limit-400000",
        "400 KB is 409,600 bytes",
        "ITEM_SIZE_LIMIT: Final = 409_600",
        "ITEM_SIZE_LIMIT: Final = 400_000",
    ),
    M(
        "attributes/negative-number-byte",
        "a negative number takes one byte more",
        "    return min(count + 1 + negative, 21)",
        "    return min(count + 1, 21)",
    ),
    M(
        "attributes/integer-trailing-zero-pairs",
        "an integer's trailing pairs of zeros take no bytes",
        '        count = (len(whole) + 1) // 2 - (len(whole) - len(whole.rstrip("0"))) // 2',
        "        count = (len(whole) + 1) // 2",
    ),
    M(
        "attributes/fraction-pairs-round-down",
        "an odd digit of a fraction takes a byte of its own",
        "        count = (len(whole) + 1) // 2 + (len(fraction) + 1) // 2",
        "        count = (len(whole) + 1) // 2 + len(fraction) // 2",
    ),
    M(
        "attributes/below-one-leading-zero-pairs",
        "the leading pairs of zeros of a number below one take no bytes",
        '        count = (len(fraction) + 1) // 2 - (len(fraction) - len(fraction.lstrip("0"))) // 2',
        "        count = (len(fraction) + 1) // 2",
    ),
    M(
        "attributes/map-entry-overhead",
        "each map entry takes one byte beyond its name and value",
        "size += _walk_name(name, path) + _walk(item, join_path(path, name), depth + 1, budget) + 1",
        "size += _walk_name(name, path) + _walk(item, join_path(path, name), depth + 1, budget)",
    ),
    M(
        "attributes/record-list-element-overhead",
        "SizeBytes counts one byte per list element",
        "return 3 + sum(_encoded_size(item) + 1 for item in value)",
        "return 3 + sum(_encoded_size(item) for item in value)",
    ),
    M(
        "attributes/record-name-characters",
        "SizeBytes counts an attribute name's UTF-8 bytes, not its characters",
        'size += (len(name) if name.isascii() else _utf8_len(name, "")) + _encoded_size(av)',
        "size += len(name) + _encoded_size(av)",
    ),
    M(
        "attributes/base64-padding-anywhere",
        "a binary's size is its base64 length in bytes, less its padding",
        'return len(text) // 4 * 3 - text.count("=", -2)',
        'return len(text) // 4 * 3 - text.count("=")',
        equivalent="encoded_item_size only sizes what serialize_item wrote: standard base64 from b64encode, whose"
        ' "=" padding is never anywhere but in the last two characters',
    ),
    M(
        "attributes/bool-key-type",
        "key attributes are S, N or B",
        '_KEY_TYPES: Final = frozenset({"S", "N", "B"})',
        '_KEY_TYPES: Final = frozenset({"S", "N", "B", "BOOL"})',
    ),
    M(
        "attributes/39-digits",
        "a number has at most 38 significant digits",
        "    prec=38,",
        "    prec=39,",
    ),
    M(
        "attributes/below-1e-130",
        "the smallest non-zero number is 1E-130",
        "    Emin=-130,",
        "    Emin=-131,",
    ),
    M(
        "attributes/encode-39-digits",
        "encoding refuses a number of more than 38 significant digits",
        "    if digits > 38:",
        "    if digits > 39:",
    ),
    M(
        "attributes/empty-string-set",
        "a string set is never empty",
        "def _decode_ss(value: Any, depth: int, budget: list[int]) -> set[str]:\n"
        "    if type(value) is not list or not value:",
        "def _decode_ss(value: Any, depth: int, budget: list[int]) -> set[str]:\n    if type(value) is not list:",
    ),
    M(
        "attributes/number-set-duplicates",
        'a number set holds no value twice ("1" and "1.0" are one value)',
        "        result = set(map(_number, value))\n    if len(result) != len(value):\n        raise _Invalid\n",
        "        result = set(map(_number, value))\n",
    ),
    M(
        "attributes/null-false",
        "NULL is always true",
        "def _decode_null(value: Any, depth: int, budget: list[int]) -> None:\n    if value is not True:",
        "def _decode_null(value: Any, depth: int, budget: list[int]) -> None:\n    if value is None:",
    ),
    M(
        "attributes/empty-attribute-name",
        "an item's attribute names are never empty",
        'if (type(image) is not dict and not isinstance(image, Mapping)) or "" in image:',
        "if type(image) is not dict and not isinstance(image, Mapping):",
    ),
    M(
        "attributes/integral-zero-exponent",
        "int_if_integral turns every integral number into an int",
        "if exponent >= 0 or not any(digits[exponent:]):",
        "if exponent > 0 or not any(digits[exponent:]):",
    ),
    M(
        "attributes/boolean-set",
        "a set of booleans has no DynamoDB type",
        "        elif isinstance(element, bool):\n"
        '            raise AttributeTypeError("sets may hold strings, numbers or binaries, not booleans", path)\n',
        "",
    ),
    M(
        "attributes/number-set-sorted-as-text",
        "a number set is written in ascending order of value",
        "        texts.sort(key=Decimal)",
        "        texts.sort()",
    ),
    M(
        "attributes/base64-surplus-padding",
        'a binary is standard base64: no "=" beyond the two a final group may need',
        '        if type(value) is str:\n            if len(value) & 3 or value.endswith("==="):\n'
        "                raise _Invalid\n            data = binascii.a2b_base64(value, strict_mode=True)",
        "        if type(value) is str:\n            if len(value) & 3:\n"
        "                raise _Invalid\n            data = binascii.a2b_base64(value, strict_mode=True)",
    ),
    M(
        "attributes/int-fast-path-boundary",
        "an int is written in DynamoDB's normalised plain form",
        "elif kind is int and -_PLAIN_INT_LIMIT < value < _PLAIN_INT_LIMIT:",
        "elif kind is int and -_PLAIN_INT_LIMIT < value <= _PLAIN_INT_LIMIT:",
        equivalent="the one int the mutant moves to the fast path, 10**38, is written by str() exactly as the careful"
        " path writes it (a 1 and 38 zeros, one significant digit, within range)",
    ),
    M(
        "attributes/number-cache-one-more",
        "the number cache is bounded",
        "        if len(_NUMBER_CACHE) >= _NUMBER_CACHE_SIZE:",
        "        if len(_NUMBER_CACHE) > _NUMBER_CACHE_SIZE:",
        equivalent="the cache then holds 4,097 numbers instead of 4,096 before it is cleared; every number read is"
        " the same value either way",
    ),
    # -- filters: operators, types, exists, $or -------------------------------------------------------------------
    M(
        "filters/numeric-less-than-inclusive",
        'numeric "<" excludes its bound',
        '"<": lambda bound: lambda value: value < bound,',
        '"<": lambda bound: lambda value: value <= bound,',
    ),
    M(
        "filters/numeric-at-least-exclusive",
        'numeric ">=" includes its bound',
        '">=": lambda bound: lambda value: value >= bound,',
        '">=": lambda bound: lambda value: value > bound,',
    ),
    M(
        "filters/numeric-equals-at-least",
        'numeric "=" matches its value only',
        '"=": lambda bound: lambda value: value == bound,',
        '"=": lambda bound: lambda value: value >= bound,',
    ),
    M(
        "filters/numeric-limit-5e10",
        "numeric operands lie between -5.0e9 and 5.0e9",
        '_NUMERIC_LIMIT: Final = Decimal("5E9")',
        '_NUMERIC_LIMIT: Final = Decimal("5E10")',
    ),
    M(
        "filters/numeric-limit-exclusive",
        "a numeric operand of exactly 5.0e9 is accepted",
        "return value if abs(value) <= _NUMERIC_LIMIT else None",
        "return value if abs(value) < _NUMERIC_LIMIT else None",
    ),
    M(
        "filters/numeric-matches-booleans",
        "numeric never matches true or false",
        "    kind = type(value)\n    if kind is int:\n        if -_NUMERIC_CLAMP < value < _NUMERIC_CLAMP:",
        "    kind = type(value)\n    if isinstance(value, int):\n        if -_NUMERIC_CLAMP < value < _NUMERIC_CLAMP:",
    ),
    M(
        "filters/numeric-matches-n-strings",
        "N values are strings, so numeric never matches them",
        "    if kind is Decimal:\n        return value  # type: ignore[no-any-return]\n    return None",
        "    if kind is Decimal:\n        return value  # type: ignore[no-any-return]\n"
        "    if kind is str and value.isdigit():\n        return Decimal(value)\n    return None",
    ),
    M(
        "filters/huge-int-clamp-sign",
        "a record number beyond the clamp compares as the bound of its own sign",
        "return Decimal(_NUMERIC_CLAMP if value > 0 else -_NUMERIC_CLAMP)",
        "return Decimal(_NUMERIC_CLAMP if value < 0 else -_NUMERIC_CLAMP)",
    ),
    M(
        "filters/float-300-is-300",
        "values match as written: 300.0 in a record is not the pattern's 300",
        '    if kind is float:\n        return ("#", repr(value))',
        '    if kind is float:\n        return ("#", str(int(value)) if value.is_integer() else repr(value))',
    ),
    M(
        "filters/true-is-1",
        "true is not the number 1",
        '    if kind is bool:\n        return ("b", value)',
        '    if kind is bool:\n        return ("#", str(int(value)))',
    ),
    M(
        "filters/string-matches-number",
        'the string "300" is not the number 300',
        'leaf.strings = frozenset(value for kind, value in exact if kind == "s")',
        'leaf.strings = frozenset(value for kind, value in exact if kind in ("s", "#"))',
    ),
    M(
        "filters/values-match-a-map",
        "values and exists look at leaves only: a map is no value",
        "        return node.leaf is None and _walk_object(node, value)",
        "        return _walk_object(node, value)",
    ),
    M(
        "filters/exists-false-fails-on-a-map",
        "exists: false matches a field that is a map (recorded on AWS)",
        "    if kind is dict or value is _MISSING:\n        return False\n    if kind in _SCALAR_TYPES:",
        "    if kind is dict:\n        return True\n    if value is _MISSING:\n        return False\n"
        "    if kind in _SCALAR_TYPES:",
    ),
    M(
        "filters/prefix-contains",
        "prefix matches the start of a string only",
        "return lambda value: type(value) is str and value.startswith(operand)",
        "return lambda value: type(value) is str and operand in value",
    ),
    M(
        "filters/suffix-is-prefix",
        "suffix matches the end of a string",
        "return lambda value: type(value) is str and value.endswith(operand)",
        "return lambda value: type(value) is str and value.startswith(operand)",
    ),
    M(
        "filters/anything-but-strings-only",
        "anything-but accepts every present value but those listed, numbers too",
        "return lambda value: _key(value) not in frozen",
        "return lambda value: type(value) is str and _key(value) not in frozen",
    ),
    M(
        "filters/or-of-one",
        "$or takes at least two alternatives",
        "        or len(value) < 2",
        "        or len(value) < 1",
    ),
    M(
        "filters/or-alternatives-anded",
        "the alternatives of $or are ORed",
        "return any(_walk_object(rule.root, obj) for rule in self.candidates(obj))",
        "return all(_walk_object(rule.root, obj) for rule in self.candidates(obj))",
    ),
    M(
        "filters/filters-anded",
        "filters are ORed: a record passes when any filter matches",
        "            return any(compiled.matches(obj) for compiled in self._filters)",
        "            return all(compiled.matches(obj) for compiled in self._filters)",
    ),
    M(
        "filters/first-path-wins",
        "a path given twice: the later one wins",
        "                for rule in rules:\n                    rule[path] = value",
        "                for rule in rules:\n                    rule.setdefault(path, value)",
    ),
    M(
        "filters/five-filters-refused",
        "a mapping may have 5 filters",
        "        if len(texts) > max_filters:",
        "        if len(texts) >= max_filters:",
    ),
    M(
        "filters/pattern-of-4096-refused",
        "a pattern may be 4096 characters long",
        "            if len(text) > _PATTERN_LIMIT:",
        "            if len(text) >= _PATTERN_LIMIT:",
    ),
    M(
        "filters/operator-names-outside-or",
        "operator names are field names like any other outside $or",
        "elif in_or and name in _RESERVED_IN_OR:",
        "elif name in _RESERVED_IN_OR:",
    ),
    M(
        "filters/range-upper-bound-first",
        "a numeric range may give its upper bound first",
        '            if first in ("<", "<="):\n'
        "                (first, low, low_text), (second, high, high_text) = bounds[1], bounds[0]\n",
        "",
    ),
    M(
        "filters/range-of-one-value",
        'a range whose bounds are equal is valid ([">=", 5, "<=", 5])',
        "            if low > high:",
        "            if low >= high:",
    ),
    M(
        "filters/array-every-element",
        "an array in the record matches when any element matches",
        "            return any(leaf.accepts(item) for item in _scalars(array))",
        "            return all(leaf.accepts(item) for item in _scalars(array))",
    ),
    M(
        "filters/exists-false-anchor",
        "exists: false is checked within the array element the value fields sorted before it matched in",
        "                elif common == depth and len(other) > common:\n                    strict = True\n",
        "",
    ),
    # -- the event source mapping: retries, backoff, bisection, batches, checkpoints --------------------------------
    M(
        "esm/backoff-base-500",
        "the first retry waits one second",
        "_BACKOFF_BASE_MS: Final = 1000",
        "_BACKOFF_BASE_MS: Final = 500",
    ),
    M(
        "esm/backoff-cap-120s",
        "backoff stops doubling at one minute",
        "_BACKOFF_CAP_MS: Final = 60_000",
        "_BACKOFF_CAP_MS: Final = 120_000",
    ),
    M(
        "esm/backoff-doubles-from-two",
        "backoff doubles from one second: 1, 2, 4... seconds",
        "delay = min(_BACKOFF_CAP_MS, _BACKOFF_BASE_MS * 2 ** (batch.attempts - 1))",
        "delay = min(_BACKOFF_CAP_MS, _BACKOFF_BASE_MS * 2 ** batch.attempts)",
    ),
    M(
        "esm/jitter-20-percent",
        "a retry is late by at most a tenth of its backoff",
        "self._rng.randrange(0, delay // 10 + 1)",
        "self._rng.randrange(0, delay // 5 + 1)",
    ),
    M(
        "esm/one-retry-fewer",
        "MaximumRetryAttempts N retries a batch N times after its first attempt",
        "if retries != -1 and batch.attempts > retries:",
        "if retries != -1 and batch.attempts >= retries:",
    ),
    M(
        "esm/infinite-retries-give-up",
        "MaximumRetryAttempts -1 retries until the records expire",
        "if retries != -1 and batch.attempts > retries:",
        "if batch.attempts > retries:",
    ),
    M(
        "esm/bisect-odd-half",
        "bisection puts the middle record of an odd batch in the first half",
        "half = matched[(len(matched) + 1) // 2 - 1]",
        "half = matched[len(matched) // 2 - 1]",
    ),
    M(
        "esm/bisect-needs-three",
        "a failed batch of two records is bisected",
        "if split and settings.bisect_batch_on_function_error and len(matched) > 1:",
        "if split and settings.bisect_batch_on_function_error and len(matched) > 2:",
    ),
    M(
        "esm/bisect-partial-that-moved-nothing",
        "a partial response that reports the first record retries the whole batch, without splitting it",
        "if split and settings.bisect_batch_on_function_error and len(matched) > 1:",
        "if settings.bisect_batch_on_function_error and len(matched) > 1:",
    ),
    M(
        "esm/bisect-halves-out-of-order",
        "the halves of bisections run in stream order",
        "lane.forced_spans.insert(0, batch.span - first_span)",
        "lane.forced_spans.append(batch.span - first_span)",
    ),
    M(
        "esm/partial-keeps-retry-count",
        "after a partial response the rest of the batch starts with a fresh retry count",
        "                    lane.batch = _Batch(span=rest)",
        "                    lane.batch = _Batch(span=rest, attempts=batch.attempts)",
    ),
    M(
        "esm/partial-retries-the-rest",
        "without bisection, the lowest reported record is retried alone",
        "                    lane.batch = _Batch(span=1)",
        "                    lane.batch = _Batch(span=rest)",
    ),
    M(
        "esm/record-age-boundary",
        "a record exactly MaximumRecordAgeInSeconds old is still delivered",
        "expired = [entry for entry in delivered if now - entry.created_ms > limit]",
        "expired = [entry for entry in delivered if now - entry.created_ms >= limit]",
    ),
    M(
        "esm/expired-records-invoked",
        "records past their maximum age are not invoked",
        "                entry.matched = False  # still covered by the batch's span, so the checkpoint passes it\n",
        "                pass\n",
    ),
    M(
        "esm/batch-size-plus-one",
        "a batch holds at most BatchSize records",
        "if matched == settings.batch_size or (matched and size + entry.size + 1 > PAYLOAD_LIMIT):",
        "if matched > settings.batch_size or (matched and size + entry.size + 1 > PAYLOAD_LIMIT):",
    ),
    M(
        "esm/payload-limit-exclusive",
        "a batch may fill the 6 MB payload exactly",
        "if matched == settings.batch_size or (matched and size + entry.size + 1 > PAYLOAD_LIMIT):",
        "if matched == settings.batch_size or (matched and size + entry.size + 1 >= PAYLOAD_LIMIT):",
    ),
    M(
        "esm/payload-without-commas",
        "the payload counts the comma between records",
        "if matched == settings.batch_size or (matched and size + entry.size + 1 > PAYLOAD_LIMIT):",
        "if matched == settings.batch_size or (matched and size + entry.size > PAYLOAD_LIMIT):",
    ),
    M(
        "esm/payload-without-envelope",
        'the payload counts the event\'s {"Records":[]} around the records',
        "_EVENT_OVERHEAD: Final = len('{\"Records\":[]}')",
        "_EVENT_OVERHEAD: Final = 0",
    ),
    M(
        "esm/oversized-record-blocks",
        "a record too large to share a payload still goes alone in a batch",
        "if matched == settings.batch_size or (matched and size + entry.size + 1 > PAYLOAD_LIMIT):",
        "if matched == settings.batch_size or size + entry.size + 1 > PAYLOAD_LIMIT:",
        equivalent="no stream record comes near 6 MB on its own: an item is at most 400 KB, so a record with both"
        " images is at most about 4.9 MB even when every byte is escaped six-fold in JSON (a control character"
        " becomes \\u0001); the first record of a batch always fits",
    ),
    M(
        "esm/batching-window-boundary",
        "a batch leaves when its batching window ends",
        "            if now < ready_at:",
        "            if now <= ready_at:",
    ),
    M(
        "esm/window-closes-late",
        "a tumbling window's final invoke comes when the window ends",
        "over = self.clock.now_ms() >= start + window_ms or",
        "over = self.clock.now_ms() > start + window_ms or",
    ),
    M(
        "esm/terminated-early-at-the-end",
        "isWindowTerminatedEarly is false for a window that ran its full length",
        "final and shard.exhausted and self.clock.now_ms() < start + window_s * 1000",
        "final and shard.exhausted and self.clock.now_ms() <= start + window_s * 1000",
    ),
    M(
        "esm/checkpoint-redelivered",
        "a resumed mapping does not deliver its checkpoint record again",
        "if lane.checkpoint is not None and sequence <= lane.checkpoint:",
        "if lane.checkpoint is not None and sequence < lane.checkpoint:",
    ),
    M(
        "esm/child-before-parent-done",
        "a child shard waits until its parent is finished, not merely read",
        "if parent is not None and not parent.finished:",
        "if parent is not None and not parent.exhausted:",
    ),
    M(
        "esm/resume-from-fastest-lane",
        "a resumed shard is read again from its slowest lane's checkpoint",
        "shard.fetched_to = min(known) if len(known) == len(shard.lanes) else None",
        "shard.fetched_to = max(known) if len(known) == len(shard.lanes) else None",
    ),
    M(
        "esm/new-factor-from-fastest-lane",
        "a changed ParallelizationFactor restarts every lane from the slowest old lane",
        "start = min(known) if len(known) == len(checkpoints) else None",
        "start = max(known) if len(known) == len(checkpoints) else None",
    ),
    M(
        "esm/lanes-by-whole-key",
        "lanes split a shard by partition key: one partition key, one lane",
        "    first = next(iter(keys.items()))",
        "    first = sorted(keys.items())",
    ),
    M(
        "esm/window-final-one-retry-fewer",
        "a window's failed final invoke is retried MaximumRetryAttempts times",
        "(retries == -1 or lane.final_attempts <= retries)",
        "(retries == -1 or lane.final_attempts < retries)",
    ),
    M(
        "esm/function-error-always",
        "the on-failure record says Unhandled only after a function error",
        '"functionError": UNHANDLED if batch.function_error else None,',
        '"functionError": UNHANDLED,',
    ),
    M(
        "esm/age-record-has-response",
        "a RecordAgeExceeded record has no responseContext",
        '        if condition != "RecordAgeExceeded":',
        "        if condition:",
    ),
    M(
        "esm/batch-size-counts-filtered",
        "the on-failure record's batchSize counts the records it covers, not those filtered out",
        '"batchSize": len(entries),',
        '"batchSize": batch.span,',
    ),
    M(
        "esm/retry-count-metric",
        "the retries metric counts retries, not first attempts",
        '        if batch.attempts > 1:\n            shard.metrics["retries"] += 1',
        '        if batch.attempts >= 1:\n            shard.metrics["retries"] += 1',
    ),
    M(
        "esm/skips-filtered-inside-a-bisect",
        "records filtered out inside a bisected batch stay in the halves' spans",
        "if not lane.queue or lane.queue[0].matched or lane.forced_spans:",
        "if not lane.queue or lane.queue[0].matched:",
    ),
)

SANITY = Mutant(
    "sanity/shardline-cannot-import", "the tests import the copy", "", 'raise ImportError("sanity check")\n'
)


# --------------------------------------------------------------------------------------------------
# Checking the list


def check(mutants: list[Mutant]) -> list[str]:
    """What is wrong with the mutants: unknown targets, names used twice, text that does not occur exactly once."""
    names = [mutant.name for mutant in MUTANTS]
    problems = [f"{name}: the name is used twice" for name in sorted({n for n in names if names.count(n) > 1})]
    for name, target in TARGETS.items():
        problems.extend(
            f"{name}: no file {path}" for path in (target.path, *target.tests) if not (ROOT / path).exists()
        )
    texts: dict[str, str] = {}
    for mutant in mutants:
        target = TARGETS.get(mutant.target)
        if target is None:
            problems.append(f"{mutant.name}: unknown target {mutant.target!r}")
            continue
        if mutant.target not in texts:
            texts[mutant.target] = (ROOT / target.path).read_text(encoding="utf-8")
        count = texts[mutant.target].count(mutant.old) if mutant.old else 0
        if count != 1:
            problems.append(f"{mutant.name}: its text occurs {count} times in {target.path}, not once")
            continue
        try:
            compile(texts[mutant.target].replace(mutant.old, mutant.new, 1), target.path, "exec")
        except SyntaxError as exc:
            problems.append(f"{mutant.name}: the mutated module does not compile ({exc.msg}, line {exc.lineno})")
        if mutant.old == mutant.new:
            problems.append(f"{mutant.name}: the replacement is the same text")
    return problems


def _tests(name: str) -> tuple[str, ...]:
    own = f"tests/test_mutants_{name}.py"
    return (*TARGETS[name].tests, own) if (ROOT / own).exists() else TARGETS[name].tests


def diff(mutant: Mutant) -> str:
    path = TARGETS[mutant.target].path
    before = (ROOT / path).read_text(encoding="utf-8")
    after = before.replace(mutant.old, mutant.new, 1)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=1
    )
    return "".join(lines)


# --------------------------------------------------------------------------------------------------
# Running


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # "killed", "survived" or "timeout"
    seconds: float
    detail: str = ""


def _copy(workdir: Path) -> Path:
    """A fresh copy of src/ without compiled files or the C accelerator."""
    shutil.copytree(
        ROOT / "src",
        workdir / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", "*.egg-info"),
    )
    return workdir / "src"


def _environment(src: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHONPATH", "COVERAGE_PROCESS_START", "PYTEST_ADDOPTS"}
    }
    env.update(PYTHONPATH=str(src), SHARDLINE_PURE_PYTHON="1", PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    return env


def _command(target: Target, src: Path) -> list[str]:
    tests = [str(src.parent / test) if test.startswith("src/") else str(ROOT / test) for test in target.tests]
    return [
        sys.executable, "-m", "pytest", *tests,
        "-x", "-q", "-p", "no:cacheprovider", "--hypothesis-seed=0",
        "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
    ]  # fmt: skip


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """The exit status and output of a command (None on timeout, its process group then killed)."""
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    ) as process:
        _RUNNING.add(process)
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            return None, output
        except BaseException:  # Ctrl-C in the main thread (the others are stopped by _stop_all)
            os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            _RUNNING.discard(process)
    return process.returncode, output


def _stop_all() -> None:
    """Ctrl-C: the tests run in sessions of their own, which the terminal does not stop; stop them here."""
    _STOPPING.set()
    for process in list(_RUNNING):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            # pytest names tests relative to the working directory (the temporary folder): show them from the root.
            status, _, test = line.split(" - ")[0].partition(" ")
            return f"{status} {re.sub(_FROM_WORKDIR, '', test)}"
    return output.strip().splitlines()[-1] if output.strip() else ""


def run_mutant(mutant: Mutant, target: Target, timeout: float) -> Outcome:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shardline-mutant-") as folder:
        workdir = Path(folder)
        src = _copy(workdir)
        path = src.parent / (target.path if mutant is not SANITY else "src/shardline/__init__.py")
        text = path.read_text(encoding="utf-8")
        path.write_text(text + mutant.new if mutant is SANITY else text.replace(mutant.old, mutant.new, 1), "utf-8")
        code, output = _run(_command(target, src), workdir, _environment(src), timeout)
    seconds = time.perf_counter() - started
    if code is None:
        return Outcome(mutant, "timeout", seconds)
    if code == 0:
        return Outcome(mutant, "survived", seconds)
    if code == 1:
        return Outcome(mutant, "killed", seconds, _first_failure(output))
    # Collection errors, usage errors, internal errors: the tests failed to run, which kills the mutant too.
    return Outcome(mutant, "killed", seconds, f"pytest exit {code}: {_first_failure(output)}")


def prepare(targets: dict[str, Target]) -> dict[str, float]:
    """Check that the tests run on the copy, on pure Python, and pass unmutated; their time per target."""
    with tempfile.TemporaryDirectory(prefix="shardline-mutant-") as folder:
        src = _copy(Path(folder))
        probe = "import shardline; print(shardline.__file__); print(shardline.speedups_enabled)"
        code, output = _run([sys.executable, "-c", probe], Path(folder), _environment(src), 60)
        lines = output.split()
        if code != 0 or len(lines) != 2 or not lines[0].startswith(str(src)) or lines[1] != "False":
            sys.exit(f"the copy is not what Python imports, or not pure Python:\n{output}")
    baseline: dict[str, float] = {}
    for name, target in targets.items():
        with tempfile.TemporaryDirectory(prefix="shardline-mutant-") as folder:
            src = _copy(Path(folder))
            started = time.perf_counter()
            code, output = _run(_command(target, src), Path(folder), _environment(src), 600)
            baseline[name] = time.perf_counter() - started
        if code != 0:
            sys.exit(f"{name}: the tests fail without any mutation; fix them first:\n{output[-4000:]}")
        sanity = run_mutant(SANITY, target, 600)
        if sanity.status != "killed":
            sys.exit(f"{name}: the tests passed with a shardline that cannot be imported: they do not test the copy")
        print(f"  {name:<11} baseline passes in {baseline[name]:.1f}s; a broken copy fails them", flush=True)
    return baseline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", metavar="PATTERN", help="mutants whose name matches (fnmatch, or a substring)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--diff", action="store_true", help="show each mutant's change and exit")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="mutants run at once (default 1)")
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="per mutant (default: 5 x the baseline, 30 at least)"
    )
    parser.add_argument("--json", metavar="FILE", help="write the outcomes to FILE")
    parser.add_argument(
        "--tests", nargs="+", metavar="PATH", help="run these tests (from the root) instead of each module's own"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the first test that killed each mutant")
    args = parser.parse_args(argv)

    selected = list(MUTANTS)
    if args.only:
        pattern = args.only if any(char in args.only for char in "*?[") else f"*{args.only}*"
        selected = [mutant for mutant in MUTANTS if fnmatch.fnmatchcase(mutant.name, pattern)]
    problems = check(selected)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    if args.list:
        for mutant in selected:
            note = "  (equivalent)" if mutant.equivalent else ""
            print(f"{mutant.name:<52} {mutant.rule}{note}")
        print(f"{len(selected)} mutants")
        return 0
    if args.diff:
        for mutant in selected:
            print(f"# {mutant.name}: {mutant.rule}\n{diff(mutant)}")
        return 0
    if not selected:
        print("no mutant matches", file=sys.stderr)
        return 2

    started = time.perf_counter()
    names = sorted({mutant.target for mutant in selected}, key=list(TARGETS).index)
    targets = {name: replace(TARGETS[name], tests=tuple(args.tests) if args.tests else _tests(name)) for name in names}
    print(f"{len(selected)} mutants of {len(targets)} modules; checking the set-up:", flush=True)
    baseline = prepare(targets)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def one(mutant: Mutant) -> Outcome:
        timeout = args.timeout or max(30.0, 5 * baseline[mutant.target])
        outcome = run_mutant(mutant, targets[mutant.target], timeout)
        if _STOPPING.is_set():
            return outcome
        with lock:
            outcomes.append(outcome)
            shown = outcome.status + (" (marked equivalent)" if mutant.equivalent else "")
            line = f"[{len(outcomes):3}/{len(selected)}] {shown:<29} {mutant.name}  {outcome.seconds:.1f}s"
            print(f"{line}  {outcome.detail}" if args.verbose else line, flush=True)
        return outcome

    pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        list(pool.map(one, selected))
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    outcomes.sort(key=lambda outcome: selected.index(outcome.mutant))
    return report(outcomes, time.perf_counter() - started, args.json)


def report(outcomes: list[Outcome], seconds: float, json_path: str | None) -> int:
    equivalent = [o for o in outcomes if o.mutant.equivalent and o.status == "survived"]
    wrongly_equivalent = [o for o in outcomes if o.mutant.equivalent and o.status != "survived"]
    survived = [o for o in outcomes if not o.mutant.equivalent and o.status == "survived"]
    killed = [o for o in outcomes if o.status == "killed" and not o.mutant.equivalent]
    timeouts = [o for o in outcomes if o.status == "timeout" and not o.mutant.equivalent]
    for outcome in survived:
        print(f"\nSURVIVED {outcome.mutant.name}: no test checks that {outcome.mutant.rule}\n{diff(outcome.mutant)}")
    for outcome in wrongly_equivalent:
        print(f"\nMARKED EQUIVALENT BUT {outcome.status.upper()}: {outcome.mutant.name} ({outcome.detail})")
    counted = len(outcomes) - len(equivalent)
    detected = len(killed) + len(timeouts) + len(wrongly_equivalent)
    score = detected / counted if counted else 1.0
    print(
        f"\n{len(outcomes)} mutants: {len(killed)} killed, {len(timeouts)} timed out, {len(survived)} survived,"
        f" {len(equivalent)} equivalent; score {detected}/{counted} = {score:.1%} in {seconds / 60:.1f} min"
    )
    for outcome in equivalent:
        print(f"  equivalent {outcome.mutant.name}: {outcome.mutant.equivalent}")
    if json_path:
        data = [
            {"name": o.mutant.name, "status": o.status, "seconds": round(o.seconds, 2), "detail": o.detail}
            for o in outcomes
        ]
        Path(json_path).write_text(json.dumps({"score": score, "mutants": data}, indent=2) + "\n", encoding="utf-8")
    return 1 if survived or wrongly_equivalent else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _stop_all()
        sys.exit(130)
