"""Secondary indexes and DynamoDB's key order: index specifications, their checks, and the byte strings
that make SQLite sort keys as DynamoDB does.

Key order (DynamoDB API reference, Query: "If the data type of the sort key is Number, the results are
returned in numeric order; otherwise, the results are returned in order of UTF-8 bytes"): every key value
is stored beside its text as a byte string whose unsigned byte order (SQLite compares BLOBs with
`memcmp`) is DynamoDB's order of the values — strings as their UTF-8 bytes, binaries as their bytes, and
numbers in an encoding ordered by value (`order_bytes`).

Partitions are spread by a 32-bit hash of the partition key (`partition_hash`); a parallel Scan's
segment is a range of that hash, so the segments of a scan partition the items, as the DynamoDB developer
guide's "Parallel scan" describes.
"""

from __future__ import annotations

import re
from base64 import b64decode
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from hashlib import blake2b
from typing import Any, Final, NamedTuple, final

from shardline._attributes import _check_key_schema
from shardline._exceptions import AttributeValueError
from shardline.local._db import check_text
from shardline.local._errors import ArgumentTypeError, ValidationError

__all__ = [
    "MAX_GLOBAL_INDEXES",
    "MAX_LOCAL_INDEXES",
    "MAX_PROJECTED_ATTRIBUTES",
    "CompiledIndex",
    "IndexSpec",
    "check_indexes",
    "order_bytes",
    "partition_hash",
]

#: Per table (DynamoDB developer guide, "Service, account, and table quotas": secondary indexes).
MAX_GLOBAL_INDEXES: Final = 20
MAX_LOCAL_INDEXES: Final = 5
#: Non-key attributes projected (INCLUDE) summed over all of a table's indexes (the same page).
MAX_PROJECTED_ATTRIBUTES: Final = 100
PROJECTIONS: Final = ("ALL", "KEYS_ONLY", "INCLUDE")
_INDEX_NAME: Final = re.compile(r"[a-zA-Z0-9_.-]+")
_NAME_BYTES: Final = 255
_INVALID: Final = "One or more parameter values were invalid: "


@final
class IndexSpec(NamedTuple):
    """A global or local secondary index: its name, key schema (partition key first, sort key optional:
    `{"gpk": "S", "gsk": "N"}`), and which attributes it projects ([Projection](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Projection.html)):
    `"ALL"`, `"KEYS_ONLY"` (the table's and the index's keys) or `"INCLUDE"` (the keys and
    `non_key_attributes`).

    Examples:
        >>> IndexSpec("byStatus", {"status": "S", "created": "N"}, "INCLUDE", ("total",)).projection
        'INCLUDE'
    """

    name: str
    key_schema: dict[str, str]
    projection: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()


@final
class CompiledIndex(NamedTuple):
    """An index as the store uses it: its spec, its key attributes, and the names a projection keeps
    (`None`: every attribute)."""

    spec: IndexSpec
    local: bool
    partition_name: str
    partition_type: str
    sort_name: str | None
    sort_type: str | None
    kept: frozenset[str] | None

    @property
    def name(self) -> str:
        return self.spec.name

    def project(self, image: Mapping[str, Any]) -> dict[str, Any]:
        """The item as the index holds it (DynamoDB API reference, Projection)."""
        kept = self.kept
        if kept is None:
            return dict(image)
        return {name: value for name, value in image.items() if name in kept}


def compile_index(spec: IndexSpec, table_schema: Mapping[str, str], *, local: bool) -> CompiledIndex:
    """The `CompiledIndex` of a checked spec."""
    (partition_name, partition_type), *rest = spec.key_schema.items()
    sort_name, sort_type = rest[0] if rest else (None, None)
    kept: frozenset[str] | None = None
    if spec.projection != "ALL":
        names = {*table_schema, *spec.key_schema}
        if spec.projection == "INCLUDE":
            names.update(spec.non_key_attributes)
        kept = frozenset(names)
    return CompiledIndex(spec, local, partition_name, partition_type, sort_name, sort_type, kept)


def partition_hash(tag: str, text: str) -> int:
    """The 32-bit hash of a partition key value that orders a Scan and splits it into segments."""
    return int.from_bytes(blake2b(f"{tag}:{text}".encode("utf-8", "surrogatepass"), digest_size=4).digest(), "big")


_INVERT: Final = str.maketrans("0123456789", "9876543210")


