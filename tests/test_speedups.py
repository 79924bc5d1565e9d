"""The C accelerator (shardline._speedups) against the pure Python fast path it replaces.

The Python functions of shardline._attributes stay the reference: on every input, valid or not, the C ones
must return the same value (same types, Decimal digits and exponent included) or raise too, leaving the byte
budget where Python leaves it; and the public functions must then give the same values or the same error,
message and path. Hypothesis generates AttributeValues and images of every type, valid and invalid. The
accelerator must also leak nothing (tracemalloc, reference counts) and give way to Python when told to.

Tests that need the extension skip when it is not built, or when SHARDLINE_PURE_PYTHON switched it off.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from importlib.util import find_spec
from types import MappingProxyType, ModuleType
from typing import Any

import pytest
from conftest import FUZZ_EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shardline
from shardline import ShardlineError, StreamEvent, deserialize, deserialize_item
from shardline import _attributes as codec
from shardline._attributes import _BUDGET, _NUMBER_CACHE, MAX_DEPTH

# A failing example nested 33 levels deep prints long: let hypothesis print it.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning")
DIFFERENTIAL = settings(
    max_examples=FUZZ_EXAMPLES * 4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SURROGATE = "\ud800"


@pytest.fixture(scope="module")
def speedups() -> ModuleType:
    """The extension, in use: skips when it is not built or the pure path was forced."""
    module = pytest.importorskip("shardline._speedups")
    if not shardline.speedups_enabled:
        pytest.skip("SHARDLINE_PURE_PYTHON is set: the pure Python codec is in use")
    return module


@contextlib.contextmanager
def pure_path() -> Iterator[None]:
    """Every accelerated name, in every shardline module that holds one, bound to its Python function again."""
    selected = {id(function): name for name, function in codec._SELECTED_FUNCTIONS.items()}
    patched: list[tuple[ModuleType, str, Any]] = []
    for name, module in list(sys.modules.items()):
        if name == "shardline" or name.startswith("shardline."):
            for attribute, value in list(vars(module).items()):
                function = selected.get(id(value))
                if function is not None and value is codec._SELECTED_FUNCTIONS[function]:
                    patched.append((module, attribute, value))
                    setattr(module, attribute, codec._PURE_FUNCTIONS[function])
    decoders = dict(codec._DECODERS)
    codec._DECODERS.update(codec._PURE_DECODERS)
    try:
        yield
    finally:
        codec._DECODERS.update(decoders)
        for module, attribute, value in patched:
            setattr(module, attribute, value)


def shape(value: Any) -> Any:
    """``value`` as comparable data that tells every difference the codec could make: types, the order of a
    dict, and a Decimal's sign, digits and exponent (Decimal("1.0") == Decimal("1"), but not as a tuple)."""
    kind = type(value)
    if kind is Decimal:
        return ("Decimal", value.as_tuple())
    if kind is dict:
        return ("dict", tuple((shape(name), shape(item)) for name, item in value.items()))
    if kind is list:
        return ("list", tuple(shape(item) for item in value))
    if kind is set:
        return ("set", frozenset(shape(item) for item in value))
    if kind in (str, bytes, bool, type(None), int):
        return (kind.__name__, value)
    if kind is Tag:  # a name of a generated map
        return ("Tag", str.__str__(value))
    raise AssertionError(f"the decoder returned a {kind.__name__}")  # pragma: no cover - a bug to report


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("value", shape(call()))
    except Exception:  # noqa: BLE001 - the fast path may raise anything; only that it raised matters
        return ("raised",)


def public_outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("value", shape(call()))
    except ShardlineError as exc:
        return ("error", type(exc), str(exc), getattr(exc, "path", None))


# --------------------------------------------------------------------------------------------------
# What hypothesis builds


class Tag(str):
    """A str subclass: a tag, name or value that is text but not a str object."""

    __slots__ = ()


class Pairs(Mapping[Any, Any]):
    """A mapping that is not a dict, with keys of any kind."""

    def __init__(self, items: Any) -> None:
        self._items = list(items)

    def __getitem__(self, key: Any) -> Any:
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[Any]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Pairs({self._items!r})"


