"""The AttributeValue codec: decoding, encoding, validation and item size ("AttributeValue" in the DynamoDB API
reference, "Item sizes and formats" in the DynamoDB developer guide)."""

from __future__ import annotations

import base64
import enum
import pickle
import re
import types
from collections.abc import Callable
from decimal import Decimal, Rounded
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shardline import (
    ITEM_SIZE_LIMIT,
    TYPE_TAGS,
    AttributeValueError,
    ShardlineError,
    deserialize,
    deserialize_item,
    format_number,
    item_size,
    serialize,
    serialize_item,
    validate_item,
)

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

DIGITS_38 = "12345678901234567890123456789012345678"
DIGITS_39 = DIGITS_38 + "9"
MAX_NUMBER = "9.9999999999999999999999999999999999999E+125"
TAG_LIST = "S, N, B, SS, NS, BS, M, L, NULL, BOOL"


# --------------------------------------------------------------------------------------------------
# Helpers


def child_path(parent: str, inner: str) -> str:
    """The path of ``inner`` (relative to a value) once that value sits at ``parent``."""
    if not inner:
        return parent
    if not parent or inner.startswith("["):
        return parent + inner
    return f"{parent}.{inner}"


def error_pattern(path: str, reason: str) -> str:
    """An anchored regex for ``str(AttributeValueError)``: ``"path: reason"`` or just ``reason``."""
    return "^" + (re.escape(f"{path}: ") if path else "") + reason


def wrap(tags: str, leaf: dict[str, Any]) -> dict[str, Any]:
    """Wrap ``leaf`` in containers, outermost first: ``wrap("ML", x)`` is ``{"M": {"a": {"L": [x]}}}``."""
    value = leaf
    for tag in reversed(tags):
        value = {"M": {"a": value}} if tag == "M" else {"L": [value]}
    return value


def wrap_path(tags: str) -> str:
    """The path of the innermost container of ``wrap(tags, ...)``."""
    path = ""
    for tag in tags[:-1]:
        path = child_path(path, "a") if tag == "M" else path + "[0]"
    return path


def verdict(check: Callable[[Any], Any], value: Any) -> tuple[str, str] | None:
    """None if ``check`` accepts ``value``, else the path and reason of its AttributeValueError."""
    try:
        check(value)
    except AttributeValueError as exc:
        return (exc.path, exc.reason)
    return None


def typed(value: Any) -> Any:
    """A comparable form that tells bool from number and str from bytes (``True == 1`` in Python)."""
    if isinstance(value, bool):
        return ("BOOL", value)
    if isinstance(value, (int, Decimal)):
        return ("N", Decimal(value))
    if isinstance(value, str):
        return ("S", value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ("B", bytes(value))
    if value is None:
        return ("NULL",)
    if isinstance(value, (set, frozenset)):
        return ("SET", frozenset(typed(element) for element in value))
    if isinstance(value, (list, tuple)):
        return ("L", [typed(element) for element in value])
    if isinstance(value, dict):
        return ("M", {name: typed(element) for name, element in value.items()})
    raise AssertionError(f"unexpected {type(value).__name__}")


# --------------------------------------------------------------------------------------------------
# An independent implementation of DynamoDB's AttributeValue and item size rules, used as an oracle. It never
# does Decimal arithmetic: numbers are handled as digit strings and Python ints.

_NUMBER_SYNTAX = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")


def oracle_number(text: str) -> tuple[bool, str, int] | None:
    """``(negative, significant digits, exponent of the last digit)``; digits ``""`` for zero; None if invalid."""
    match = _NUMBER_SYNTAX.fullmatch(text)
    if match is None:
        return None
    sign, whole, fraction, exponent_text = match.groups()
    fraction = fraction or ""
    if not whole and not fraction:
        return None
    exponent = int(exponent_text or "0") - len(fraction)
    digits = (whole + fraction).lstrip("0")
    if not digits:
        return (False, "", 0)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    adjusted = exponent + len(stripped) - 1
    if len(stripped) > 38 or not -130 <= adjusted <= 125:
        return None
    return (sign == "-", stripped, exponent)


def oracle_plain(text: str) -> str:
    """The plain decimal text of a valid number, e.g. ``"1.5E2"`` -> ``"150"``."""
    parsed = oracle_number(text)
    assert parsed is not None
    negative, digits, exponent = parsed
    if not digits:
        return "0"
    if exponent >= 0:
        plain = digits + "0" * exponent
    elif len(digits) > -exponent:
        plain = digits[:exponent] + "." + digits[exponent:]
    else:
        plain = "0." + "0" * (-exponent - len(digits)) + digits
    return "-" + plain if negative else plain


def oracle_number_size(text: str) -> int:
    """ "Item sizes and formats", DynamoDB developer guide, step by step as written there."""
    plain = oracle_plain(text)
    if plain == "0":
        return 1
    negative = plain.startswith("-")
    whole, _, fraction = plain.lstrip("-").partition(".")
    if len(whole) % 2:
        whole = "0" + whole
    if len(fraction) % 2:
        fraction = fraction + "0"
    pairs = [fraction[i : i + 2] for i in range(0, len(fraction), 2)]
    if whole == "00":
        while pairs and pairs[0] == "00":
            pairs.pop(0)
    else:
        pairs = [whole[i : i + 2] for i in range(0, len(whole), 2)] + pairs
    while pairs and pairs[0] == "00":
        pairs.pop(0)
    while pairs and pairs[-1] == "00":
        pairs.pop()
    return min(len(pairs) + 1 + (1 if negative else 0), 21)


def oracle_size(av: dict[str, Any]) -> int:
    ((tag, value),) = av.items()
    if tag == "S":
        return len(value.encode("utf-8"))
    if tag == "N":
        return oracle_number_size(value)
    if tag == "B":
        return len(base64.b64decode(value, validate=True))
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "SS":
        return sum(len(element.encode("utf-8")) for element in value)
    if tag == "NS":
        return sum(oracle_number_size(element) for element in value)
    if tag == "BS":
        return sum(len(base64.b64decode(element, validate=True)) for element in value)
    if tag == "M":
        return 3 + sum(len(name.encode("utf-8")) + oracle_size(element) + 1 for name, element in value.items())
    if tag == "L":
        return 3 + sum(oracle_size(element) + 1 for element in value)
    raise AssertionError(tag)


def oracle_item_size(image: dict[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + oracle_size(av) for name, av in image.items())


def oracle_decimal(text: str) -> Decimal:
    parsed = oracle_number(text)
    assert parsed is not None
    negative, digits, exponent = parsed
    return Decimal((int(negative), tuple(map(int, digits or "0")), exponent))


# --------------------------------------------------------------------------------------------------
# Hypothesis strategies: Python values DynamoDB can store


def _number_from_parts(negative: bool, coefficient: int, adjusted: int) -> Decimal:
    digits = tuple(int(digit) for digit in str(coefficient))
    return Decimal((int(negative), digits, adjusted - (len(digits) - 1)))


texts = st.text(st.characters(codec="utf-8"), max_size=12)
names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)
dynamo_numbers = st.one_of(
    st.integers(-(10**6), 10**6).map(Decimal),
    st.builds(_number_from_parts, st.booleans(), st.integers(1, 10**38 - 1), st.integers(-130, 125)),
    st.sampled_from([Decimal(0), Decimal("1E-130"), Decimal("-1E-130"), Decimal(MAX_NUMBER), Decimal(10**38)]),
)
binaries = st.binary(max_size=16)


def values(
    numbers: st.SearchStrategy[Decimal], *, with_binaries: bool = True, depth: int = 3
) -> st.SearchStrategy[Any]:
    scalars = [texts, numbers, st.booleans(), st.none()]
    sets = [st.sets(texts, min_size=1, max_size=4), st.sets(numbers, min_size=1, max_size=4)]
    if with_binaries:
        scalars.append(binaries)
        sets.append(st.sets(binaries, min_size=1, max_size=4))
    leaf = st.one_of(*scalars, *sets)
    if depth == 0:
        return leaf
    inner = values(numbers, with_binaries=with_binaries, depth=depth - 1)
    return st.one_of(
        leaf,
        st.lists(inner, max_size=4),
        st.dictionaries(names, inner, max_size=4),
    )


dynamo_values = values(dynamo_numbers)
dynamo_items = st.dictionaries(names, dynamo_values, max_size=5)

# Where boto3 is right: no binaries (its deserializer wants Binary objects, not base64 text) and numbers whose
# coefficient and plain form both stay well under 38 digits (its context traps Rounded and has a narrower range).
boto3_numbers = st.builds(
    lambda negative, coefficient, exponent: Decimal((int(negative), tuple(map(int, str(coefficient))), exponent)),
    st.booleans(),
    st.integers(0, 10**18 - 1),
    st.integers(-18, 18),
)
boto3_values = values(boto3_numbers, with_binaries=False)


# --------------------------------------------------------------------------------------------------
# The error type


def test_attribute_value_error_is_a_shardline_error_and_a_value_error() -> None:
    with pytest.raises(AttributeValueError) as caught:
        deserialize({"M": {"qty": {"N": "abc"}}})
    error = caught.value
    assert isinstance(error, ShardlineError)
    assert isinstance(error, ValueError)
    assert error.path == "qty"
    assert error.reason.startswith("'abc' is not a number")
    assert str(error) == f"qty: {error.reason}"


def test_attribute_value_error_survives_pickling() -> None:
    error = AttributeValueError("bad value", "a.b[2]")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.reason, copy.path, str(copy)) == (AttributeValueError, "bad value", "a.b[2]", str(error))


