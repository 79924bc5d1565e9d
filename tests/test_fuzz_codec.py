"""Fuzzers of the codec: serialize, deserialize, item_size, validate_item, format_number and json_dumps on
arbitrary Python values and on mutated AttributeValues.

Each asserts "returns, or raises a shardline error" and the property the function exists for: a value that
encodes decodes back to the same thing, the fast decoder and the careful walk give one verdict, a number
is written exactly and never longer than DynamoDB's range allows, JSON text reads back exactly.
"""

from __future__ import annotations

import base64
import enum
import re
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from conftest import FUZZ, returns_or_raises_shardline_error
from hypothesis import given
from hypothesis import strategies as st

from shardline import (
    ITEM_SIZE_LIMIT,
    AttributeTypeError,
    AttributeValueError,
    deserialize,
    deserialize_item,
    format_number,
    item_size,
    json_dumps,
    serialize,
    serialize_item,
    validate_item,
)
from shardline._attributes import attribute_size
from shardline._json import json_loads

# A failing example that shares one list between many places prints as megabytes: let hypothesis print it.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning")
PLAIN_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")


class Colour(enum.IntEnum):
    RED = 1


class Mood(str, enum.Enum):
    HAPPY = "happy"


# -- Python values ------------------------------------------------------------------------------------------

# Text of every kind, lone surrogates included (what "\ud800" in JSON, or a Python literal, gives).
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=6)
decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(
        lambda sign, digits, exponent: Decimal((sign, tuple(map(int, str(digits))), exponent)),
        st.integers(0, 1),
        st.integers(0, 10**45),
        st.one_of(st.integers(-200, 200), st.integers(-(10**15), 10**15)),
    ),
    st.sampled_from([Decimal("0E+999999999"), Decimal("1E+999999999"), Decimal("-1E-999999999"), Decimal("sNaN")]),
)
# Huge ints built by the strategy, not stored in it: hypothesis cannot print an int of more than 4300 digits.
ints = st.one_of(
    st.integers(),
    st.builds(
        lambda sign, digits: sign * 10**digits, st.sampled_from([1, -1]), st.sampled_from([38, 126, 5000, 100_001])
    ),
)
scalars = st.one_of(
    any_text,
    ints,
    decimals,
    st.floats(),
    st.booleans(),
    st.none(),
    st.binary(max_size=6),
    st.binary(max_size=6).map(bytearray),
    st.binary(max_size=6).map(memoryview),
    st.binary(max_size=6).map(Binary),
    st.sampled_from([Colour.RED, Mood.HAPPY, object(), 1j, Ellipsis]),
)
hashable_decimals = decimals.filter(lambda number: not number.is_snan())  # a signaling NaN cannot be hashed
set_elements = st.one_of(any_text, ints, hashable_decimals, st.floats(), st.booleans(), st.binary(max_size=4))
python_values = st.recursive(
    st.one_of(scalars, st.frozensets(set_elements, max_size=4), st.sets(st.binary(max_size=3).map(Binary), max_size=3)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(any_text, st.integers(), st.none()), inner, max_size=4),
    ),
    max_leaves=12,
)


def shared(value: Any, depth: int, width: int) -> Any:
    """``value`` behind ``depth`` levels of lists that each hold the level below ``width`` times: tiny in
    memory, ``width ** depth`` values once expanded."""
    for _ in range(depth):
        value = [value] * width
    return value


def nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = {"k": [value]}
    return value


odd_values = st.one_of(
    # Plain values most of the time: a shared value that reaches the bounds takes a good part of a second.
    python_values,
    python_values,
    python_values,
    # Up to 2**22 values once expanded: well past every bound, yet printable should hypothesis report one.
    st.builds(shared, python_values, st.integers(1, 22), st.just(2)),
    st.builds(shared, python_values, st.integers(1, 11), st.just(4)),
    st.builds(nested, python_values, st.integers(10, 3000)),
)


def returns_or_raises_error(call: Any) -> AttributeValueError | None:
    """The codec error ``call`` raised, or None; any other exception fails the test."""
    try:
        call()
    except AttributeValueError as exc:
        return exc
    return None


def typed(value: Any) -> Any:
    """A comparable form that tells bool from number and str from bytes."""
    if isinstance(value, bool):
        return ("BOOL", value)
    if isinstance(value, (int, Decimal)):
        return ("N", Decimal(value))
    if isinstance(value, str):
        return ("S", value)
    if isinstance(value, (bytes, bytearray)):
        return ("B", bytes(value))
    if value is None:
        return ("NULL",)
    if isinstance(value, (set, frozenset)):
        return ("SET", frozenset(typed(element) for element in value))
    if isinstance(value, list):
        return ("L", [typed(element) for element in value])
    assert isinstance(value, dict), value
    return ("M", {name: typed(element) for name, element in value.items()})


