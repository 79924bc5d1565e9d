"""The codec's fast path and its careful walk must agree on every input, valid or not.

Decoding assumes well-formed input for speed and, on any failure, re-walks the value to explain it. If the
two ever disagreed, a malformed value could be accepted silently, or a valid one rejected with a
confusing message. Hypothesis throws near-valid AttributeValues at both.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shardline import AttributeValueError, deserialize, deserialize_item, item_size
from shardline._attributes import attribute_size

numbers = st.sampled_from(
    ["0", "-0", "42", "+5", "5.", ".5", "1.5E2", "00042", "1" + "0" * 40, "9" * 38, "9" * 39, "1E+126", "1E-131",
     "-1E-130", " 5", "NaN", "Infinity", "1e", "1.2.3", "++5", "", "1_000", "\u0661", "12abc", "0.0001"]
)  # fmt: skip
base64_texts = st.sampled_from(["", "AA==", "AAEC", "AAE=", "A", "AA=", "AA==AA==", "@@@@", "QQ", "éé=="])
scalars = st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none(), numbers, base64_texts)
tags = st.sampled_from(["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL", "X", ""])


def attribute_values(depth: int = 3) -> st.SearchStrategy[Any]:
    leaf = st.one_of(
        st.builds(lambda s: {"S": s}, st.one_of(st.text(max_size=5), st.integers())),
        st.builds(lambda n: {"N": n}, st.one_of(numbers, st.integers())),
        st.builds(lambda b: {"B": b}, base64_texts),
        st.builds(lambda v: {"BOOL": v}, st.one_of(st.booleans(), st.integers(0, 1))),
        st.builds(lambda v: {"NULL": v}, st.one_of(st.booleans(), st.none())),
        st.builds(lambda v: {"SS": v}, st.lists(st.one_of(st.text(max_size=2), st.integers()), max_size=3)),
        st.builds(lambda v: {"NS": v}, st.lists(numbers, max_size=3)),
        st.builds(lambda v: {"BS": v}, st.lists(base64_texts, max_size=3)),
        st.dictionaries(tags, scalars, max_size=2),  # zero, one or two type keys, any value
        scalars,  # not an object at all
    )
    if depth == 0:
        return leaf
    inner = attribute_values(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=3), inner, max_size=3)),
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
    )


def careful_verdict(av: Any) -> str | None:
    try:
        attribute_size(av)
    except AttributeValueError as exc:
        return exc.path
    return None


def fast_verdict(decode: Any, value: Any) -> str | None:
    try:
        decode(value)
    except AttributeValueError as exc:
        return exc.path
    return None


def careful_item_verdict(image: Any) -> str | None:
    try:
        item_size(image)
    except AttributeValueError as exc:
        return exc.path
    return None


@settings(max_examples=600)
@given(attribute_values())
def test_deserialize_accepts_exactly_what_the_careful_walk_accepts(av: Any) -> None:
    # None for "accepted"; otherwise both must point at the same place.
    assert fast_verdict(deserialize, av) == careful_verdict(av)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=3), attribute_values(2), max_size=4))
def test_deserialize_item_and_item_size_agree(image: dict[str, Any]) -> None:
    assert fast_verdict(deserialize_item, image) == careful_item_verdict(image)