def test_type_tags_and_size_limit_constants() -> None:
    assert TYPE_TAGS == ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
    assert ITEM_SIZE_LIMIT == 400 * 1024


# --------------------------------------------------------------------------------------------------
# 1. Decoding: the mapping table


@pytest.mark.parametrize(
    ("av", "expected"),
    [
        pytest.param({"S": "héllo"}, "héllo", id="S"),
        pytest.param({"S": ""}, "", id="S-empty"),
        pytest.param({"N": "42"}, Decimal(42), id="N-int"),
        pytest.param({"N": "-12.5"}, Decimal("-12.5"), id="N-fraction"),
        pytest.param({"B": "AAEC/w=="}, b"\x00\x01\x02\xff", id="B-base64"),
        pytest.param({"B": ""}, b"", id="B-empty"),
        pytest.param({"B": b"\x00\xff"}, b"\x00\xff", id="B-bytes-boto3-client-form"),
        pytest.param({"SS": ["b", "a", ""]}, {"a", "b", ""}, id="SS"),
        pytest.param({"NS": ["1", "2.5", "-3"]}, {Decimal(1), Decimal("2.5"), Decimal(-3)}, id="NS"),
        pytest.param({"BS": ["AA==", "AQI="]}, {b"\x00", b"\x01\x02"}, id="BS"),
        pytest.param({"BS": [b"\x00", "AQI="]}, {b"\x00", b"\x01\x02"}, id="BS-bytes-and-text"),
        pytest.param({"M": {"a": {"S": "x"}, "b": {"N": "1"}}}, {"a": "x", "b": Decimal(1)}, id="M"),
        pytest.param({"M": {}}, {}, id="M-empty"),
        pytest.param({"L": [{"S": "x"}, {"N": "1"}, {"NULL": True}]}, ["x", Decimal(1), None], id="L"),
        pytest.param({"L": []}, [], id="L-empty"),
        pytest.param({"NULL": True}, None, id="NULL"),
        pytest.param({"BOOL": True}, True, id="BOOL-true"),
        pytest.param({"BOOL": False}, False, id="BOOL-false"),
    ],
)
def test_deserialize_maps_each_type_to_its_python_value(av: dict[str, Any], expected: Any) -> None:
    result = deserialize(av)
    assert typed(result) == typed(expected)
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1" + "0" * 40, Decimal(10**40), id="1E+40-written-out"),
        pytest.param(DIGITS_38, Decimal(DIGITS_38), id="38-digits"),
        pytest.param(
            "-" + DIGITS_38[:20] + "." + DIGITS_38[20:],
            Decimal("-" + DIGITS_38[:20] + "." + DIGITS_38[20:]),
            id="38-digits-fraction",
        ),
        pytest.param("-1E-130", Decimal("-1E-130"), id="smallest-magnitude"),
        pytest.param(MAX_NUMBER, Decimal(MAX_NUMBER), id="largest-magnitude"),
        pytest.param("-" + MAX_NUMBER, Decimal("-" + MAX_NUMBER), id="most-negative"),
        pytest.param("0.1", Decimal("0.1"), id="0.1-not-a-float"),
    ],
)
@pytest.mark.parametrize(
    "decode",
    [
        pytest.param(deserialize, id="value"),
        pytest.param(lambda av: deserialize_item({"n": av})["n"], id="item"),
        pytest.param(lambda av: deserialize({"L": [av]})[0], id="in-L"),
        pytest.param(lambda av: deserialize({"M": {"n": av}})["n"], id="in-M"),
        pytest.param(lambda av: next(iter(deserialize({"NS": [av["N"]]}))), id="in-NS"),
    ],
)
def test_numbers_decode_exactly(decode: Callable[[dict[str, Any]], Any], text: str, expected: Decimal) -> None:
    result = decode({"N": text})
    assert type(result) is Decimal
    assert result == expected
    # Equality alone could hide a rounded coefficient that happens to compare equal: compare the digits too.
    assert format_number(result) == format_number(expected)


@pytest.mark.parametrize(
    ("text", "expected", "plain"),
    [
        ("+5", Decimal(5), "5"),
        ("5.", Decimal(5), "5"),
        ("1.5E2", Decimal(150), "150"),
        ("1.5e2", Decimal(150), "150"),
        ("00042", Decimal(42), "42"),
        ("-0", Decimal(0), "0"),
        (".5", Decimal("0.5"), "0.5"),
        ("-.5E-3", Decimal("-0.0005"), "-0.0005"),
        ("1" + "0" * 40, Decimal(10**40), "1" + "0" * 40),
        ("0E+500", Decimal(0), "0"),
        ("1.0E-130", Decimal("1E-130"), "0." + "0" * 129 + "1"),
        ("0.000" + DIGITS_38, Decimal("0.000" + DIGITS_38), "0.000" + DIGITS_38),
    ],
)
def test_valid_number_forms_decode_to_their_value(text: str, expected: Decimal, plain: str) -> None:
    result = deserialize({"N": text})
    assert result == expected
    assert format_number(result) == plain


# --------------------------------------------------------------------------------------------------
# 2. Decoding: every invalid input of "AttributeValue", DynamoDB API reference, with its path

NOT_A_NUMBER = r"{} is not a number \(DynamoDB numbers look like 42, -1\.5 or 6\.02E23\)"


def _nan(text: str) -> str:
    return NOT_A_NUMBER.format(re.escape(repr(text)))