def order_bytes(tag: str, text: str) -> bytes:
    """A byte string whose unsigned byte order is DynamoDB's order of key values of type `tag`: UTF-8 bytes
    for S, the bytes for B (`text` is base64), the value for N (`text` a valid number).

    A number is a sign byte (negative, zero, positive), then for non-zero numbers the decimal exponent
    (DynamoDB's range, -130 to 125, fits a byte once offset by 130) and the significant digits; a negative
    number inverts both, and ends its digits with a byte above every inverted digit, so that -1.2 sorts after
    -1.23.

    Examples:
        >>> order_bytes("N", "-10") < order_bytes("N", "-9.5") < order_bytes("N", "0") < order_bytes("N", "0.5")
        True
    """
    if tag == "S":
        return text.encode("utf-8", "surrogatepass")
    if tag == "B":
        return b64decode(text)
    value = Decimal(text)
    if not value:
        return b"\x02"
    sign, digit_tuple, _ = value.as_tuple()
    digits = "".join(map(str, digit_tuple)).strip("0")
    adjusted = value.adjusted() + 130
    if not 0 <= adjusted <= 255:
        raise InvalidOperation  # outside DynamoDB's range: the caller's number checks refuse it first
    if sign:
        return b"\x01" + bytes((255 - adjusted,)) + digits.translate(_INVERT).encode("ascii") + b":"
    return b"\x03" + bytes((adjusted,)) + digits.encode("ascii")