TEXTS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", "a", "é", "日本", SURROGATE, "a\udc80", "x" * 70, "é" * 70, "\U0001f600"]),
    st.text(max_size=3).map(Tag),
)
NUMBER_TEXTS = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.decimals(places=None).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "0",
            "-0",
            "1.50",
            ".5",
            "5.",
            "+1",
            "1e126",
            "9.9999999999999999999999999999999999999E+125",
            "1E+126",
            "1E-130",
            "1E-131",
            "0e999999999",
            "1" + "0" * 40,
            "9" * 39,
            "0." + "0" * 40 + "1",
            "NaN",
            "-sNaN5",
            "Infinity",
            " 1",
            "1_0",
            "\u0663",
            "",
            "-",
            ".",
            "1e",
            "1.2.3",
            "+-1",
            "0x10",
        ]
    ),
    st.text(alphabet="0123456789.eE+-_ ", max_size=10),
)
NUMBERS = st.one_of(
    NUMBER_TEXTS, NUMBER_TEXTS.map(Tag), st.integers(-5, 5), st.none(), st.just([]), st.sampled_from(["1", "2", "3.5"])
)
BASE64 = st.one_of(
    st.binary(max_size=70).map(lambda data: base64.b64encode(data).decode()),
    st.sampled_from(["", "AAA", "AAAA=", "AAAA====", "A===", "@@@@", "AA==", "AAE=", "AAF=", "QQ", "é", "AAAA\n"]),
    st.text(alphabet="AB=+/", max_size=9),
    st.binary(max_size=4),
    st.binary(max_size=4).map(bytearray),
    st.integers(),
)
ODD_VALUES = st.sampled_from([None, True, False, 0, 1, "true", [], {}, (), 1.5])


def sets_of(elements: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(elements, max_size=5),
        st.lists(elements, min_size=1, max_size=3).map(lambda items: items + items[:1]),  # a repeat
        st.lists(elements, min_size=60, max_size=70),  # counted against the budget
        st.lists(elements, max_size=3).map(tuple),
        ODD_VALUES,
    )


SCALARS = st.one_of(
    st.builds(lambda value: {"S": value}, st.one_of(TEXTS, ODD_VALUES)),
    st.builds(lambda value: {"N": value}, NUMBERS),
    st.builds(lambda value: {"B": value}, BASE64),
    st.builds(lambda value: {"BOOL": value}, ODD_VALUES),
    st.builds(lambda value: {"NULL": value}, ODD_VALUES),
    st.builds(lambda value: {"SS": value}, sets_of(st.one_of(TEXTS, st.integers(0, 2)))),
    st.builds(lambda value: {"NS": value}, sets_of(NUMBERS)),
    st.builds(lambda value: {"BS": value}, sets_of(BASE64)),
    st.builds(lambda value: {"M": value}, st.sampled_from([{}, [], "x", None, MappingProxyType({})])),
    st.builds(lambda value: {"L": value}, st.sampled_from([[], (), {}, "x", None])),
    st.sampled_from([{}, {"S": "a", "N": "1"}, {"X": 1}, {"s": "a"}, {1: "a"}, None, "S", ["S"], 3, ("N",)]),
)
NAMES = st.one_of(TEXTS, st.integers(0, 2))


def odd_form(av: Any) -> st.SearchStrategy[Any]:
    """``av`` in a form the C code does not read directly: its tag a str subclass, or not a dict."""
    if type(av) is not dict or len(av) != 1:
        return st.just(av)
    ((tag, value),) = av.items()
    forms = [Pairs(av.items()), OrderedDict(av), MappingProxyType(av)]
    if type(tag) is str:
        forms.append({Tag(tag): value})
    return st.sampled_from(forms)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    maps = st.dictionaries(NAMES, children, max_size=4)
    return st.one_of(
        maps.map(lambda names: {"M": names}),
        maps.map(lambda names: {"M": Pairs(names.items())}),
        maps.map(lambda names: {"M": OrderedDict(names)}),
        st.lists(children, max_size=4).map(lambda items: {"L": items}),
        st.lists(children, max_size=3).map(lambda items: {"L": tuple(items)}),
        children.flatmap(odd_form),
    )