INVALID_NUMBERS = [
    pytest.param(" 5", _nan(" 5"), id="leading-space"),
    pytest.param("5 ", _nan("5 "), id="trailing-space"),
    pytest.param("NaN", _nan("NaN"), id="NaN"),
    pytest.param("-NaN1", _nan("-NaN1"), id="NaN-with-sign-and-payload"),
    pytest.param("+sNaN2", _nan("+sNaN2"), id="sNaN-with-sign-and-payload"),
    pytest.param("Infinity", _nan("Infinity"), id="Infinity"),
    pytest.param("-Inf", _nan("-Inf"), id="minus-Inf"),
    pytest.param("1e", _nan("1e"), id="1e"),
    pytest.param("1.2.3", _nan("1.2.3"), id="two-points"),
    pytest.param("++5", _nan("++5"), id="two-signs"),
    pytest.param("", _nan(""), id="empty"),
    pytest.param(".", _nan("."), id="lone-point"),
    pytest.param("-", _nan("-"), id="lone-sign"),
    pytest.param("E5", _nan("E5"), id="no-mantissa"),
    pytest.param("1_000", _nan("1_000"), id="underscore"),
    pytest.param("\u0661", _nan("\u0661"), id="arabic-indic-digit"),
    pytest.param("1\u0661", _nan("1\u0661"), id="arabic-indic-digit-after-ascii"),
    pytest.param("0x10", _nan("0x10"), id="hex"),
    pytest.param(
        DIGITS_39,
        re.escape(repr(DIGITS_39)) + " has 39 significant digits; DynamoDB keeps at most 38",
        id="39-significant-digits",
    ),
    pytest.param("1E+126", r"'1E\+126' is too large; DynamoDB numbers go up to", id="1E+126"),
    pytest.param("-1E+126", r"'-1E\+126' is too large; DynamoDB numbers go up to", id="minus-1E+126"),
    pytest.param("1E-131", r"'1E-131' is too small; the smallest non-zero DynamoDB number is 1E-130", id="1E-131"),
    pytest.param("1.5E-131", r"'1\.5E-131' is too small", id="1.5E-131"),
    pytest.param(
        "1.0000000000000000000000000000000000001E-131",
        re.escape("'1.0000000000000000000000000000000000001E-131' is too small"),
        id="38-digits-below-1E-130",
    ),
]


# (AttributeValue, path relative to it, anchored reason regex)
INVALID_VALUES = [
    pytest.param({}, "", f"AttributeValue has no type key; expected one of {TAG_LIST}$", id="zero-type-keys"),
    pytest.param(
        {"S": "a", "N": "1"},
        "",
        r"AttributeValue has 2 type keys \('S', 'N'\); expected exactly one$",
        id="two-type-keys",
    ),
    pytest.param({"X": "a"}, "", f"unknown AttributeValue type 'X'; expected one of {TAG_LIST}$", id="unknown-tag"),
    pytest.param({"s": "a"}, "", "unknown AttributeValue type 's'", id="lowercase-tag"),
    pytest.param(
        "text", "", r'expected an AttributeValue object such as \{"S": "text"\}, got a string$', id="not-an-object"
    ),
    pytest.param(None, "", r'expected an AttributeValue object such as \{"S": "text"\}, got null$', id="null"),
    pytest.param({"S": 5}, "", "S value must be a string, got a number$", id="S-number"),
    pytest.param({"S": None}, "", "S value must be a string, got null$", id="S-null"),
    pytest.param({"N": 5}, "", "N value must be a string, got a number$", id="N-json-number"),
    pytest.param({"N": "x"}, "", _nan("x"), id="N-text"),
    pytest.param({"B": "AA="}, "", r"B value 'AA=' is not valid standard base64", id="B-bad-padding"),
    pytest.param({"B": "A"}, "", r"B value 'A' is not valid standard base64", id="B-truncated"),
    pytest.param({"B": "-_8="}, "", r"B value '-_8=' is not valid standard base64", id="B-urlsafe-alphabet"),
    pytest.param({"B": "AA==\n"}, "", r"B value 'AA==\\n' is not valid standard base64", id="B-newline"),
    pytest.param({"B": "AA==AA=="}, "", r"B value 'AA==AA==' is not valid standard base64", id="B-inner-padding"),
    pytest.param({"B": 5}, "", "B value must be base64 text, got a number$", id="B-number"),
    pytest.param({"NULL": False}, "", "NULL value must be true, got false$", id="NULL-false"),
    pytest.param({"NULL": None}, "", "NULL value must be true, got null$", id="NULL-null"),
    pytest.param({"NULL": 1}, "", "NULL value must be true, got a number$", id="NULL-one"),
    pytest.param({"BOOL": "true"}, "", "BOOL value must be true or false, got a string$", id="BOOL-string"),
    pytest.param({"BOOL": 1}, "", "BOOL value must be true or false, got a number$", id="BOOL-number"),
    pytest.param({"BOOL": None}, "", "BOOL value must be true or false, got null$", id="BOOL-null"),
    pytest.param({"SS": []}, "", "SS must not be empty: DynamoDB has no empty sets$", id="SS-empty"),
    pytest.param({"NS": []}, "", "NS must not be empty: DynamoDB has no empty sets$", id="NS-empty"),
    pytest.param({"BS": []}, "", "BS must not be empty: DynamoDB has no empty sets$", id="BS-empty"),
    pytest.param({"SS": "a"}, "", "SS value must be an array, got a string$", id="SS-not-array"),
    pytest.param(
        {"SS": ["a", "b", "a"]},
        "[2]",
        r"SS elements must be unique: this one repeats element \[0\]$",
        id="SS-duplicate",
    ),
    pytest.param(
        {"NS": ["1", "1.0"]},
        "[1]",
        r"NS elements must be unique: this one repeats element \[0\]$",
        id="NS-duplicate-by-value",
    ),
    pytest.param(
        {"NS": ["100", "1E+2"]},
        "[1]",
        r"NS elements must be unique: this one repeats element \[0\]$",
        id="NS-duplicate-exponent",
    ),
    pytest.param(
        {"NS": ["0", "-0"]},
        "[1]",
        r"NS elements must be unique: this one repeats element \[0\]$",
        id="NS-duplicate-zero",
    ),
    pytest.param(
        {"BS": ["AA==", "AQ==", "AA=="]},
        "[2]",
        r"BS elements must be unique: this one repeats element \[0\]$",
        id="BS-duplicate",
    ),
    pytest.param(
        {"BS": [b"\x00", "AA=="]},
        "[1]",
        r"BS elements must be unique: this one repeats element \[0\]$",
        id="BS-duplicate-bytes-and-text",
    ),
    pytest.param({"SS": ["a", 1]}, "[1]", "SS elements must be strings, got a number$", id="SS-element-number"),
    pytest.param({"NS": ["1", "x"]}, "[1]", _nan("x"), id="NS-element-invalid"),
    pytest.param({"NS": [1]}, "[0]", "N value must be a string, got a number$", id="NS-element-json-number"),
    pytest.param({"BS": ["AA==", "%%"]}, "[1]", r"B value '%%' is not valid standard base64", id="BS-element-invalid"),
    pytest.param({"M": []}, "", "M value must be an object, got an array$", id="M-array"),
    pytest.param({"M": {"": {"S": "x"}}}, "", "attribute names must not be empty$", id="M-empty-name"),
    pytest.param({"L": {}}, "", "L value must be an array, got an object$", id="L-object"),
    pytest.param(
        {"L": [{"S": "ok"}, {"N": "1", "S": "1"}]}, "[1]", "AttributeValue has 2 type keys", id="L-element-two-keys"
    ),
    pytest.param({"L": [{"S": "ok"}, "x"]}, "[1]", "expected an AttributeValue object", id="L-element-not-object"),
    pytest.param(
        {"M": {"lines": {"L": [{"M": {"sku": {"N": "x"}}}]}}}, "lines[0].sku", _nan("x"), id="deep-N-in-M-L-M"
    ),
    pytest.param(
        {"M": {"ok": {"S": "x"}, "my attr": {"BOOL": 0}}},
        '["my attr"]',
        "BOOL value must be true or false, got a number$",
        id="odd-name-quoted",
    ),
    pytest.param(
        {"M": {"a": {"M": {"b": {"L": [{"S": "x"}, {"NS": ["1", "1"]}]}}}}},
        "a.b[1][1]",
        r"NS elements must be unique",
        id="deep-set-element",
    ),
]