# -- serialize ----------------------------------------------------------------------------------------------


@FUZZ
@given(odd_values, st.booleans())
def test_fuzz_serialize_returns_a_value_that_decodes_back_or_raises_a_shardline_error(
    value: Any, allow_floats: bool
) -> None:
    av = returns_or_raises_shardline_error(lambda: serialize(value, allow_floats=allow_floats))
    if av is None:
        return
    decoded = deserialize(av)  # what serialize writes, the codec reads: no error
    assert serialize(decoded) == av  # and the encoding is canonical
    assert typed(deserialize(serialize(decoded))) == typed(decoded)
    assert item_size({"a": av}) == 1 + attribute_size(av)


@FUZZ
@given(st.dictionaries(st.one_of(any_text, st.integers()), odd_values, max_size=4), st.booleans())
def test_fuzz_serialize_item_gives_an_image_every_function_accepts(item: dict[Any, Any], allow_floats: bool) -> None:
    image = returns_or_raises_shardline_error(lambda: serialize_item(item, allow_floats=allow_floats))
    if image is None:
        return
    assert typed(deserialize_item(image)) == typed(deserialize_item(serialize_item(deserialize_item(image))))
    size = item_size(image)
    if size <= ITEM_SIZE_LIMIT:
        validate_item(image)
    else:
        assert returns_or_raises_shardline_error(lambda: validate_item(image)) is None


supported = st.recursive(
    st.one_of(
        st.text(max_size=4),
        st.integers(-(10**37), 10**37),
        st.booleans(),
        st.none(),
        st.binary(max_size=4),
        st.binary(max_size=4).map(Binary),
        st.sets(st.text(max_size=3), max_size=3),
        st.sets(st.integers(-1000, 1000), max_size=3),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(min_size=1, max_size=3), inner, max_size=3),
    max_leaves=8,
)


@FUZZ
@given(supported)
def test_fuzz_only_unsupported_types_raise_attribute_type_error(value: Any) -> None:
    # Every type here is one the codec stores (floats given allow_floats): whatever goes wrong is a value
    # problem (an empty set, a float's repr out of range), never a TypeError.
    error = returns_or_raises_error(lambda: serialize(value, allow_floats=True))
    assert not isinstance(error, TypeError), error


@FUZZ
@given(st.sampled_from([object(), 1j, Ellipsis, 1.5, {True}, {1, "a"}, frozenset({None})]), st.integers(0, 3))
def test_fuzz_unsupported_types_are_type_errors_with_their_path(value: Any, depth: int) -> None:
    with pytest.raises(AttributeTypeError) as caught:
        serialize(nested(value, depth))
    assert isinstance(caught.value, TypeError)
    assert caught.value.path == ".".join(["k[0]"] * depth)


# -- boto3, differentially ------------------------------------------------------------------------------------

# Values both sides can take: numbers boto3's context handles (up to 18 digits, small exponents), binaries.
boto3_numbers = st.builds(
    lambda negative, coefficient, exponent: Decimal((int(negative), tuple(map(int, str(coefficient))), exponent)),
    st.booleans(),
    st.integers(0, 10**18 - 1),
    st.integers(-18, 18),
)
boto3_values = st.recursive(
    st.one_of(
        st.text(max_size=5),
        boto3_numbers,
        st.booleans(),
        st.none(),
        st.binary(max_size=5),
        st.binary(max_size=5).map(Binary),
        st.sets(st.text(max_size=3), min_size=1, max_size=3),
        st.sets(boto3_numbers, min_size=1, max_size=3),
        st.sets(st.binary(max_size=3).map(Binary), min_size=1, max_size=3),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(min_size=1, max_size=3), inner, max_size=3),
    max_leaves=8,
)


def canonical(av: Any) -> Any:
    """An encoded AttributeValue, ours (B as base64 text) or boto3's (B as bytes), in one comparable form:
    binaries as bytes, numbers as Decimals, sets without order."""
    ((tag, value),) = av.items()
    if tag == "B":
        return ("B", value if isinstance(value, bytes) else base64.b64decode(value))
    if tag == "BS":
        return (
            "BS",
            frozenset(element if isinstance(element, bytes) else base64.b64decode(element) for element in value),
        )
    if tag == "N":
        return ("N", Decimal(value))
    if tag == "NS":
        return ("NS", frozenset(map(Decimal, value)))
    if tag == "SS":
        return ("SS", frozenset(value))
    if tag == "M":
        return ("M", {name: canonical(element) for name, element in value.items()})
    if tag == "L":
        return ("L", [canonical(element) for element in value])
    return (tag, value)


