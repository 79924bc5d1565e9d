"""Rules of src/shardline/_attributes.py that a mutant of tools/mutants.py broke while every other test still passed."""

from __future__ import annotations

from typing import Any

import pytest

from shardline import item_size, serialize_item, validate_item
from shardline._attributes import encoded_item_size


def nest(tag: str, levels: int, inner: dict[str, Any]) -> dict[str, Any]:
    """`inner` wrapped in `levels` maps (each holding it under "a") or lists."""
    value = inner
    for _ in range(levels):
        value = {"M": {"a": value}} if tag == "M" else {"L": [value]}
    return value


@pytest.mark.parametrize(("tag", "size"), [("M", 1 + 3 + 31 * 5), ("L", 1 + 3 + 31 * 4)])
def test_the_careful_walk_accepts_an_empty_container_at_the_deepest_level(tag: str, size: int) -> None:
    # Kills attributes/empty-container-at-the-bottom. 31 containers wrap an empty one, which is then the value at
    # level 32: DynamoDB allows it, since nothing is nested below it. item_size and validate_item walk the value
    # carefully (not the fast decoder), and must agree. Sizes: 3 bytes per container, plus 1 per element and the
    # name "a" of each map entry.
    image = {"z": nest(tag, 31, {tag: {}} if tag == "M" else {tag: []})}
    assert item_size(image) == size
    validate_item(image)


@pytest.mark.parametrize(
    ("item", "size"),
    [
        pytest.param({"tags": ["a", "bc"]}, 4 + 3 + (1 + 1) + (2 + 1), id="list: one byte per element"),
        pytest.param({"lines": [{"q": 1}, []]}, 5 + 3 + (3 + 1 + 2 + 1) + 1 + (3 + 1), id="nested lists and maps"),
        pytest.param({"é": "x"}, 2 + 1, id="a name's UTF-8 bytes"),
        pytest.param({"naïve": {"ü": 1}}, 6 + 3 + 2 + 2 + 1, id="names at every level"),
    ],
)
def test_record_sizes_count_what_the_careful_walk_counts(item: dict[str, Any], size: int) -> None:
    # Kills attributes/record-list-element-overhead and attributes/record-name-characters: a stream record's
    # SizeBytes comes from encoded_item_size, the quick size of an image serialize_item wrote. It must count
    # exactly what item_size counts: 1 byte per list element, and the UTF-8 bytes of every attribute name.
    image = serialize_item(item)
    assert encoded_item_size(image) == item_size(image) == size