WRAPPERS = [
    pytest.param(deserialize, "", id="value"),
    pytest.param(lambda av: deserialize({"M": {"ok": {"N": "1"}, "k": av}}), "k", id="in-M"),
    pytest.param(lambda av: deserialize({"L": [{"N": "1"}, av]}), "[1]", id="in-L"),
    pytest.param(lambda av: deserialize_item({"ok": {"S": "x"}, "attr": av}), "attr", id="item"),
    pytest.param(lambda av: item_size({"attr": av}), "attr", id="item_size"),
    pytest.param(lambda av: validate_item({"attr": av}), "attr", id="validate_item"),
]


@pytest.mark.parametrize(("run", "parent"), WRAPPERS)
@pytest.mark.parametrize(("av", "path", "reason"), INVALID_VALUES)
def test_invalid_attribute_values_are_rejected_with_their_path(
    run: Callable[[Any], Any], parent: str, av: Any, path: str, reason: str
) -> None:
    expected_path = child_path(parent, path)
    with pytest.raises(AttributeValueError, match=error_pattern(expected_path, reason)) as caught:
        run(av)
    assert caught.value.path == expected_path


@pytest.mark.parametrize(("run", "parent"), WRAPPERS)
@pytest.mark.parametrize(("text", "reason"), INVALID_NUMBERS)
def test_invalid_numbers_are_rejected_everywhere_with_their_path(
    run: Callable[[Any], Any], parent: str, text: str, reason: str
) -> None:
    with pytest.raises(AttributeValueError, match=error_pattern(parent, reason)) as caught:
        run({"N": text})
    assert caught.value.path == parent


@pytest.mark.parametrize("text", ["NaN", "-NaN1", "Infinity", "1_000", "\u0661", DIGITS_39, "1E+126", "1E-131"])
def test_invalid_numbers_are_rejected_inside_number_sets(text: str) -> None:
    with pytest.raises(AttributeValueError, match=r"^\[1\]: ") as caught:
        deserialize({"NS": ["7", text]})
    assert caught.value.path == "[1]"


@pytest.mark.parametrize(
    ("image", "path", "reason"),
    [
        pytest.param({"": {"S": "x"}}, "", "attribute names must not be empty$", id="empty-name"),
        pytest.param({1: {"S": "x"}}, "", "attribute names must be strings, got a number$", id="number-name"),
        pytest.param(
            [],
            "",
            r"expected an item \(an object of attribute names to AttributeValues\), got an array$",
            id="not-an-object",
        ),
        pytest.param({"a": {"M": {"": {"N": "1"}}}}, "a", "attribute names must not be empty$", id="nested-empty-name"),
    ],
)
def test_deserialize_item_rejects_bad_names_and_shapes(image: Any, path: str, reason: str) -> None:
    with pytest.raises(AttributeValueError, match=error_pattern(path, reason)) as caught:
        deserialize_item(image)
    assert caught.value.path == path


NESTINGS = ["M", "L", "ML", "LM"]


def _containers(kinds: str, levels: int) -> str:
    return (kinds * levels)[:levels]


@pytest.mark.parametrize("kinds", NESTINGS)
def test_a_scalar_wrapped_in_31_containers_is_accepted(kinds: str) -> None:
    tags = _containers(kinds, 31)
    value = deserialize(wrap(tags, {"S": "deep"}))
    for tag in tags:
        value = value["a"] if tag == "M" else value[0]
    assert value == "deep"
    assert deserialize_item({"z": wrap(tags, {"S": "deep"})})["z"] == deserialize(wrap(tags, {"S": "deep"}))
    assert item_size({"z": wrap(tags, {"S": "deep"})}) == 1 + oracle_size(wrap(tags, {"S": "deep"}))


@pytest.mark.parametrize("kinds", NESTINGS)
@pytest.mark.parametrize(
    ("run", "parent"),
    [
        pytest.param(deserialize, "", id="value"),
        pytest.param(lambda av: deserialize_item({"z": av}), "z", id="item"),
        pytest.param(lambda av: deserialize({"L": [av]}), "[0]", id="in-L"),
        pytest.param(lambda av: item_size({"z": av}), "z", id="item_size"),
    ],
)
def test_a_scalar_wrapped_in_32_containers_is_rejected(run: Callable[[Any], Any], parent: str, kinds: str) -> None:
    tags = _containers(kinds, 32)
    if parent == "[0]":  # the extra L takes one level: wrap the scalar in 31 more containers
        tags = tags[:31]
    path = child_path(parent, wrap_path(tags))
    reason = r"nested too deeply: DynamoDB allows 32 levels, so at most 31 levels of M/L may wrap a value$"
    with pytest.raises(AttributeValueError, match=error_pattern(path, reason)) as caught:
        run(wrap(tags, {"S": "deep"}))
    assert caught.value.path == path


def test_empty_containers_at_the_deepest_level_are_accepted() -> None:
    # 31 maps wrap an empty map/list: the empty container is the value at level 32.
    nested_maps: dict[str, Any] = {}
    nested_lists: list[Any] = []
    for _ in range(31):
        nested_maps = {"a": nested_maps}
        nested_lists = [nested_lists]
    assert deserialize(wrap("M" * 31, {"M": {}})) == nested_maps
    assert deserialize(wrap("L" * 31, {"L": []})) == nested_lists


@pytest.mark.parametrize(
    "av",
    [
        pytest.param({"S": "ok"}, id="valid-S"),
        pytest.param({"M": {"a": {"L": [{"B": "AA=="}]}}}, id="valid-nested"),
        pytest.param({"N": "-NaN1"}, id="N-NaN-payload"),
        pytest.param({"S": "\ud800"}, id="S-lone-surrogate"),
        pytest.param({"SS": ["\udfff"]}, id="SS-lone-surrogate"),
        pytest.param({"B": bytearray(b"ab")}, id="B-bytearray"),
        pytest.param({"M": types.MappingProxyType({"a": {"S": "x"}})}, id="M-read-only-mapping"),
    ],
)
def test_decoding_and_validation_give_one_verdict(av: dict[str, Any]) -> None:
    """deserialize accepts exactly what item_size accepts, and reports the same problem when it refuses."""
    assert verdict(deserialize_item, {"a": av}) == verdict(item_size, {"a": av})


# --------------------------------------------------------------------------------------------------
# 3. Encoding


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(True, {"BOOL": True}, id="True-is-BOOL"),
        pytest.param(False, {"BOOL": False}, id="False-is-BOOL"),
        pytest.param(
            [True, 1, False, 0],
            {"L": [{"BOOL": True}, {"N": "1"}, {"BOOL": False}, {"N": "0"}]},
            id="bool-and-int-in-list",
        ),
        pytest.param("text", {"S": "text"}, id="str"),
        pytest.param("", {"S": ""}, id="empty-str"),
        pytest.param(None, {"NULL": True}, id="None"),
        pytest.param(b"\x00\xff", {"B": "AP8="}, id="bytes"),
        pytest.param(bytearray(b"\x00\xff"), {"B": "AP8="}, id="bytearray"),
        pytest.param(memoryview(b"\x00\xff"), {"B": "AP8="}, id="memoryview"),
        pytest.param(b"", {"B": ""}, id="empty-bytes"),
        pytest.param((1, "a"), {"L": [{"N": "1"}, {"S": "a"}]}, id="tuple-is-L"),
        pytest.param([], {"L": []}, id="empty-list"),
        pytest.param({}, {"M": {}}, id="empty-dict"),
        pytest.param(
            {"a": {"b": [Decimal("2.50"), None]}},
            {"M": {"a": {"M": {"b": {"L": [{"N": "2.5"}, {"NULL": True}]}}}}},
            id="nested-mappings",
        ),
        pytest.param(types.MappingProxyType({"k": 1}), {"M": {"k": {"N": "1"}}}, id="read-only-mapping"),
        pytest.param({"c", "a", "b"}, {"SS": ["a", "b", "c"]}, id="SS-sorted"),
        pytest.param(frozenset({"b", "a"}), {"SS": ["a", "b"]}, id="frozenset"),
        pytest.param({10, 9, -1, Decimal("2.5")}, {"NS": ["-1", "2.5", "9", "10"]}, id="NS-sorted-numerically"),
        pytest.param({b"\x02", b"\x01"}, {"BS": ["AQ==", "Ag=="]}, id="BS"),
    ],
)
def test_serialize_maps_python_values_to_attribute_values(value: Any, expected: dict[str, Any]) -> None:
    assert serialize(value) == expected