def low_level(av: Any) -> Any:
    """Our event form (B as base64 text) in boto3's client form (B as bytes), which its deserializer takes."""
    ((tag, value),) = av.items()
    if tag == "B":
        return {"B": base64.b64decode(value)}
    if tag == "BS":
        return {"BS": [base64.b64decode(element) for element in value]}
    if tag == "M":
        return {"M": {name: low_level(element) for name, element in value.items()}}
    if tag == "L":
        return {"L": [low_level(element) for element in value]}
    return av


def plain(value: Any) -> Any:
    """boto3's and our decoded values in one form: a Binary is its bytes."""
    if isinstance(value, Binary):
        return ("B", bytes(value.value))
    if isinstance(value, (set, frozenset)):
        return ("SET", frozenset(plain(element) for element in value))
    if isinstance(value, list):
        return ("L", [plain(element) for element in value])
    if isinstance(value, dict):
        return ("M", {name: plain(element) for name, element in value.items()})
    return typed(value)


@FUZZ
@given(boto3_values)
def test_fuzz_serialize_and_boto3_agree(value: Any) -> None:
    ours = serialize(value)
    assert canonical(ours) == canonical(TypeSerializer().serialize(value))
    assert plain(deserialize(TypeSerializer().serialize(value))) == plain(value)  # we read what boto3 writes
    assert plain(TypeDeserializer().deserialize(low_level(ours))) == plain(value)  # boto3 reads what we write


@FUZZ
@given(st.sampled_from([1.5, object(), 1j, [1.5], {"a": object()}]))
def test_fuzz_unsupported_types_are_type_errors_for_boto3_and_for_us(value: Any) -> None:
    for serializer in (TypeSerializer().serialize, serialize):
        try:
            serializer(value)
        except TypeError:
            continue
        raise AssertionError(f"{serializer} accepted {value!r}")


# -- mutated AttributeValues ------------------------------------------------------------------------------------

number_texts = st.one_of(
    st.from_regex(r"\A[+-]?[0-9]{0,4}(\.[0-9]{0,4})?([eE][+-]?[0-9]{1,45})?\Z"),
    st.sampled_from(["0e" + "9" * 40, "0E-" + "9" * 40, "1e" + "9" * 40, "-0", "NaN", "1_0", "\u0661", " 1", "1e"]),
)
junk = st.one_of(
    any_text, st.integers(), st.floats(), st.none(), st.booleans(), st.binary(max_size=3), st.just([]), st.just({})
)
tags = st.sampled_from(["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL", "X", ""])
# Keys a hand-made mapping may have: numbers (one too long to write out), None, tuples.
odd_keys = st.one_of(
    st.integers(), st.none(), st.tuples(st.integers()), st.builds(lambda digits: 10**digits, st.just(5000))
)


def avs(depth: int = 3) -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.builds(lambda text: {"S": text}, any_text),
        st.builds(lambda text: {"N": text}, number_texts),
        st.builds(lambda text: {"B": text}, st.sampled_from(["", "AA==", "AAE=", "A", "@@@@", "é==="])),
        st.builds(lambda value: {"BOOL": value}, st.one_of(st.booleans(), junk)),
        st.builds(lambda value: {"NULL": value}, st.one_of(st.just(True), junk)),
        st.builds(lambda texts: {"SS": texts}, st.lists(any_text, max_size=3)),
        st.builds(lambda texts: {"NS": texts}, st.lists(number_texts, max_size=3)),
        st.builds(lambda texts: {"BS": texts}, st.lists(st.sampled_from(["AA==", "AQ==", "", "x"]), max_size=3)),
        st.dictionaries(st.one_of(tags, odd_keys), junk, max_size=2),
        junk,
    )
    if depth == 0:
        return leaf
    inner = avs(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda value: {"M": value}, st.dictionaries(st.one_of(any_text, odd_keys), inner, max_size=3)),
        st.builds(lambda value: {"L": value}, st.lists(inner, max_size=3)),
    )


def shared_av(av: Any, depth: int, width: int) -> Any:
    for _ in range(depth):
        av = {"L": [av] * width}
    return av


def nested_av(av: Any, depth: int) -> Any:
    for _ in range(depth):
        av = {"M": {"m": av}}
    return av


