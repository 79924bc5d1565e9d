"""ConsumedCapacity: the read and write units a request consumes, computed from item sizes as DynamoDB does.

The rules (DynamoDB developer guide, "Read/write capacity mode" and "Working with items: capacity unit
consumption"):

- a read unit covers an item of up to 4 KB read with strong consistency; an eventually consistent read
  costs half. GetItem, BatchGetItem and TransactGetItems round each item up to the next 4 KB; Query and
  Scan round the total size of the items read (before any filter) up once;
- a write unit covers an item of up to 1 KB, rounded up per item; a PutItem, UpdateItem or DeleteItem is
  charged for the larger of the item before and after the write;
- transactions cost double: 2 read units per 4 KB, 2 write units per 1 KB;
- a write to a table with secondary indexes also writes each index whose entry changes: 1 write of the
  new entry when it appears or changes in place, 1 write of the old entry when it disappears, and both
  when the index key changes.

`ReturnConsumedCapacity`: `TOTAL` gives `TableName` and `CapacityUnits`; `INDEXES` adds the split
by table and index; `NONE` (or nothing) leaves `ConsumedCapacity` out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, final

from shardline._attributes import encoded_item_size

__all__ = ["MODES", "READ_UNIT", "WRITE_UNIT", "Meter", "index_entry", "read_units", "write_units"]

#: Bytes per read unit and per write unit.
READ_UNIT: Final = 4096
WRITE_UNIT: Final = 1024
#: `ReturnConsumedCapacity`'s values.
MODES: Final = ("INDEXES", "TOTAL", "NONE")


def read_units(size: int, *, consistent: bool, factor: int = 1) -> float:
    """Read units for `size` bytes read at once: at least one unit, half when eventually consistent."""
    units = max(1, -(-size // READ_UNIT)) * factor
    return float(units) if consistent else units / 2


def write_units(size: int, *, factor: int = 1) -> float:
    """Write units for an item of `size` bytes: at least one."""
    return float(max(1, -(-size // WRITE_UNIT)) * factor)


def index_entry(image: Mapping[str, Any] | None, spec: Any, table_keys: Sequence[str]) -> dict[str, Any] | None:
    """The entry `image` has in an index (`spec`: an `IndexSpec`), or None when the item lacks one of
    the index's key attributes (a sparse index leaves it out)."""
    if image is None:
        return None
    names = tuple(spec.key_schema)
    for name in names:
        if name not in image:
            return None
    if spec.projection == "ALL":
        return dict(image)
    wanted = (*table_keys, *names, *(spec.non_key_attributes if spec.projection == "INCLUDE" else ()))
    return {name: image[name] for name in dict.fromkeys(wanted) if name in image}


def index_write_units(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    spec: Any,
    table_keys: Sequence[str],
    *,
    factor: int = 1,
) -> float:
    """Write units one index consumes when an item goes from `old` to `new`."""
    before = index_entry(old, spec, table_keys)
    after = index_entry(new, spec, table_keys)
    if before is None and after is None:
        return 0.0
    if before is None:
        assert after is not None
        return write_units(encoded_item_size(after), factor=factor)
    if after is None:
        return write_units(encoded_item_size(before), factor=factor)
    if before == after:
        return 0.0
    names = tuple(spec.key_schema)
    if all(before[name] == after[name] for name in names):
        return write_units(encoded_item_size(after), factor=factor)
    return write_units(encoded_item_size(before), factor=factor) + write_units(encoded_item_size(after), factor=factor)


@final
class Meter:
    """Capacity consumed by one request, per table and index, rendered as `ConsumedCapacity`."""

    __slots__ = ("_tables", "mode")

    def __init__(self, mode: str | None) -> None:
        self.mode = mode if mode in ("INDEXES", "TOTAL") else None
        # table name -> [read, write, {index name: [kind, read, write]}]
        self._tables: dict[str, list[Any]] = {}

    @property
    def active(self) -> bool:
        return self.mode is not None

    def _entry(self, table: str) -> list[Any]:
        entry = self._tables.get(table)
        if entry is None:
            entry = self._tables[table] = [0.0, 0.0, {}]
        return entry

    def touch(self, table: str) -> None:
        """Name `table` in the response even if it consumed nothing (a batch's every table)."""
        if self.mode is not None:
            self._entry(table)

    def read(self, table: str, units: float, *, index: str | None = None, local: bool = False) -> None:
        self._count(0, table, units, index, local)

    def write(self, table: str, units: float, *, index: str | None = None, local: bool = False) -> None:
        self._count(1, table, units, index, local)

    def _count(self, column: int, table: str, units: float, index: str | None, local: bool) -> None:
        """Add read (`column` 0) or write (1) units to the table's count, or to its index's."""
        if self.mode is None:
            return
        entry = self._entry(table)
        if index is None:
            entry[column] += units
        else:
            slot = entry[2].setdefault(index, ["local" if local else "global", 0.0, 0.0])
            slot[column + 1] += units

    def write_item(
        self,
        table: Any,
        old: Mapping[str, Any] | None,
        new: Mapping[str, Any] | None,
        *,
        old_size: int | None = None,
        new_size: int | None = None,
        factor: int = 1,
    ) -> None:
        """A write of one item: the table is charged for the larger of the old and new item, each index for
        its entry's changes."""
        if self.mode is None:
            return
        sizes = [
            (encoded_item_size(image) if size is None else size)
            for image, size in ((old, old_size), (new, new_size))
            if image is not None
        ]
        self.write(table.name, write_units(max(sizes, default=0), factor=factor))
        keys = tuple(table.key_schema)
        for spec in getattr(table, "global_indexes", ()):
            units = index_write_units(old, new, spec, keys, factor=factor)
            if units:
                self.write(table.name, units, index=spec.name)
        for spec in getattr(table, "local_indexes", ()):
            units = index_write_units(old, new, spec, keys, factor=factor)
            if units:
                self.write(table.name, units, index=spec.name, local=True)

    def render(self, table: str) -> dict[str, Any]:
        """The `ConsumedCapacity` object of one table."""
        read, write, indexes = self._tables.get(table) or (0.0, 0.0, {})
        total = read + write + sum(slot[1] + slot[2] for slot in indexes.values())
        result: dict[str, Any] = {"TableName": table, "CapacityUnits": total}
        if self.mode == "INDEXES":
            result.update(
                _capacity(
                    read + sum(slot[1] for slot in indexes.values()), write + sum(slot[2] for slot in indexes.values())
                )
            )
            result["CapacityUnits"] = total
            if read or write or not indexes:
                result["Table"] = _capacity(read, write)
            for kind, member in (("global", "GlobalSecondaryIndexes"), ("local", "LocalSecondaryIndexes")):
                chosen = {name: _capacity(r, w) for name, (k, r, w) in indexes.items() if k == kind}
                if chosen:
                    result[member] = chosen
        return result

    def one(self, table: str) -> dict[str, Any] | None:
        """`ConsumedCapacity` of a single-table operation, or None when not asked for."""
        return None if self.mode is None else self.render(table)

    def all(self) -> list[dict[str, Any]] | None:
        """`ConsumedCapacity` of a multi-table operation (a list), or None when not asked for."""
        return None if self.mode is None else [self.render(table) for table in self._tables]


def _capacity(read: float, write: float) -> dict[str, Any]:
    result: dict[str, Any] = {"CapacityUnits": read + write}
    if read:
        result["ReadCapacityUnits"] = read
    if write:
        result["WriteCapacityUnits"] = write
    return result