def prefix_end(prefix: bytes) -> bytes | None:
    """The least byte string above every string starting with `prefix` (None: there is none)."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes((trimmed[-1] + 1,))


# -- checks ---------------------------------------------------------------------------------------------


def _member(where: str, position: int, field: str) -> str:
    return f"{where}.{position}.member.{field}"


def _constraint(value: str, member: str, constraint: str) -> ValidationError:
    # The shape-validation wording DynamoDB answers with (e.g. "1 validation error detected: Value 'ab' at
    # 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length
    # greater than or equal to 3").
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )


def _check_spec(spec: object, where: str, position: int, argument: str) -> IndexSpec:
    if not isinstance(spec, IndexSpec):
        raise ArgumentTypeError(f"{argument}[{position - 1}] must be an IndexSpec, got {type(spec).__name__}")
    name = spec.name
    if not isinstance(name, str):
        raise ArgumentTypeError(f"an index name is text (str), got {type(name).__name__}")
    member = _member(where, position, "indexName")
    shown = name if name.isprintable() else repr(name)
    if len(name) < 3:
        raise _constraint(shown, member, "Member must have length greater than or equal to 3")
    if len(name) > 255:
        raise _constraint(shown, member, "Member must have length less than or equal to 255")
    if _INDEX_NAME.fullmatch(name) is None:
        raise _constraint(shown, member, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    name = str.__str__(name)
    try:
        pairs = _check_key_schema(spec.key_schema)
    except AttributeValueError as exc:
        raise ValidationError(f"index {name}: {exc}") from None
    for attribute, _ in pairs:
        check_text(attribute, f"index {name}: a key attribute name")
        if len(attribute.encode("utf-8")) > _NAME_BYTES:
            raise ValidationError(f"index {name}: a key attribute name is longer than 255 bytes")
    if len(pairs) == 2 and pairs[0][0] == pairs[1][0]:
        raise ValidationError("Both the Hash Key and the Range Key element in the KeySchema have the same name")
    projection = spec.projection
    if not isinstance(projection, str) or str.__str__(projection) not in PROJECTIONS:
        raise _constraint(
            str(projection),
            _member(where, position, "projection.projectionType"),
            "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]",
        )
    projection = str.__str__(projection)
    attributes: object = spec.non_key_attributes
    if isinstance(attributes, (str, bytes)) or not isinstance(attributes, Sequence):
        raise ArgumentTypeError(f"index {name}: non_key_attributes must be a tuple of attribute names")
    names: list[str] = []
    for attribute in attributes:
        if not isinstance(attribute, str):
            raise ArgumentTypeError(f"index {name}: non_key_attributes holds {type(attribute).__name__}, not text")
        check_text(attribute, f"index {name}: a non-key attribute name")
        if not attribute or len(attribute.encode("utf-8")) > _NAME_BYTES:
            raise ValidationError(f"index {name}: non-key attribute names are 1 to 255 bytes")
        names.append(str.__str__(attribute))
    if len(set(names)) != len(names):
        raise ValidationError(f"{_INVALID}Duplicate projected attribute names in index: {name}")
    if projection == "INCLUDE" and not names:
        raise ValidationError(f"{_INVALID}ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    if projection != "INCLUDE" and names:
        raise ValidationError(f"{_INVALID}ProjectionType is {projection}, but NonKeyAttributes is specified")
    return IndexSpec(name, dict(pairs), projection, tuple(names))


def _specs(values: object, what: str) -> list[object]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
        raise ArgumentTypeError(f"{what} must be a sequence of IndexSpec, got {type(values).__name__}")
    return list(values)


def check_indexes(
    table_schema: Mapping[str, str],
    global_indexes: object,
    local_indexes: object,
    *,
    existing_global: Sequence[IndexSpec] = (),
    existing_local: Sequence[IndexSpec] = (),
    where: str = "globalSecondaryIndexes",
    argument: str = "global_indexes",
) -> tuple[tuple[IndexSpec, ...], tuple[IndexSpec, ...]]:
    """The new global and local indexes, checked as CreateTable and UpdateTable check them (DynamoDB API
    reference, CreateTable, LocalSecondaryIndex and Projection), against the table's key schema and the
    indexes it has (`existing_global`, `existing_local`)."""
    globals_ = [
        _check_spec(spec, where, position, argument)
        for position, spec in enumerate(_specs(global_indexes, argument), 1)
    ]
    locals_ = [
        _check_spec(spec, "localSecondaryIndexes", position, "local_indexes")
        for position, spec in enumerate(_specs(local_indexes, "local_indexes"), 1)
    ]
    if locals_:
        table_keys = list(table_schema)
        if len(table_keys) != 2:
            raise ValidationError(
                f"{_INVALID}Table KeySchema does not have a range key, which is required when specifying a "
                "LocalSecondaryIndex"
            )
        for spec in locals_:
            keys = list(spec.key_schema)
            if len(keys) != 2:
                raise ValidationError(f"{_INVALID}Index KeySchema does not have a range key for index: {spec.name}")
            if keys[0] != table_keys[0]:
                raise ValidationError(
                    f"{_INVALID}Index KeySchema does not have the same leading hash key as table KeySchema for "
                    f"index: {spec.name}. index hash key: {keys[0]}, table hash key: {table_keys[0]}"
                )
    seen = {spec.name for spec in (*existing_global, *existing_local)}
    for spec in (*globals_, *locals_):
        if spec.name in seen:
            raise ValidationError(f"{_INVALID}Duplicate index name: {spec.name}")
        seen.add(spec.name)
    all_specs = (*existing_global, *existing_local, *globals_, *locals_)
    if globals_ and len(existing_global) + len(globals_) > MAX_GLOBAL_INDEXES:
        raise ValidationError(
            f"{_INVALID}GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GLOBAL_INDEXES}"
        )
    if len(locals_) > MAX_LOCAL_INDEXES:
        raise ValidationError(
            f"{_INVALID}Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LOCAL_INDEXES}"
        )
    if sum(len(spec.non_key_attributes) for spec in all_specs) > MAX_PROJECTED_ATTRIBUTES:
        raise ValidationError(
            f"{_INVALID}Number of projected attributes in all indexes exceeds limit of {MAX_PROJECTED_ATTRIBUTES}"
        )
    # One AttributeDefinitions list per table: an attribute has one type wherever it is a key.
    types = dict(table_schema)
    owner = dict.fromkeys(table_schema, "the table's key schema")
    for spec in all_specs:
        for attribute, kind in spec.key_schema.items():
            declared = types.setdefault(attribute, kind)
            owner.setdefault(attribute, f"index {spec.name}")
            if declared != kind:
                raise ValidationError(
                    f"{_INVALID}attribute {attribute} is of type {kind} in index {spec.name} but of type "
                    f"{declared} in {owner[attribute]}; an attribute has one type in AttributeDefinitions"
                )
    return tuple(globals_), tuple(locals_)


def index_key_problem(index: CompiledIndex, image: Mapping[str, Any]) -> str | None:
    """Why DynamoDB refuses to write `image` to a table with `index`, or None: an index key attribute of
    another type than the index declares, or an empty S or B one. An item without the attribute is fine: it
    is simply not in the index (a sparse index)."""
    for name, kind in ((index.partition_name, index.partition_type), (index.sort_name, index.sort_type)):
        if name is None:
            continue
        av = image.get(name)
        if av is None:
            continue
        ((tag, value),) = av.items()
        if tag != kind:
            return (
                f"{_INVALID}Type mismatch for Index Key {name} Expected: {kind} Actual: {tag} IndexName: {index.name}"
            )
        if not value and tag != "N":
            return (
                "One or more parameter values are not valid. A value specified for a secondary index key is not "
                "supported. The AttributeValue for a key attribute cannot contain an empty "
                f"{'string' if tag == 'S' else 'binary'} value. IndexName: {index.name}, IndexKey: {name}"
            )
    return None