odd_avs = st.one_of(
    avs(),
    st.builds(shared_av, avs(1), st.integers(1, 22), st.just(2)),
    st.builds(nested_av, avs(1), st.integers(25, 3000)),
)


def verdict(check: Any, value: Any) -> tuple[str, str] | None:
    try:
        check(value)
    except AttributeValueError as exc:
        return exc.path, exc.reason
    return None


@FUZZ
@given(odd_avs)
def test_fuzz_deserialize_and_the_careful_walk_give_one_verdict(av: Any) -> None:
    decoded = verdict(deserialize, av)
    assert decoded == verdict(attribute_size, av)
    assert verdict(deserialize_item, {"a": av}) == verdict(item_size, {"a": av})
    if decoded is not None:
        assert not decoded[1].startswith("malformed")  # the walk explained it, not the fallback
        return
    value = deserialize(av)
    assert typed(deserialize(serialize(value))) == typed(value)


@FUZZ
@given(st.dictionaries(any_text, odd_avs, max_size=3), st.sampled_from([None, {"a": "S"}, {"a": "N", "b": "B"}]))
def test_fuzz_validate_item_accepts_exactly_the_sized_items_within_the_limit(
    image: dict[str, Any], key_schema: dict[str, str] | None
) -> None:
    size = returns_or_raises_shardline_error(lambda: item_size(image))
    accepted = returns_or_raises_shardline_error(lambda: validate_item(image, key_schema=key_schema) or True)
    if accepted:
        assert size is not None
        assert size <= ITEM_SIZE_LIMIT
    elif size is not None and key_schema is None:
        assert size > ITEM_SIZE_LIMIT


@FUZZ
@given(number_texts)
def test_fuzz_every_function_reads_a_number_text_the_same_way(text: str) -> None:
    decoded = verdict(deserialize, {"N": text})
    assert verdict(attribute_size, {"N": text}) == decoded
    assert verdict(deserialize_item, {"n": {"N": text}}) == verdict(item_size, {"n": {"N": text}})
    if decoded is None:
        number = deserialize({"N": text})
        assert PLAIN_NUMBER.fullmatch(format_number(number))
        assert Decimal(format_number(number)) == number
    else:
        assert not decoded[1].startswith("malformed")


# -- format_number and json_dumps -------------------------------------------------------------------------------


@FUZZ
@given(st.one_of(ints, decimals, st.floats(), st.booleans(), any_text, st.none()))
def test_fuzz_format_number_is_exact_and_bounded(value: Any) -> None:
    text = returns_or_raises_shardline_error(lambda: format_number(value))
    if text is None:
        return
    assert PLAIN_NUMBER.fullmatch(text)
    assert Decimal(text) == value
    # Never more characters than DynamoDB's range needs ("0." and 129 zeros before 38 digits), unless the
    # value itself was written with more digits: 1E+999999999 is refused, not written out.
    assert len(text) <= 170 + len(str(value))


json_kwargs = st.sampled_from(
    [
        {},
        {"ensure_ascii": False},
        {"indent": 2, "sort_keys": True},
        {"separators": (",", ":")},
        {"allow_nan": True},
        {"skipkeys": True},
    ]
)


@FUZZ
@given(odd_values, json_kwargs)
def test_fuzz_json_dumps_writes_strict_json_or_raises_a_shardline_error(value: Any, kwargs: dict[str, Any]) -> None:
    text = returns_or_raises_shardline_error(lambda: json_dumps(value, **kwargs))
    if text is None:
        return
    if not kwargs.get("ensure_ascii", True):
        text.encode()  # UTF-8 text, as the caller will write it
    if not kwargs.get("allow_nan"):
        json_loads(text, parse_float=Decimal)  # strict JSON: no NaN, no Infinity


json_native = st.recursive(
    st.one_of(
        st.text(max_size=5),
        st.integers(),
        decimals.filter(lambda number: number.is_finite()),
        st.booleans(),
        st.none(),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=10,
)


@FUZZ
@given(json_native, json_kwargs)
def test_fuzz_json_dumps_round_trips_numbers_exactly_and_briefly(value: Any, kwargs: dict[str, Any]) -> None:
    text = returns_or_raises_shardline_error(lambda: json_dumps(value, **kwargs))
    if text is None:  # an int longer than Python writes
        return
    assert json_loads(text, parse_float=Decimal, parse_int=Decimal) == value
    # 1E+999999999 stays short: no number is written with more digits than DynamoDB's range, or its own.
    assert len(text) < 20 * len(repr(value)) + 400