def nested(av: Any, kinds: list[bool]) -> Any:
    """``av`` wrapped in one M or L per entry of ``kinds``: depth beyond DynamoDB's 32 levels is refused."""
    for as_map in kinds:
        av = {"M": {"a": av}} if as_map else {"L": [av]}
    return av


ATTRIBUTE_VALUES = st.one_of(
    st.recursive(SCALARS, containers, max_leaves=12),
    st.builds(
        nested,
        st.one_of(SCALARS, st.just({"M": {}}), st.just({"L": []})),
        st.lists(st.booleans(), min_size=MAX_DEPTH - 3, max_size=MAX_DEPTH + 1),
    ),
)
# Mostly DynamoDB's limit; small budgets put every counted amount near the edge.
BUDGETS = st.one_of(st.just(_BUDGET), st.integers(-1, 160))
DEPTHS = st.sampled_from([1, 1, 1, 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1])


def pairs_forms(pairs: list[tuple[Any, Any]]) -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            lambda: dict(pairs).items(),
            lambda: list(pairs),
            lambda: iter(pairs),
            lambda: [list(pair) for pair in pairs],
            lambda: [(*pair, None) for pair in pairs],  # three items: refused
        ]
    )


PAIRS = st.lists(st.tuples(NAMES, ATTRIBUTE_VALUES), max_size=5).flatmap(pairs_forms)


def agree(call_pure: Callable[[list[int]], Any], call_c: Callable[[list[int]], Any], budget: int, warm: bool) -> None:
    """The pure Python call and the C call give the same outcome and leave the same budget."""

    def start() -> None:
        _NUMBER_CACHE.clear()
        if warm:  # the value's numbers are cached before the call: C reads them from the cache itself
            with pure_path():
                outcome(lambda: call_pure([budget]))

    start()
    pure_budget = [budget]
    with pure_path():
        expected = outcome(lambda: call_pure(pure_budget))
    start()
    c_budget = [budget]
    assert outcome(lambda: call_c(c_budget)) == expected
    assert c_budget == pure_budget


# --------------------------------------------------------------------------------------------------
# (a) Differential: the fast path's functions


@DIFFERENTIAL
@given(av=ATTRIBUTE_VALUES, depth=DEPTHS, budget=BUDGETS, warm=st.booleans())
def test_decode_agrees_with_python(speedups: ModuleType, av: Any, depth: int, budget: int, warm: bool) -> None:
    pure = codec._PURE_FUNCTIONS["_decode"]
    agree(lambda b: pure(av, depth, b), lambda b: speedups.decode(av, depth, b), budget, warm)


@DIFFERENTIAL
@given(make_pairs=PAIRS, depth=DEPTHS, budget=BUDGETS, warm=st.booleans())
def test_decode_pairs_agrees_with_python(
    speedups: ModuleType, make_pairs: Callable[[], Any], depth: int, budget: int, warm: bool
) -> None:
    pure = codec._PURE_FUNCTIONS["decode_pairs"]
    agree(lambda b: pure(make_pairs(), depth, b), lambda b: speedups.decode_pairs(make_pairs(), depth, b), budget, warm)


@DIFFERENTIAL
@given(av=ATTRIBUTE_VALUES, depth=DEPTHS, budget=BUDGETS)
def test_each_decoder_agrees_with_python(speedups: ModuleType, av: Any, depth: int, budget: int) -> None:
    # What a record's one-attribute read calls: _DECODERS[tag](value, depth, budget).
    if type(av) is not dict or len(av) != 1:
        return
    ((tag, value),) = av.items()
    if tag not in codec._PURE_DECODERS:
        return
    pure, fast = codec._PURE_DECODERS[tag], codec._DECODERS[tag]
    agree(lambda b: pure(value, depth, b), lambda b: fast(value, depth, b), budget, warm=False)


@DIFFERENTIAL
@given(text=NUMBERS, warm=st.booleans())
def test_numbers_agree_with_python(speedups: ModuleType, text: Any, warm: bool) -> None:
    pure = codec._PURE_FUNCTIONS["_number"]
    agree(lambda b: pure(text), lambda b: speedups.number(text), _BUDGET, warm)