class Colour(enum.IntEnum):
    RED = 3


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        pytest.param(0, "0", id="zero"),
        pytest.param(-7, "-7", id="negative-int"),
        pytest.param(10**38, "1" + "0" * 38, id="10**38-boto3-raises-Rounded"),
        pytest.param(-(10**38), "-1" + "0" * 38, id="minus-10**38"),
        pytest.param(10**125, "1" + "0" * 125, id="10**125"),
        pytest.param(int(DIGITS_38), DIGITS_38, id="38-digit-int"),
        pytest.param(Colour.RED, "3", id="IntEnum"),
        pytest.param(Decimal("1.50"), "1.5", id="trailing-zero"),
        pytest.param(Decimal("1E+3"), "1000", id="exponent-written-out"),
        pytest.param(Decimal("1.20E+2"), "120", id="exponent-with-fraction"),
        pytest.param(Decimal("-0"), "0", id="negative-zero"),
        pytest.param(Decimal("0.000"), "0", id="zero-with-exponent"),
        pytest.param(Decimal("0E+200"), "0", id="zero-big-exponent"),
        pytest.param(Decimal("1E+40"), "1" + "0" * 40, id="1E+40"),
        pytest.param(Decimal("1E-130"), "0." + "0" * 129 + "1", id="smallest"),
        pytest.param(Decimal(MAX_NUMBER), "9" * 38 + "0" * 88, id="largest"),
        pytest.param(Decimal("-" + DIGITS_38 + "E-45"), "-0.0000000" + DIGITS_38, id="38-digits-small"),
        pytest.param(Decimal(DIGITS_38 + "000"), DIGITS_38 + "000", id="38-digits-plus-trailing-zeros"),
    ],
)
def test_serialize_writes_numbers_exactly_in_plain_notation(number: int | Decimal, expected: str) -> None:
    assert serialize(number) == {"N": expected}
    assert serialize({number} if not isinstance(number, enum.Enum) else {int(number)}) == {"NS": [expected]}
    assert "e" not in expected.lower()


def test_serialize_refuses_floats_naming_the_path_and_the_fix() -> None:
    reason = (
        r"float 0\.5 refused: binary floats are not exact\. Pass Decimal\('0\.5'\) or int, or call with "
        r"allow_floats=True to convert floats through their shortest repr$"
    )
    with pytest.raises(AttributeValueError, match=error_pattern("a.b[1]", reason)) as caught:
        serialize({"a": {"b": [1, 0.5]}})
    assert caught.value.path == "a.b[1]"


@pytest.mark.parametrize(
    ("value", "path"),
    [
        pytest.param(0.1, "", id="top-level"),
        pytest.param({"x": {0.25, 1.0}}, "x", id="in-set"),
        pytest.param([[0.1]], "[0][0]", id="in-nested-list"),
    ],
)
def test_serialize_refuses_floats_everywhere(value: Any, path: str) -> None:
    with pytest.raises(AttributeValueError, match=error_pattern(path, r"float \S+ refused")) as caught:
        serialize(value)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        pytest.param(0.1, "0.1", id="0.1"),
        pytest.param(-2.5, "-2.5", id="negative"),
        pytest.param(1e20, "100000000000000000000", id="1e20"),
        pytest.param(1.5e-7, "0.00000015", id="1.5e-7"),
        pytest.param(-0.0, "0", id="negative-zero"),
        pytest.param(3.0, "3", id="integral"),
    ],
)
def test_allow_floats_converts_through_the_shortest_repr(number: float, expected: str) -> None:
    assert serialize(number, allow_floats=True) == {"N": expected}
    assert serialize_item({"f": [number]}, allow_floats=True) == {"f": {"L": [{"N": expected}]}}


@pytest.mark.parametrize(
    ("value", "allow_floats", "reason"),
    [
        pytest.param(float("nan"), True, r"DynamoDB numbers are finite; got nan$", id="float-nan-allowed"),
        pytest.param(float("inf"), True, r"DynamoDB numbers are finite; got inf$", id="float-inf-allowed"),
        pytest.param(float("-inf"), True, r"DynamoDB numbers are finite; got -inf$", id="float-minus-inf-allowed"),
        pytest.param(float("nan"), False, r"DynamoDB numbers are finite; got nan$", id="float-nan"),
        pytest.param(Decimal("NaN"), False, r"DynamoDB numbers are finite; got NaN$", id="Decimal-NaN"),
        pytest.param(Decimal("sNaN"), False, r"DynamoDB numbers are finite; got sNaN$", id="Decimal-sNaN"),
        pytest.param(Decimal("-Infinity"), False, r"DynamoDB numbers are finite; got -Infinity$", id="Decimal-inf"),
        pytest.param(Decimal(DIGITS_39), False, r"39 significant digits; DynamoDB keeps at most 38", id="39-digits"),
        pytest.param(10**38 + 1, False, r"39 significant digits; DynamoDB keeps at most 38", id="39-digit-int"),
        pytest.param(Decimal("0." + DIGITS_39), False, r"39 significant digits", id="39-digit-fraction"),
        pytest.param(Decimal("1E+126"), False, r"too large; DynamoDB numbers go up to 9\.9{37}E\+125$", id="1E+126"),
        pytest.param(-(10**126), False, r"too large", id="minus-10**126"),
        pytest.param(1e300, True, r"too large", id="float-1e300-allowed"),
        pytest.param(
            Decimal("1E-131"), False, r"too small; the smallest non-zero DynamoDB number is 1E-130$", id="1E-131"
        ),
        pytest.param(Decimal("-1.5E-131"), False, r"too small", id="minus-1.5E-131"),
        pytest.param(5e-324, True, r"too small", id="float-denormal-allowed"),
    ],
)
def test_serialize_refuses_numbers_dynamodb_cannot_store(value: Any, allow_floats: bool, reason: str) -> None:
    with pytest.raises(AttributeValueError, match=error_pattern("n", reason)) as caught:
        serialize({"n": value}, allow_floats=allow_floats)
    assert caught.value.path == "n"


