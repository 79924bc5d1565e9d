"""json_dumps: exact JSON text for decoded DynamoDB values."""

from __future__ import annotations

import datetime
import json
import pickle
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shardline
from shardline import deserialize_item, json_dumps
from shardline._exceptions import describe_exception
from shardline._json import json_loads

DIGITS_38 = "12345678901234567890123456789012345678"
MARK = "\x00shardline-number:"


def exact_loads(text: str) -> Any:
    """Parse JSON keeping every number exact."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        pytest.param(Decimal(DIGITS_38), DIGITS_38, id="38-digits"),
        pytest.param(
            Decimal("-" + DIGITS_38[:10] + "." + DIGITS_38[10:]),
            "-" + DIGITS_38[:10] + "." + DIGITS_38[10:],
            id="38-digits-fraction",
        ),
        pytest.param(Decimal("1E+40"), "1" + "0" * 40, id="1E+40"),
        pytest.param(Decimal("1" + "0" * 40), "1" + "0" * 40, id="1E+40-written-out"),
        pytest.param(Decimal("9.9999999999999999999999999999999999999E+125"), "9" * 38 + "0" * 88, id="largest"),
        pytest.param(Decimal("1E-130"), "0." + "0" * 129 + "1", id="smallest"),
        pytest.param(Decimal("1.50"), "1.5", id="trailing-zero"),
        pytest.param(Decimal("1.2E+2"), "120", id="exponent"),
        pytest.param(Decimal("-0"), "0", id="negative-zero"),
        pytest.param(Decimal("0.1"), "0.1", id="0.1"),
    ],
)
def test_decimals_are_written_exactly_in_plain_notation(number: Decimal, expected: str) -> None:
    assert json_dumps(number) == expected
    text = json_dumps({"n": number, "l": [number]})
    assert text == f'{{"n": {expected}, "l": [{expected}]}}'
    assert json.loads(text, parse_float=Decimal) == {"n": number, "l": [number]}
    assert exact_loads(text) == {"n": number, "l": [number]}


def test_a_decoded_item_round_trips_exactly() -> None:
    image = {
        "big": {"N": DIGITS_38},
        "huge": {"N": "1E+40"},
        "tiny": {"N": "-1E-130"},
        "price": {"N": "9.90"},
        "ids": {"NS": ["3", "1", "2.5"]},
        "nested": {"M": {"l": {"L": [{"N": "0.1"}, {"S": "x"}, {"NULL": True}, {"BOOL": False}]}}},
    }
    item = deserialize_item(image)
    parsed = exact_loads(json_dumps(item))
    assert parsed == {
        "big": Decimal(DIGITS_38),
        "huge": Decimal("1E+40"),
        "tiny": Decimal("-1E-130"),
        "price": Decimal("9.9"),
        "ids": [Decimal(1), Decimal("2.5"), Decimal(3)],
        "nested": {"l": [Decimal("0.1"), "x", None, False]},
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"c", "a", "b"}, '["a", "b", "c"]', id="strings"),
        pytest.param(frozenset({"b", "a"}), '["a", "b"]', id="frozenset"),
        pytest.param({Decimal(10), Decimal(9), Decimal("-1.5")}, "[-1.5, 9, 10]", id="numbers-numerically"),
        pytest.param({Decimal(DIGITS_38), Decimal(1)}, f"[1, {DIGITS_38}]", id="numbers-exact"),
        pytest.param({b"\xff", b"\x00"}, '["AA==", "/w=="]', id="binaries-by-bytes"),
    ],
)
def test_sets_become_sorted_arrays(value: Any, expected: str) -> None:
    assert json_dumps(value) == expected
    assert json_dumps({"s": value}) == f'{{"s": {expected}}}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(b"\x00\xff", '"AP8="', id="bytes"),
        pytest.param(bytearray(b"\x00\xff"), '"AP8="', id="bytearray"),
        pytest.param(memoryview(b"\x00\xff"), '"AP8="', id="memoryview"),
        pytest.param(b"", '""', id="empty"),
        pytest.param([b"ab", {"k": b"c"}], '["YWI=", {"k": "Yw=="}]', id="nested"),
    ],
)
def test_binaries_become_base64_text(value: Any, expected: str) -> None:
    assert json_dumps(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param([True, False, None, 1, "s"], '[true, false, null, 1, "s"]', id="plain-json-types"),
        pytest.param((Decimal(1), "a"), '[1, "a"]', id="tuple"),
        pytest.param(0.1, "0.1", id="float-as-json-writes-it"),
        pytest.param({}, "{}", id="empty-object"),
    ],
)
def test_other_values_are_written_as_json_dumps_would(value: Any, expected: str) -> None:
    assert json_dumps(value) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"indent": 2}, id="indent"),
        pytest.param({"indent": "\t", "sort_keys": True}, id="tab-indent-sorted"),
        pytest.param({"sort_keys": True}, id="sort_keys"),
        pytest.param({"separators": (",", ":")}, id="compact"),
        pytest.param({"ensure_ascii": False}, id="ensure_ascii-off"),
        pytest.param({"ensure_ascii": False, "indent": 1, "sort_keys": True}, id="combined"),
    ],
)
def test_keyword_arguments_pass_through_to_json_dumps(kwargs: dict[str, Any]) -> None:
    # Integral Decimals print like ints, so the stdlib output on the int version is the reference.
    ours = {"zeta": Decimal(1), "alpha": [Decimal(2), "é", {"b": Decimal(3), "a": None}], "mid": "\u2603"}
    reference = {"zeta": 1, "alpha": [2, "é", {"b": 3, "a": None}], "mid": "\u2603"}
    assert json_dumps(ours, **kwargs) == json.dumps(reference, **kwargs)


def test_default_is_used_for_unknown_types() -> None:
    moment = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    text = json_dumps({"at": moment, "n": Decimal("1.5")}, default=lambda value: value.isoformat())
    assert text == '{"at": "2024-05-06T07:08:09+00:00", "n": 1.5}'


def test_default_results_are_prepared_too() -> None:
    class Money:
        def __init__(self, amount: str) -> None:
            self.amount = amount

    text = json_dumps([Money(DIGITS_38)], default=lambda value: {"amount": Decimal(value.amount), "raw": b"\x01"})
    assert text == f'[{{"amount": {DIGITS_38}, "raw": "AQ=="}}]'


@pytest.mark.parametrize(
    ("value", "path", "name"),
    [(object(), "", "object"), ({"k": {1j}}, "k[0]: ", "complex"), ([datetime.date(2024, 1, 1)], "[0]: ", "date")],
)
def test_unknown_types_without_default_raise_type_error(value: Any, path: str, name: str) -> None:
    # A TypeError as json.dumps raises, and a shardline error that says where the value is.
    with pytest.raises(
        TypeError, match=rf"^{re.escape(path)}Object of type {name} is not JSON serializable \(pass"
    ) as caught:
        json_dumps(value)
    assert isinstance(caught.value, shardline.AttributeTypeError)


@pytest.mark.parametrize(
    "text",
    [
        MARK + "0",
        MARK,
        MARK + "~0",
        "before " + MARK + "12 after",
        '"' + MARK + '0"',
    ],
)
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_strings_holding_the_internal_placeholder_are_preserved(text: str, ensure_ascii: bool) -> None:
    value = {text: [text, Decimal("1.25"), Decimal(DIGITS_38)], "plain": text}
    out = json_dumps(value, ensure_ascii=ensure_ascii)
    assert exact_loads(out) == {text: [text, Decimal("1.25"), Decimal(DIGITS_38)], "plain": text}
    assert out.endswith(f", 1.25, {DIGITS_38}], " + '"plain": ' + json.dumps(text) + "}")


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        pytest.param(Decimal("NaN"), "NaN", id="NaN"),
        pytest.param(Decimal("-sNaN"), "-sNaN", id="sNaN"),
        pytest.param(Decimal("Infinity"), "Infinity", id="Infinity"),
        pytest.param(Decimal("-Infinity"), "-Infinity", id="minus-Infinity"),
    ],
)
def test_non_finite_decimals_raise_value_error(number: Decimal, shown: str) -> None:
    with pytest.raises(shardline.AttributeValueError, match=rf"^a\[0\]: Decimal {shown} has no JSON form$"):
        json_dumps({"a": [number]})


def test_a_reference_cycle_raises_value_error_like_json_dumps() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match=r"^Circular reference detected$"):
        json.dumps(loop)
    with pytest.raises(shardline.AttributeValueError, match=r"^\[0\]: refers back to itself \(a reference cycle\)"):
        json_dumps(loop)
    shared = [1]
    assert json_dumps([shared, shared]) == "[[1], [1]]"  # a value seen twice is not a cycle


def test_deep_but_finite_nesting_is_written() -> None:
    value: Any = Decimal("0.5")
    for _ in range(200):
        value = [value]
    assert json_dumps(value) == "[" * 200 + "0.5" + "]" * 200


# --------------------------------------------------------------------------------------------------
# Property: json_dumps followed by an exact json.loads gives the value back


def _number(negative: bool, coefficient: int, adjusted: int) -> Decimal:
    digits = tuple(int(digit) for digit in str(coefficient))
    return Decimal((int(negative), digits, adjusted - (len(digits) - 1)))


numbers = st.one_of(
    st.builds(_number, st.booleans(), st.integers(1, 10**38 - 1), st.integers(-130, 125)),
    st.integers(-1000, 1000).map(Decimal),
)
strings = st.one_of(
    st.text(max_size=10),
    st.builds(lambda a, b: a + MARK + b, st.text(max_size=3), st.sampled_from(["", "0", "1", "~", "~0", '"'])),
)
json_values = st.recursive(
    st.one_of(numbers, strings, st.booleans(), st.none()),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(strings, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, database=None)
@given(json_values, st.sampled_from([{}, {"indent": 2}, {"ensure_ascii": False}, {"separators": (",", ":")}]))
def test_property_json_dumps_round_trips_exactly(value: Any, kwargs: dict[str, Any]) -> None:
    assert exact_loads(json_dumps(value, **kwargs)) == value


# --------------------------------------------------------------------------------------------------
# json_loads: strict parsing, one error type


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "^NaN is not JSON \\(line 1, column 7\\)$"),
        ("[1,\n Infinity]", "^Infinity is not JSON \\(line 2, column 2\\)$"),
        ('["NaN", -Infinity]', "^-Infinity is not JSON \\(line 1, column 9\\)$"),
        ("[" * 100_000, "^nested too deeply to read"),
        ("1" * 5000, "^an integer has more digits than Python converts"),
        (b"\xff", "^not UTF-8 text \\(invalid start byte at byte 0\\)$"),
        ('{"a": }', "^Expecting value \\(line 1, column 7\\)$"),
    ],
)
def test_json_loads_refuses_with_one_error_type(text: str | bytes, reason: str) -> None:
    with pytest.raises(shardline.JSONInputError, match=reason) as caught:
        json_loads(text)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, shardline.ShardlineError)


def test_json_loads_keeps_hooks_and_strings_that_look_like_constants() -> None:
    assert json_loads('{"n": 1.50, "s": "NaN"}', parse_float=Decimal) == {"n": Decimal("1.50"), "s": "NaN"}
    assert json_loads(b'["\\u00e9"]') == ["\u00e9"]
    assert json_loads("1" * 4300) == int("1" * 4300)


def test_json_input_error_pickles() -> None:
    error = shardline.JSONInputError("bad", 2, 3)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.line, copy.column, str(copy)) == ("bad", 2, 3, "bad (line 2, column 3)")


class _BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


def test_describe_exception_never_raises() -> None:
    assert describe_exception(ValueError("bad \ud800")) == "ValueError: bad \\ud800"
    assert describe_exception(_BrokenStr()) == "_BrokenStr: <the exception's str() raised>"
    assert describe_exception(KeyError()) == "KeyError"


def test_json_loads_refuses_an_exponent_decimal_cannot_hold() -> None:
    with pytest.raises(shardline.JSONInputError, match=r"^a number's exponent is beyond what can be read exactly"):
        json_loads('{"a": [1e999999999999999999999]}', parse_float=Decimal)
    assert json_loads("[1e999999999]", parse_float=Decimal) == [Decimal("1e999999999")]