@pytest.mark.parametrize(
    ("av", "spent"),
    [
        ({"S": "é" * _BUDGET}, _BUDGET),
        ({"S": "é" * (_BUDGET + 1)}, None),
        ({"S": "x" * (_BUDGET + 1)}, 0),  # ASCII text is not counted
        ({"S": "é" * 10 + SURROGATE}, None),
        ({"L": [{"NULL": True}] * _BUDGET}, _BUDGET),
        ({"L": [{"NULL": True}] * (_BUDGET + 1)}, None),
        ({"M": {"n" * (_BUDGET - 1): {"L": [{"BOOL": True}]}}}, _BUDGET),
        ({"M": {"n" * _BUDGET: {"L": [{"BOOL": True}]}}}, None),
        ({"M": {"é": {"S": "x"}, "a\udc80": {"S": "y"}}}, None),
        ({"SS": ["a" * 64]}, 0),
        ({"SS": ["a" * 65]}, 65),
        ({"SS": ["é" * (_BUDGET // 2), "e" * (_BUDGET // 2)]}, _BUDGET),
        ({"SS": ["é" * (_BUDGET // 2), "e" * (_BUDGET // 2 + 1)]}, None),
        ({"NS": [str(n) for n in range(65)]}, 65),
        ({"B": base64.b64encode(bytes(65)).decode()}, 65),
        ({"BS": [base64.b64encode(bytes(_BUDGET)).decode()]}, _BUDGET),
        ({"BS": [base64.b64encode(bytes(_BUDGET + 1)).decode()]}, None),
    ],
)
def test_the_byte_budget_ends_where_python_says(speedups: ModuleType, av: dict[str, Any], spent: int | None) -> None:
    budget = [_BUDGET]
    if spent is None:
        with pytest.raises(Exception):  # noqa: B017 - the fast path raises anything; the walk explains
            speedups.decode(av, 1, budget)
    else:
        speedups.decode(av, 1, budget)
        assert budget == [_BUDGET - spent]
    agree(lambda b: codec._PURE_FUNCTIONS["_decode"](av, 1, b), lambda b: speedups.decode(av, 1, b), _BUDGET, False)


@pytest.mark.parametrize("levels", [MAX_DEPTH - 1, MAX_DEPTH])
def test_nesting_stops_at_dynamodbs_depth(speedups: ModuleType, levels: int) -> None:
    for kinds in ([True] * levels, [False] * levels, [True, False] * (levels // 2) + [True] * (levels % 2)):
        av = nested({"S": "x"}, kinds)
        if levels < MAX_DEPTH:
            assert shape(speedups.decode(av, 1, [_BUDGET])) == shape(codec._PURE_FUNCTIONS["_decode"](av, 1, [_BUDGET]))
        else:
            with pytest.raises(codec._Invalid):
                speedups.decode(av, 1, [_BUDGET])
        # An empty container is allowed one level deeper.
        expected: Any = {}
        for as_map in kinds[1:]:
            expected = {"a": expected} if as_map else [expected]
        assert shape(speedups.decode(nested({"M": {}}, kinds[1:]), 1, [_BUDGET])) == shape(expected)


def test_a_shared_list_is_bounded_by_the_budget(speedups: ModuleType) -> None:
    # 2**30 paths through 30 levels of one shared list: refused after counting a budget's worth, not expanded.
    av: Any = {"NULL": True}
    for _ in range(30):
        av = {"L": [av, av]}
    with pytest.raises(codec._Invalid):
        speedups.decode(av, 1, [_BUDGET])


class Meddler(Mapping[Any, Any]):
    """An empty M value that changes ``victim`` when first iterated: Python code run in the middle of a decode."""

    def __init__(self, victim: Any, change: Callable[[Any], object]) -> None:
        self.victim, self.change, self.done = victim, change, False

    def __getitem__(self, key: Any) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[Any]:
        if not self.done:
            self.done = True
            self.change(self.victim)
        return iter(())

    def __len__(self) -> int:
        return 0


def meddled_list(change: Callable[[list[Any]], object]) -> Callable[[], Any]:
    def make() -> Any:
        items: list[Any] = [{"S": "a"}, {"N": "1"}]
        items.insert(1, {"M": Meddler(items, change)})
        return {"L": items}

    return make


def meddled_map(change: Callable[[dict[str, Any]], object]) -> Callable[[], Any]:
    def make() -> Any:
        names: dict[str, Any] = {"a": {"S": "a"}}
        names["m"] = {"M": Meddler(names, change)}
        names["z"] = {"N": "1"}
        return {"M": names}

    return make


MEDDLED = [
    meddled_list(lambda items: items.append({"S": "added"})),
    meddled_list(lambda items: items.extend([{"L": []}] * 5)),
    meddled_list(lambda items: items.pop()),
    meddled_list(lambda items: items.clear()),
    meddled_map(lambda names: names.update(b={"S": "added"})),
    meddled_map(lambda names: names.pop("z")),
]


@pytest.mark.parametrize("make", MEDDLED)
def test_values_changed_while_they_are_decoded(speedups: ModuleType, make: Callable[[], Any]) -> None:
    # As Python's iterators do: a list is read to its current end, a dict that changes size is refused.
    pure = codec._PURE_FUNCTIONS["_decode"]
    agree(lambda b: pure(make(), 1, b), lambda b: speedups.decode(make(), 1, b), _BUDGET, warm=False)


def test_configuring_again_keeps_one_reference_to_each_object(speedups: ModuleType) -> None:
    held = [codec._Invalid, codec._parse_number, _NUMBER_CACHE, codec._decode_b, codec._decode_bs, codec._decode_m]
    before = [sys.getrefcount(value) for value in held]
    assert codec._load_speedups() is speedups
    assert [sys.getrefcount(value) for value in held] == before


def test_values_are_the_inputs_own_objects_and_the_cache_s(speedups: ModuleType) -> None:
    text, number = "order#1", "12.50"
    decoded = speedups.decode_pairs({"s": {"S": text}, "n": {"N": number}}.items(), 1, [_BUDGET])
    assert decoded["s"] is text
    assert decoded["n"] is _NUMBER_CACHE[number]
    assert speedups.number(number) is decoded["n"]


def test_bad_arguments_are_refused(speedups: ModuleType) -> None:
    with pytest.raises(TypeError, match=r"^decode\(\) takes 3 arguments \(value, depth, budget\), 1 given$"):
        speedups.decode({"S": "x"})
    with pytest.raises(TypeError, match=r"^budget must be a list of one int$"):
        speedups.decode({"S": "x"}, 1, [])
    with pytest.raises(TypeError):
        speedups.decode({"S": "x"}, "1", [_BUDGET])


# --------------------------------------------------------------------------------------------------
# (a) Differential: the public functions


IMAGES = st.one_of(
    st.dictionaries(NAMES, ATTRIBUTE_VALUES, max_size=6),
    st.dictionaries(NAMES, ATTRIBUTE_VALUES, max_size=3).map(lambda image: Pairs(image.items())),
    ODD_VALUES,
)


def record_reads(image: Any, reads: list[Any]) -> Callable[[], Any]:
    """Reading a StreamRecord's NewImage: some attributes one by one (each decoded alone), then all of it."""

    def read() -> Any:
        raw = {
            "eventID": "1",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {}, "NewImage": image, "SequenceNumber": "1", "StreamViewType": "NEW_IMAGE"},
        }
        new_image: Any = next(iter(StreamEvent({"Records": [raw]}))).new_image
        if new_image is None:
            return None
        return {"one by one": [new_image[name] for name in reads], "all": dict(new_image)}

    return read


@DIFFERENTIAL
@given(av=ATTRIBUTE_VALUES, integral=st.booleans())
def test_deserialize_agrees_with_python(speedups: ModuleType, av: Any, integral: bool) -> None:
    with pure_path():
        _NUMBER_CACHE.clear()
        expected = public_outcome(lambda: deserialize(av, int_if_integral=integral))
    _NUMBER_CACHE.clear()
    assert public_outcome(lambda: deserialize(av, int_if_integral=integral)) == expected


@DIFFERENTIAL
@given(image=IMAGES, data=st.data())
def test_images_agree_with_python(speedups: ModuleType, image: Any, data: st.DataObject) -> None:
    names = list(image) if isinstance(image, Mapping) else []
    reads = data.draw(st.lists(st.sampled_from(names), max_size=3) if names else st.just([]))
    for call in (lambda: deserialize_item(image), record_reads(image, reads)):
        with pure_path():
            _NUMBER_CACHE.clear()
            expected = public_outcome(call)
        _NUMBER_CACHE.clear()
        assert public_outcome(call) == expected


def test_the_accelerated_functions_are_the_ones_in_use(speedups: ModuleType) -> None:
    from shardline import _events

    assert codec.decode_pairs is speedups.decode_pairs
    assert codec._decode is speedups.decode
    assert codec._number is speedups.number
    assert _events.decode_pairs is speedups.decode_pairs
    assert _events._number is speedups.number
    assert _events._DECODERS is codec._DECODERS
    assert codec._DECODERS["M"] is speedups.decode_m
    # No shardline module kept a pure Python fast-path function under its own name.
    pure = {id(function) for function in codec._PURE_FUNCTIONS.values()}
    for name, module in list(sys.modules.items()):
        if name == "shardline" or name.startswith("shardline."):
            held = [attribute for attribute, value in vars(module).items() if id(value) in pure]
            assert held == [], name


# --------------------------------------------------------------------------------------------------
# (b) Memory: nothing leaks, on success or failure


LEAK_INPUTS: list[Any] = [
    {"S": "text"},
    {"S": "é"},
    {"S": "a" + SURROGATE},
    {"S": 1},
    {"N": "12.5"},
    {"N": "1e999"},
    {"N": []},
    {"B": "AAEC"},
    {"B": "AAE"},
    {"BOOL": True},
    {"BOOL": 1},
    {"NULL": True},
    {"NULL": False},
    {"SS": ["a", "b"]},
    {"SS": ["a", "a"]},
    {"SS": ["a", 1]},
    {"SS": ["a" * 70]},
    {"NS": ["1", "2.5"]},
    {"NS": ["1", "1.0"]},
    {"NS": ["1", "x"]},
    {"BS": ["AAEC"]},
    {"M": {"a": {"S": "x"}, "b": {"L": [{"N": "1"}, {"M": {}}]}}},
    {"M": {"a": {"S": "x"}, "b": {"L": [{"N": "1"}, {"Q": 1}]}}},
    {"M": {"": {"S": "x"}}},
    {"M": {"a\udc80": {"S": "x"}}},
    {"M": {1: {"S": "x"}}},
    {"M": MappingProxyType({"a": {"S": "x"}})},
    {"M": Pairs([("a", {"N": "3"})])},
    {"L": [{"S": "x"}, {"L": []}]},
    {"L": [{"S": "x"}, {"S": None}]},
    {Tag("S"): "x"},
    {Tag("M"): {"a": {"S": "x"}}},
    {Tag("Q"): "x"},
    Pairs([("N", "5")]),
    Pairs([(Tag("N"), "5"), (Tag("S"), "x")]),
    [Tag("S"), Tag("N")],
    [Tag("S")],
    [],
    OrderedDict([("B", "AAEC")]),
    OrderedDict(),
    {Tag("BOOL"): True},
    {Tag("Q"): True},
    {"S": "é" * 10 + SURROGATE},
    nested({"S": "x"}, [True, False] * 16),
    {"X": 1},
    {},
    None,
]


def decode_everything(speedups: ModuleType) -> None:
    """Every input through every entry point, once with the number cache empty and once with it filled."""
    _NUMBER_CACHE.clear()
    for _ in range(2):
        decode_all_once(speedups)


def decode_all_once(speedups: ModuleType) -> None:
    for make in MEDDLED:
        with contextlib.suppress(Exception):
            speedups.decode(make(), 1, [_BUDGET])
    for av in LEAK_INPUTS:
        for call in (
            lambda av=av: speedups.decode(av, 1, [_BUDGET]),
            lambda av=av: speedups.decode_pairs([("name", av)], 1, [_BUDGET]),
            lambda av=av: speedups.decode_pairs({"name": av, "other": {"S": "y"}}.items(), 1, [_BUDGET]),
            lambda av=av: speedups.decode_pairs([[Tag("name"), av], (1, 2, 3)], 1, [_BUDGET]),
            lambda av=av: speedups.decode_pairs([[Tag("name"), av, Tag("extra")]], 1, [_BUDGET]),
            lambda av=av: speedups.decode_pairs([[Tag("name")]], 1, [_BUDGET]),
            lambda av=av: speedups.decode_pairs([([], av)], 1, [_BUDGET]),  # an unhashable name
            lambda av=av: speedups.decode(av, 1, [3]),  # a small budget
            # Depths beyond the small ints: the depth handed to a Python decoder is a new int each time.
            lambda av=av: speedups.decode(av, 1000, [_BUDGET]),
            lambda av=av: speedups.decode({"L": [av]}, -1000, [_BUDGET]),
            lambda av=av: deserialize(av),
            lambda av=av: deserialize_item({"name": av}),
        ):
            with contextlib.suppress(Exception):
                call()


def test_decoding_leaks_no_memory(speedups: ModuleType) -> None:
    for _ in range(50):  # the number cache, free lists and interned strings settle first
        decode_everything(speedups)
    growth = []
    tracemalloc.start()
    try:
        decode_everything(speedups)
        for _ in range(3):
            gc.collect()
            before, _ = tracemalloc.get_traced_memory()
            for _ in range(60):
                decode_everything(speedups)
            gc.collect()
            after, _ = tracemalloc.get_traced_memory()
            growth.append(after - before)
    finally:
        tracemalloc.stop()
    # Each path runs at least twice a round: one object of 32 bytes leaked on any of them is 3,840 bytes in every
    # window. The interpreter's own caches may grow now and then (Python 3.10's frames), but not in every window.
    assert min(growth) < 1_000, growth


def parts(value: Any) -> Iterator[Any]:
    """``value`` and every object inside it (but the ints, booleans and None, which the interpreter uses too)."""
    if value is None or type(value) in (bool, int):
        return
    yield value
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield from parts(name)
            yield from parts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from parts(item)


def test_decoding_keeps_no_reference(speedups: ModuleType) -> None:
    inputs = [*parts(LEAK_INPUTS), *codec._DECODERS.values(), _NUMBER_CACHE, codec._Invalid, codec._parse_number]
    inputs += [UnicodeEncodeError, KeyError, ValueError, TypeError]
    speedups.number("12.5")
    decode_everything(speedups)
    gc.collect()
    before = [sys.getrefcount(value) for value in inputs]
    for _ in range(100):
        decode_everything(speedups)
    gc.collect()
    assert [sys.getrefcount(value) for value in inputs] == before


@pytest.mark.skipif(not hasattr(sys, "gettotalrefcount"), reason="needs a debug build of Python")
def test_total_reference_count_is_stable(speedups: ModuleType) -> None:  # pragma: no cover - debug builds only
    for _ in range(20):
        decode_everything(speedups)
    gc.collect()
    before = sys.gettotalrefcount()  # type: ignore[attr-defined]
    for _ in range(200):
        decode_everything(speedups)
    gc.collect()
    assert sys.gettotalrefcount() - before < 100  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# (c) The switch


def enabled_in_a_fresh_interpreter(value: str | None) -> Any:
    env = {name: text for name, text in os.environ.items() if name != "SHARDLINE_PURE_PYTHON"}
    if value is not None:
        env["SHARDLINE_PURE_PYTHON"] = value
    code = (
        "import json, shardline, shardline._attributes as c;"
        " print(json.dumps([shardline.speedups_enabled, type(c.decode_pairs).__name__]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout)


def test_shardline_pure_python_forces_the_python_codec() -> None:
    assert enabled_in_a_fresh_interpreter("1") == [False, "function"]


def test_the_accelerator_is_used_when_built_and_not_switched_off() -> None:
    built = find_spec("shardline._speedups") is not None
    expected = [True, "builtin_function_or_method"] if built else [False, "function"]
    assert enabled_in_a_fresh_interpreter("0") == expected
    assert enabled_in_a_fresh_interpreter("") == expected
    assert isinstance(shardline.speedups_enabled, bool)