@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        pytest.param({"tags": set()}, "tags", r"an empty set has no DynamoDB type", id="empty-set"),
        pytest.param({"tags": frozenset()}, "tags", r"an empty set has no DynamoDB type", id="empty-frozenset"),
        pytest.param(
            {"mixed": {"a", 1}},
            "mixed",
            r"a set must hold one kind: all strings, all numbers or all "
            r"binaries$",
            id="mixed-set",
        ),
        pytest.param({"mixed": {b"a", "a"}}, "mixed", r"a set must hold one kind", id="bytes-and-str-set"),
        pytest.param(
            {"flags": {True}}, "flags", r"sets may hold strings, numbers or binaries, not booleans$", id="bool-set"
        ),
        pytest.param({"s": {None}}, "s", r"sets may hold strings, numbers or binaries, not NoneType$", id="None-set"),
        pytest.param({"s": {0.1, Decimal("0.1")}}, "s", r"NS elements collide once encoded", id="colliding-set"),
        pytest.param({"x": [object()]}, "x[0]", r"cannot store an? object in DynamoDB", id="object"),
        pytest.param(object(), "", r"cannot store an? object in DynamoDB", id="object-top-level"),
        pytest.param({"c": 1j}, "c", r"cannot store an? complex in DynamoDB", id="complex"),
        pytest.param({"": 1}, "", r"attribute names must not be empty$", id="empty-name"),
        pytest.param({"m": {1: "x"}}, "m", r"attribute names must be strings, got a number$", id="number-name"),
    ],
)
def test_serialize_refuses_values_dynamodb_cannot_store(value: Any, path: str, reason: str) -> None:
    # allow_floats=True so that the colliding set fails on the collision, not on its float
    with pytest.raises(AttributeValueError, match=error_pattern(path, reason)) as caught:
        serialize(value, allow_floats=True)
    assert caught.value.path == path


def test_serialize_sorts_binary_sets_deterministically() -> None:
    elements = {b"\xff", b"\x00", b"\x7f\x01", b""}
    encoded = serialize(elements)["BS"]
    assert encoded == sorted(encoded)
    assert {base64.b64decode(text) for text in encoded} == elements


def test_serialize_refuses_a_self_referencing_list() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(AttributeValueError, match=error_pattern("[0]" * 31, r"nested too deeply")) as caught:
        serialize(loop)
    assert caught.value.path == "[0]" * 31


def test_serialize_refuses_a_self_referencing_dict() -> None:
    loop: dict[str, Any] = {}
    loop["a"] = loop
    path = ".".join(["a"] * 31)
    with pytest.raises(AttributeValueError, match=error_pattern(path, r"nested too deeply")) as caught:
        serialize(loop)
    assert caught.value.path == path


def test_serialize_allows_31_wrapping_levels_and_refuses_32() -> None:
    value: Any = "deep"
    for _ in range(31):
        value = [value]
    assert deserialize(serialize(value)) == value
    with pytest.raises(AttributeValueError, match=error_pattern("x" + "[0]" * 30, r"nested too deeply")):
        serialize({"x": value})


def test_serialize_item_encodes_each_attribute() -> None:
    item = {"Id": 101, "Message": "New item!", "Tags": {"b", "a"}, "Blob": b"\x01"}
    assert serialize_item(item) == {
        "Id": {"N": "101"},
        "Message": {"S": "New item!"},
        "Tags": {"SS": ["a", "b"]},
        "Blob": {"B": "AQ=="},
    }


@pytest.mark.parametrize(
    ("item", "path", "reason"),
    [
        pytest.param({"": 1}, "", r"attribute names must not be empty$", id="empty-name"),
        pytest.param({1: 1}, "", r"attribute names must be strings, got a number$", id="number-name"),
        pytest.param({"a": {"": 1}}, "a", r"attribute names must not be empty$", id="nested-empty-name"),
        pytest.param({"a": {"b": set()}}, "a.b", r"an empty set has no DynamoDB type", id="nested-empty-set"),
        pytest.param(
            [("a", 1)], "", r"an item must be a mapping of attribute names to values, got an array$", id="not-a-mapping"
        ),
        pytest.param({"f": 1.5}, "f", r"float 1\.5 refused", id="float"),
    ],
)
def test_serialize_item_validates_names_and_values(item: Any, path: str, reason: str) -> None:
    with pytest.raises(AttributeValueError, match=error_pattern(path, reason)) as caught:
        serialize_item(item)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (Decimal("1.50"), "1.5"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0"), "0"),
        (Decimal("0E-7"), "0"),
        (Decimal("-1.2E-3"), "-0.0012"),
        (Decimal("120"), "120"),
        (Decimal("1.20E+2"), "120"),
        (Decimal("0.05"), "0.05"),
        (Decimal(DIGITS_38), DIGITS_38),
        (Decimal(DIGITS_38 + "E-38"), "0." + DIGITS_38.rstrip("0")),
        (Decimal(MAX_NUMBER), "9" * 38 + "0" * 88),
        (10**40, "1" + "0" * 40),
        (-5, "-5"),
    ],
)
def test_format_number_is_plain_and_exact(number: Decimal | int, expected: str) -> None:
    assert format_number(number) == expected


# --------------------------------------------------------------------------------------------------
# 4. Item size ("Item sizes and formats", DynamoDB developer guide)


def test_item_size_reproduces_the_sam_sample_size_bytes(sam_event: dict[str, Any]) -> None:
    sizes = []
    for record in sam_event["Records"]:
        stream = record["dynamodb"]
        size = sum(item_size(stream[part]) for part in ("Keys", "NewImage", "OldImage") if part in stream)
        sizes.append((size, stream["SizeBytes"]))
    assert sizes == [(26, 26), (59, 59), (38, 38)]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("101", 3),
        ("120", 3),
        ("100", 2),
        ("0.05", 2),
        ("-1", 3),
        (DIGITS_38, 20),
        ("0", 1),
        ("-0", 1),
        ("0.000", 1),
        ("1", 2),
        ("99", 2),
        ("1000", 2),
        ("100.05", 4),
        ("1.5", 3),
        ("0.5", 2),
        ("-" + DIGITS_38, 21),
        ("1" + DIGITS_38[1:] + "E-1", 21),  # odd split of 38 digits: 20 pairs, capped
        ("1E-130", 2),
        (MAX_NUMBER, 20),
        ("1" + "0" * 40, 2),
    ],
)
def test_number_sizes(text: str, size: int) -> None:
    assert item_size({"n": {"N": text}}) - 1 == size
    assert oracle_number_size(text) == size  # the property tests' oracle agrees with AWS's examples


@pytest.mark.parametrize(
    ("image", "size"),
    [
        pytest.param({"s": {"S": "é"}}, 1 + 2, id="S-utf8"),
        pytest.param({"s": {"S": ""}}, 1, id="S-empty"),
        pytest.param({"é": {"S": "x"}}, 2 + 1, id="name-utf8"),
        pytest.param({"b": {"B": "AAEC"}}, 1 + 3, id="B-raw-length"),
        pytest.param({"b": {"B": b"\x00\x01\x02\x03"}}, 1 + 4, id="B-bytes"),
        pytest.param({"t": {"BOOL": False}}, 1 + 1, id="BOOL"),
        pytest.param({"z": {"NULL": True}}, 1 + 1, id="NULL"),
        pytest.param({"m": {"M": {}}}, 1 + 3, id="M-empty"),
        pytest.param({"m": {"M": {"ab": {"S": "xyz"}}}}, 1 + 3 + (2 + 3 + 1), id="M-one"),
        pytest.param(
            {"m": {"M": {"a": {"N": "1"}, "bc": {"NULL": True}}}}, 1 + 3 + (1 + 2 + 1) + (2 + 1 + 1), id="M-two"
        ),
        pytest.param({"l": {"L": []}}, 1 + 3, id="L-empty"),
        pytest.param({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}, 1 + 3 + (2 + 1) + (2 + 1), id="L-two"),
        pytest.param({"l": {"L": [{"L": []}]}}, 1 + 3 + (3 + 1), id="L-nested"),
        pytest.param({"s": {"SS": ["ab", "c", ""]}}, 1 + 3, id="SS-no-overhead"),
        pytest.param({"s": {"NS": ["1", "100", "-1"]}}, 1 + 2 + 2 + 3, id="NS-no-overhead"),
        pytest.param({"s": {"BS": ["AAE=", "AA=="]}}, 1 + 2 + 1, id="BS-no-overhead"),
        pytest.param({}, 0, id="empty-item"),
        pytest.param({"Id": {"N": "101"}, "Message": {"S": "New item!"}}, 21, id="sam-new-image"),
    ],
)
def test_item_size_of_each_type(image: dict[str, Any], size: int) -> None:
    assert item_size(image) == size


# --------------------------------------------------------------------------------------------------
# 5. validate_item


def test_validate_item_accepts_exactly_400_kb() -> None:
    validate_item({"a": {"S": "x" * (ITEM_SIZE_LIMIT - 1)}})
    with pytest.raises(AttributeValueError, match=r"^item is 409,601 bytes; DynamoDB's limit is 409,600 bytes") as c:
        validate_item({"a": {"S": "x" * ITEM_SIZE_LIMIT}})
    assert c.value.path == ""


def test_validate_item_counts_attribute_name_bytes() -> None:
    validate_item({"é": {"S": "x" * (ITEM_SIZE_LIMIT - 2)}})
    with pytest.raises(AttributeValueError, match=r"^item is 409,601 bytes") as caught:
        validate_item({"é": {"S": "x" * (ITEM_SIZE_LIMIT - 1)}})
    assert caught.value.path == ""
    with pytest.raises(AttributeValueError, match=r"^item is 409,601 bytes"):
        validate_item({"ab": {"S": "x" * (ITEM_SIZE_LIMIT - 1)}})


def test_validate_item_counts_nested_sizes_toward_the_limit() -> None:
    # 1 (name) + 3 (L) + 1 (element) + 409,595 = 409,600
    validate_item({"l": {"L": [{"S": "x" * 409_595}]}})
    with pytest.raises(AttributeValueError, match=r"^item is 409,601 bytes"):
        validate_item({"l": {"L": [{"S": "x" * 409_596}]}})


def _b64(size: int) -> str:
    return base64.b64encode(b"\x01" * size).decode("ascii")


@pytest.mark.parametrize(
    ("image", "schema"),
    [
        pytest.param({"pk": {"S": "x" * 2048}}, {"pk": "S"}, id="partition-S-2048"),
        pytest.param({"pk": {"S": "é" * 1024}}, {"pk": "S"}, id="partition-S-2048-utf8"),
        pytest.param({"pk": {"B": _b64(2048)}}, {"pk": "B"}, id="partition-B-2048"),
        pytest.param({"pk": {"B": b"\x01" * 2048}}, {"pk": "B"}, id="partition-B-bytes-2048"),
        pytest.param({"pk": {"N": "-" + MAX_NUMBER}}, {"pk": "N"}, id="partition-N"),
        pytest.param({"pk": {"S": "p"}, "sk": {"S": "x" * 1024}}, {"pk": "S", "sk": "S"}, id="sort-S-1024"),
        pytest.param({"pk": {"S": "p"}, "sk": {"B": _b64(1024)}}, {"pk": "S", "sk": "B"}, id="sort-B-1024"),
        pytest.param(
            {"pk": {"S": "p"}, "sk": {"N": "0"}, "data": {"S": ""}},
            {"pk": "S", "sk": "N"},
            id="sort-N-and-empty-non-key",
        ),
        pytest.param({"my key": {"S": "p"}}, {"my key": "S"}, id="odd-key-name"),
    ],
)
def test_validate_item_accepts_valid_keys(image: dict[str, Any], schema: dict[str, str]) -> None:
    assert validate_item(image, key_schema=schema) is None


@pytest.mark.parametrize(
    ("image", "schema", "path", "reason"),
    [
        pytest.param(
            {"x": {"S": "p"}},
            {"pk": "S"},
            "pk",
            r"the item lacks its partition key attribute$",
            id="missing-partition-key",
        ),
        pytest.param(
            {"pk": {"S": "p"}},
            {"pk": "S", "sk": "N"},
            "sk",
            r"the item lacks its sort key attribute$",
            id="missing-sort-key",
        ),
        pytest.param(
            {"pk": {"N": "1"}},
            {"pk": "S"},
            "pk",
            r"the partition key must be of type S \(key schema\), got N$",
            id="wrong-type",
        ),
        pytest.param(
            {"pk": {"SS": ["a"]}},
            {"pk": "S"},
            "pk",
            r"the partition key must be of type S \(key schema\), got SS$",
            id="set-as-key",
        ),
        pytest.param(
            {"pk": {"S": "p"}, "sk": {"NULL": True}},
            {"pk": "S", "sk": "S"},
            "sk",
            r"the sort key must be of type S \(key schema\), got NULL$",
            id="sort-key-NULL",
        ),
        pytest.param({"pk": {"S": ""}}, {"pk": "S"}, "pk", r"the partition key must not be empty$", id="empty-S"),
        pytest.param({"pk": {"B": ""}}, {"pk": "B"}, "pk", r"the partition key must not be empty$", id="empty-B"),
        pytest.param(
            {"pk": {"S": "p"}, "sk": {"S": ""}},
            {"pk": "S", "sk": "S"},
            "sk",
            r"the sort key must not be empty$",
            id="empty-sort-key",
        ),
        pytest.param(
            {"pk": {"S": "x" * 2049}},
            {"pk": "S"},
            "pk",
            r"the partition key is 2049 bytes; DynamoDB allows at most 2048$",
            id="partition-S-2049",
        ),
        pytest.param(
            {"pk": {"S": "é" * 1024 + "x"}},
            {"pk": "S"},
            "pk",
            r"the partition key is 2049 bytes; DynamoDB allows at most 2048$",
            id="partition-S-2049-utf8",
        ),
        pytest.param(
            {"pk": {"B": _b64(2049)}},
            {"pk": "B"},
            "pk",
            r"the partition key is 2049 bytes; DynamoDB allows at most 2048$",
            id="partition-B-2049",
        ),
        pytest.param(
            {"pk": {"S": "p"}, "sk": {"S": "x" * 1025}},
            {"pk": "S", "sk": "S"},
            "sk",
            r"the sort key is 1025 bytes; DynamoDB allows at most 1024$",
            id="sort-S-1025",
        ),
        pytest.param(
            {"pk": {"S": "p"}, "sk": {"B": _b64(1025)}},
            {"pk": "S", "sk": "B"},
            "sk",
            r"the sort key is 1025 bytes; DynamoDB allows at most 1024$",
            id="sort-B-1025",
        ),
        pytest.param({"pk": {"S": "p"}, "bad": {"N": "x"}}, {"pk": "S"}, "bad", _nan("x"), id="non-key-invalid"),
    ],
)
def test_validate_item_rejects_bad_keys(image: dict[str, Any], schema: dict[str, str], path: str, reason: str) -> None:
    with pytest.raises(AttributeValueError, match=error_pattern(path, reason)) as caught:
        validate_item(image, key_schema=schema)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        pytest.param({}, r"key_schema must map 1 or 2 attribute names to types", id="empty"),
        pytest.param({"a": "S", "b": "S", "c": "S"}, r"key_schema must map 1 or 2 attribute names", id="three-keys"),
        pytest.param([("pk", "S")], r"key_schema must map 1 or 2 attribute names", id="list"),
        pytest.param({"": "S"}, r"key attribute names must be non-empty strings$", id="empty-name"),
        pytest.param({1: "S"}, r"key attribute names must be non-empty strings$", id="number-name"),
        pytest.param({"pk": "SS"}, r"key attribute 'pk' has type 'SS'; key attributes are S, N or B$", id="SS"),
        pytest.param({"pk": "BOOL"}, r"key attribute 'pk' has type 'BOOL'", id="BOOL"),
        pytest.param({"pk": "s"}, r"key attribute 'pk' has type 's'", id="lowercase"),
        pytest.param({"pk": ["S"]}, r"key attribute 'pk' has type an array;", id="unhashable-type"),
    ],
)
def test_validate_item_rejects_an_invalid_key_schema(schema: Any, reason: str) -> None:
    with pytest.raises(AttributeValueError, match=error_pattern("key_schema", reason)) as caught:
        validate_item({"pk": {"S": "p"}}, key_schema=schema)
    assert caught.value.path == "key_schema"


# --------------------------------------------------------------------------------------------------
# 6. Properties


@PROPERTY_SETTINGS
@given(dynamo_values)
def test_property_deserialize_inverts_serialize(value: Any) -> None:
    encoded = serialize(value)
    assert typed(deserialize(encoded)) == typed(value)
    assert serialize(deserialize(encoded)) == encoded  # the encoding is canonical


@PROPERTY_SETTINGS
@given(dynamo_items)
def test_property_items_round_trip_and_validate(item: dict[str, Any]) -> None:
    image = serialize_item(item)
    assert typed(deserialize_item(image)) == typed(item)
    assert item_size(image) == oracle_item_size(image)


@PROPERTY_SETTINGS
@given(dynamo_values)
def test_property_serialized_numbers_are_plain_and_exact(value: Any) -> None:
    plain = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")

    def numbers(av: dict[str, Any]) -> list[str]:
        ((tag, inner),) = av.items()
        if tag == "N":
            return [inner]
        if tag == "NS":
            return list(inner)
        if tag == "M":
            return [text for element in inner.values() for text in numbers(element)]
        if tag == "L":
            return [text for element in inner for text in numbers(element)]
        return []

    for text in numbers(serialize(value)):
        assert plain.fullmatch(text), text
        assert text != "-0"
        assert oracle_plain(text) == text


@PROPERTY_SETTINGS
@given(dynamo_values)
def test_property_item_size_matches_the_spec_oracle(value: Any) -> None:
    image = {"attr": serialize(value)}
    assert item_size(image) == 4 + oracle_size(image["attr"])


@PROPERTY_SETTINGS
@given(st.lists(dynamo_numbers, min_size=1, max_size=6))
def test_property_number_sizes_match_the_spec_oracle(numbers: list[Decimal]) -> None:
    for number in numbers:
        text = str(number)  # scientific notation for many of them: the size must not depend on the notation
        assert item_size({"n": {"N": text}}) == 1 + oracle_number_size(text)
        assert item_size({"n": {"N": format_number(number)}}) == 1 + oracle_number_size(text)


_NUMBER_TOKENS = [
    "0",
    "1",
    "9",
    "00",
    ".",
    "e",
    "E",
    "+",
    "-",
    "NaN",
    "sNaN",
    "Inf",
    "Infinity",
    " ",
    "_",
    "\u0661",
    "0" * 37,
    "9" * 20,
    "130",
    "131",
    "125",
    "126",
    "x",
]
number_texts = st.one_of(
    st.from_regex(r"\A[+-]?[0-9]{0,5}(\.[0-9]{0,5})?([eE][+-]?[0-9]{1,3})?\Z"),
    st.lists(st.sampled_from(_NUMBER_TOKENS), max_size=6).map("".join),
    # Special values Decimal() accepts, with the signs and payload digits it also accepts
    st.builds(
        "".join,
        st.tuples(
            st.sampled_from(["", "+", "-"]),
            st.sampled_from(["NaN", "nan", "sNaN", "Inf", "Infinity"]),
            st.from_regex(r"\A[0-9]{0,3}\Z"),
        ),
    ),
)


@PROPERTY_SETTINGS
@given(number_texts)
@example("-NaN1")
@example("1E+126")
@example("0E+999")
@example("-.5e-3")
def test_property_number_text_is_accepted_exactly_when_dynamodb_accepts_it(text: str) -> None:
    expected = oracle_number(text)
    if expected is None:
        with pytest.raises(AttributeValueError):
            deserialize({"N": text})
        with pytest.raises(AttributeValueError):
            deserialize_item({"n": {"N": text}})
    else:
        value = deserialize({"N": text})
        assert type(value) is Decimal
        assert value == oracle_decimal(text)
        assert format_number(value) == oracle_plain(text)
        assert deserialize_item({"n": {"N": text}})["n"] == value


@PROPERTY_SETTINGS
@given(boto3_values)
def test_property_deserialize_reads_what_boto3_serializes(value: Any) -> None:
    boto3_form = TypeSerializer().serialize(value)
    assert typed(deserialize(boto3_form)) == typed(value)


@PROPERTY_SETTINGS
@given(boto3_values)
def test_property_boto3_reads_what_serialize_writes(value: Any) -> None:
    ours = serialize(value)
    assert typed(TypeDeserializer().deserialize(ours)) == typed(value)
    assert typed(TypeDeserializer().deserialize(ours)) == typed(deserialize(ours))


def test_boto3_fails_where_shardline_is_exact() -> None:
    """The motivating cases of DynamoDB's number rules: boto3 refuses 10**38, shardline encodes it exactly."""
    with pytest.raises(Rounded):
        TypeSerializer().serialize(10**38)
    assert deserialize(serialize(10**38)) == 10**38


# --------------------------------------------------------------------------------------------------
# 7. int_if_integral


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("3.0", 3),
        ("-3.000", -3),
        ("-0", 0),
        ("0.00", 0),
        ("1E+2", 100),
        ("1" + "0" * 40, 10**40),
        (DIGITS_38, int(DIGITS_38)),
        (MAX_NUMBER, int("9" * 38 + "0" * 88)),
        ("2.5", Decimal("2.5")),
        ("5E-3", Decimal("0.005")),
        ("1.0000000000000000000000000000000000001", Decimal("1.0000000000000000000000000000000000001")),
    ],
)
def test_int_if_integral_converts_integral_numbers(text: str, expected: int | Decimal) -> None:
    result = deserialize({"N": text}, int_if_integral=True)
    assert type(result) is type(expected)
    assert result == expected
    assert type(deserialize({"N": text})) is Decimal  # off by default


def test_int_if_integral_converts_nested_values_and_number_sets() -> None:
    av = {
        "M": {
            "qty": {"N": "3.0"},
            "price": {"N": "2.5"},
            "lines": {"L": [{"N": "7"}, {"M": {"n": {"N": "-1"}}}, {"S": "3"}, {"BOOL": True}]},
            "ids": {"NS": ["1", "2.5", "30"]},
            "names": {"SS": ["1"]},
        }
    }
    result = deserialize(av, int_if_integral=True)
    assert typed(result) == typed(
        {
            "qty": 3,
            "price": Decimal("2.5"),
            "lines": [7, {"n": -1}, "3", True],
            "ids": {1, Decimal("2.5"), 30},
            "names": {"1"},
        }
    )
    assert type(result["qty"]) is int
    assert type(result["price"]) is Decimal
    assert type(result["lines"][1]["n"]) is int
    assert result["lines"][3] is True
    assert sorted(type(n).__name__ for n in result["ids"]) == ["Decimal", "int", "int"]
    assert result["names"] == {"1"}


def test_int_if_integral_applies_to_items() -> None:
    result = deserialize_item({"Id": {"N": "101"}, "r": {"N": "0.5"}, "l": {"L": [{"N": "2.0"}]}}, int_if_integral=True)
    assert (type(result["Id"]), result["Id"]) == (int, 101)
    assert (type(result["r"]), result["r"]) == (Decimal, Decimal("0.5"))
    assert (type(result["l"][0]), result["l"][0]) == (int, 2)
    assert type(deserialize_item({"Id": {"N": "101"}})["Id"]) is Decimal


def test_int_if_integral_still_validates() -> None:
    with pytest.raises(AttributeValueError, match=r"^a\[0\]: 'x' is not a number") as caught:
        deserialize({"M": {"a": {"L": [{"N": "x"}]}}}, int_if_integral=True)
    assert caught.value.path == "a[0]"
