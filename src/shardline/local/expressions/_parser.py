"""A recursive-descent parser for DynamoDB's expressions, and the checks DynamoDB makes before reading an item.

Grammar (DynamoDB developer guide, "Comparison operator and function reference" and "Update expressions";
keywords are case-insensitive, function names case-sensitive):

```text
condition   ::= or
or          ::= and ("OR" and)*
and         ::= not ("AND" not)*
not         ::= "NOT"* primary
primary     ::= "(" or ")" | operand comparator operand | operand "BETWEEN" operand "AND" operand
              | operand "IN" "(" operand ("," operand)* ")" | function
operand     ::= "(" operand ")" | function | :value | path
function    ::= name "(" operand ("," operand)* ")"
path        ::= (name | #name) ("." (name | #name) | "[" digits "]")*
update      ::= (("SET" set ("," set)*) | ("REMOVE" path ("," path)*)
              | ("ADD" path :value ("," path :value)*) | ("DELETE" path :value ("," ...)*))+
set         ::= path "=" ("(" value ")" | value)
value       ::= operand | operand "+" operand | operand "-" operand
projection  ::= path ("," path)*
```

Precedence: NOT binds tighter than AND, AND tighter than OR ("Precedence in conditions"). Syntax errors are
raised as soon as they are found; the other problems are collected while parsing and the first one is
reported in the order DynamoDB reports them (redundant parentheses, unknown or misused functions, reserved
words, undefined placeholders, operand counts and types), with DynamoDB's wording. Where the wording is
not documented, it comes from DynamoDB's answers quoted in public issues and test suites run against
DynamoDB (ScyllaDB's Alternator tests, the dynamodb-conformance suite, dynalite's tests); each is noted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeVar, final

from shardline.local._errors import ArgumentTypeError, ValidationError

from ._reserved import is_reserved
from ._tokens import EOF, NAME, NAME_REF, NUMBER, OPERATOR, PUNCT, VALUE_REF, Token, syntax_error_message, tokenize
from ._tree import (
    And,
    Between,
    Call,
    Compare,
    ConditionNode,
    In,
    Not,
    Operand,
    Or,
    Path,
    SetValue,
    UpdateAction,
    Value,
    render_path,
)

__all__ = ["Condition", "Expressions", "KeyCondition", "Projection", "Update", "compare_values"]

#: DynamoDB developer guide, "Service quotas" > "Expression parameters".
MAX_EXPRESSION_BYTES: Final = 4096
MAX_PLACEHOLDER_BYTES: Final = 255
MAX_PATH_DEPTH: Final = 32
MAX_IN_OPERANDS: Final = 100
#: shardline's own bound on nested parentheses and function calls, so that parsing and evaluation never
#: recurse without limit (DynamoDB documents none; no useful expression comes near it).
MAX_NESTING: Final = 100

_CONDITION_KEYWORDS: Final = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
_UPDATE_KEYWORDS: Final = frozenset({"SET", "REMOVE", "ADD", "DELETE"})
_COMPARATORS: Final = frozenset({"=", "<>", "<", "<=", ">", ">="})
_CONDITION_FUNCTIONS: Final = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
}
_UPDATE_FUNCTIONS: Final = {"if_not_exists": 2, "list_append": 2}
_TYPE_NAMES: Final = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL")
_ORDERED_TYPES: Final = frozenset({"S", "N", "B"})
# The type words of ADD and DELETE operand errors: "Incorrect operand type for operator or function; operator:
# ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND" (DynamoDB's answer, quoted in aws-record-ruby's
# tests and in user reports; dynalite's tests list the words per type).
_TYPE_WORDS: Final = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL", "L": "LIST"}
_TYPE_WORDS_M: Final = {**_TYPE_WORDS, "M": "MAP"}
_PLACEHOLDER_NAME: Final = re.compile(r"#[A-Za-z0-9_]+")
_PLACEHOLDER_VALUE: Final = re.compile(r":[A-Za-z0-9_]+")
# The order in which DynamoDB reports a condition's problems other than syntax.
_CONDITION_REPORT: Final = (
    "parens",
    "unknown_function",
    "misused_function",
    "reserved",
    "depth",
    "undefined",
    "undefined_value",
    "operand_count",
    "distinct",
    "function",
)


def _tag(av: Mapping[str, Any]) -> str:
    return next(iter(av))


def _message_value(av: Mapping[str, Any]) -> str:
    """An AttributeValue as DynamoDB prints it in BETWEEN errors: `{N:1}`, `{S:a}`."""
    tag = _tag(av)
    return f"{{{tag}:{av[tag]}}}"


def compare_values(left: Mapping[str, Any], right: Mapping[str, Any]) -> int | None:
    """DynamoDB's order of two values of one scalar type: negative, zero or positive; None when the values are
    not both numbers, both strings or both binaries (then every ordering comparison is false). Numbers compare
    by value, strings by their UTF-8 bytes (the same order as code points), binaries by unsigned bytes.

    Examples:
        >>> compare_values({"N": "10"}, {"N": "9.5"}), compare_values({"S": "a"}, {"N": "1"})
        (1, None)
    """
    from ._evaluate import order

    return order(left, right)


# --------------------------------------------------------------------------------------------------
# The parsed expressions


@final
@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed ConditionExpression, FilterExpression or KeyConditionExpression; evaluate it with
    [`evaluate`][shardline.local.expressions.evaluate]. `paths` lists every document path it reads."""

    root: ConditionNode
    paths: tuple[Path, ...]


@final
@dataclass(frozen=True, slots=True)
class Update:
    """A parsed UpdateExpression (or AttributeUpdates); apply it with
    [`apply_update`][shardline.local.expressions.apply_update]. `paths` lists the paths the actions write (in the
    order written); `legacy` marks an AttributeUpdates conversion, whose ADD also appends to lists and whose
    type errors use that API's wording."""

    actions: tuple[UpdateAction, ...]
    legacy: bool = False

    @property
    def paths(self) -> tuple[Path, ...]:
        """The document paths the actions write, in the order they are written in the expression."""
        return tuple(action.path for action in self.actions)

    @property
    def projection(self) -> Projection:
        """The written paths as a projection: applied to the old and the new item it gives ReturnValues
        UPDATED_OLD and UPDATED_NEW, the updated attributes only
        ([UpdateItem](https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html))."""
        return Projection(self.paths)


@final
@dataclass(frozen=True, slots=True)
class Projection:
    """A parsed ProjectionExpression (or AttributesToGet); apply it with
    [`project`][shardline.local.expressions.project]."""

    paths: tuple[Path, ...]


@final
class KeyCondition(NamedTuple):
    """A Query's key condition: the partition key's typed value, and the sort key condition in the shape of
    [`Table.query_page`][shardline.local.Table.query_page]'s `sort`: `("=", v)`, `("<", v)`, `("<=", v)`, `(">", v)`,
    `(">=", v)`, `("BETWEEN", low, high)`, `("begins_with", v)`, or None."""

    partition: Mapping[str, Any]
    sort: tuple[Any, ...] | None


# --------------------------------------------------------------------------------------------------
# Expressions: one request's placeholders


@final
class Expressions:
    """The ExpressionAttributeNames and ExpressionAttributeValues of one request, and the expressions parsed
    against them. Parse each expression of the request, then call
    [`check_all_used`][shardline.local.expressions.Expressions.check_all_used]: DynamoDB refuses a request that defines
    a placeholder no expression uses.

    `values` must be validated, normalised typed AttributeValues (numbers in normalised text).

    Examples:
        >>> from shardline.local.expressions import Expressions
        >>> ex = Expressions({"#s": "status"}, {":v": {"S": "on"}})
        >>> condition = ex.condition("#s = :v")
        >>> ex.check_all_used()
        >>> str(condition.paths[0])
        'status'
    """

    __slots__ = ("_names", "_signature", "_used_names", "_used_values", "_values")

    def __init__(self, names: Mapping[str, str] | None, values: Mapping[str, Mapping[str, Any]] | None) -> None:
        self._names = _check_placeholders(names, "ExpressionAttributeNames", _PLACEHOLDER_NAME)
        self._values = _check_placeholders(values, "ExpressionAttributeValues", _PLACEHOLDER_VALUE)
        for name, target in (self._names or {}).items():
            if not isinstance(target, str):
                raise ArgumentTypeError(f"ExpressionAttributeNames[{name!r}] must be a string")
            if not target:
                # shardline's wording: an empty attribute name can never match an attribute.
                raise ValidationError(
                    f"ExpressionAttributeNames contains invalid value: Empty attribute name for key {name}"
                )
        for name, value in (self._values or {}).items():
            if not (isinstance(value, Mapping) and len(value) == 1 and _tag(value) in _TYPE_NAMES):
                raise ValidationError(
                    f"ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, must "
                    f"contain exactly one of the supported datatypes for key {name}"
                )
        self._used_names: set[str] = set()
        self._used_values: set[str] = set()
        self._signature: tuple[Any, ...] | None = None

    def condition(self, text: str, *, kind: str = "ConditionExpression") -> Condition:
        """Parse a ConditionExpression (or, with `kind`, a FilterExpression): `kind` names the parameter
        in error messages."""
        key, cached = self._cached(kind, text)
        if cached is not None:
            condition: Condition = cached.result
            if cached.values:
                self._check_values(kind, cached)
                condition = Condition(_substitute(condition.root, self._values), condition.paths)
            return condition
        parser = _Parser(self, kind, text, _CONDITION_KEYWORDS)
        root = parser.parse_condition()
        condition = Condition(root, tuple(parser.paths))
        _remember(key, parser, Condition(_substitute(root, None), condition.paths))
        return condition

    def update(self, text: str) -> Update:
        """Parse an UpdateExpression."""
        key, cached = self._cached("UpdateExpression", text)
        if cached is not None:
            update: Update = cached.result
            if cached.values:  # an update's checks read the values' types only, which the cache key holds
                update = Update(tuple(_substitute_action(action, self._values) for action in update.actions))
            return update
        parser = _Parser(self, "UpdateExpression", text, _UPDATE_KEYWORDS)
        actions = parser.parse_update()
        _remember(key, parser, Update(tuple(_substitute_action(action, None) for action in actions)))
        return Update(actions)

    def projection(self, text: str) -> Projection:
        """Parse a ProjectionExpression."""
        key, cached = self._cached("ProjectionExpression", text)
        if cached is not None:
            projection: Projection = cached.result  # a projection has no values
            return projection
        parser = _Parser(self, "ProjectionExpression", text, frozenset())
        projection = Projection(parser.parse_projection())
        _remember(key, parser, projection)
        return projection

    def key_condition(self, text: str, *, partition_key: str, sort_key: str | None) -> KeyCondition:
        """Parse a KeyConditionExpression against the key schema of the table or index queried. The value
        types are not checked against the schema here (the caller knows the attribute definitions)."""
        kind = "KeyConditionExpression"
        key, cached = self._cached(kind, text)
        if cached is not None:
            self._check_values(kind, cached)
            shape: dict[str, tuple[str, tuple[Value, ...]]] = cached.result
        else:
            parser = _Parser(self, kind, text, _CONDITION_KEYWORDS)
            shape = {}
            _collect_key_conditions(parser.parse_condition(), shape)
            _remember(key, parser, shape)
        values = self._values or {}
        conditions = {
            name: (operator, tuple(values[operand.name] for operand in operands))
            for name, (operator, operands) in shape.items()
        }
        return key_condition_from(conditions, partition_key=partition_key, sort_key=sort_key)

    # -- the parse cache: requests repeat the same few expressions with other values ---------------------

    def _cached(self, kind: str, text: object) -> tuple[tuple[Any, ...] | None, _Cached | None]:
        """The cache key of `text` parsed as `kind` with this request's names and value types, and what
        an earlier parse of it left (marking its placeholders used here too), if any."""
        if type(text) is not str:
            return None, None  # the parser refuses it
        signature = self._signature
        if signature is None:
            names = tuple(self._names.items()) if self._names else ()
            types = tuple((name, _tag(value)) for name, value in self._values.items()) if self._values else ()
            signature = self._signature = (names, types)
        key = (kind, text, signature)
        cached = _PARSED.get(key)
        if cached is not None:
            self._used_names.update(cached.names)
            self._used_values.update(cached.values)
        return key, cached

    def _check_values(self, kind: str, cached: _Cached) -> None:
        """Run the checks of a kept parse that read values themselves (BETWEEN's bounds, attribute_type's type
        name) on this request's values; the others read what the cache key holds."""
        if cached.value_checks:
            values = self._values or {}
            checks = _Checks(kind)
            for check, names in cached.value_checks:
                check(checks, *(values[name] for name in names))
            checks.report(_CONDITION_REPORT)

    def check_all_used(self) -> None:
        """Refuse placeholders that no parsed expression used (names first, as DynamoDB does)."""
        for parameter, defined, used in (
            ("ExpressionAttributeNames", self._names, self._used_names),
            ("ExpressionAttributeValues", self._values, self._used_values),
        ):
            unused = [name for name in defined or () if name not in used]
            if unused:
                raise ValidationError(
                    f"Value provided in {parameter} unused in expressions: keys: {{" + ", ".join(unused) + "}"
                )


def _check_placeholders(mapping: Any, parameter: str, pattern: re.Pattern[str]) -> dict[str, Any] | None:
    """Validate the keys of ExpressionAttributeNames/Values as DynamoDB does before parsing any expression
    (messages from dynalite's tests, recorded against DynamoDB)."""
    if mapping is None:
        return None
    if not isinstance(mapping, Mapping):
        raise ArgumentTypeError(f"{parameter} must be a mapping, not {type(mapping).__qualname__}")
    if not mapping:
        raise ValidationError(f"{parameter} must not be empty")
    for key in mapping:
        if not isinstance(key, str) or not pattern.fullmatch(key):
            raise ValidationError(f'{parameter} contains invalid key: Syntax error; key: "{key}"')
        if len(key.encode("utf-8")) > MAX_PLACEHOLDER_BYTES:
            # DynamoDB developer guide, "Service quotas": a placeholder is at most 255 bytes. The wording of
            # this refusal is shardline's.
            raise ValidationError(
                f'{parameter} contains invalid key: the key is longer than {MAX_PLACEHOLDER_BYTES} bytes; key: "{key}"'
            )
    return dict(mapping)


# --------------------------------------------------------------------------------------------------
# Parsed expressions kept for the next request


# A check that reads values themselves: the problems it finds are recorded on the _Checks.
_ValueCheck = Callable[..., None]
_Node = TypeVar("_Node")


@final
class _Cached(NamedTuple):
    """A successful parse: the result with its values left out, and the placeholders it used."""

    result: Any  # Condition, Update, Projection, or a key condition's conditions by key attribute
    names: tuple[str, ...]
    values: tuple[str, ...]
    value_checks: tuple[tuple[_ValueCheck, tuple[str, ...]], ...]  # to run again on other values


# By (parameter, text, (names, value types)): what parsing it gave. A parse depends on the text, the names and
# which values are defined with which types; the few checks that read values themselves run again.
_PARSED: dict[tuple[Any, ...], _Cached] = {}
_PARSED_LIMIT: Final = 512
_LEFT_OUT: Final[Mapping[str, Any]] = {"NULL": True}  # stands for a value in a kept parse


def _remember(key: tuple[Any, ...] | None, parser: _Parser, template: object) -> None:
    """Keep a successful parse: `template` is its result without this request's values."""
    if key is None:
        return
    if len(_PARSED) >= _PARSED_LIMIT:
        _PARSED.clear()
    _PARSED[key] = _Cached(template, tuple(parser.used_names), tuple(parser.used_values), tuple(parser.value_checks))


def _substitute_operand(node: Operand, values: Mapping[str, Mapping[str, Any]] | None) -> Operand:
    """`node` with each value placeholder's value taken from `values` (None: left out)."""
    if isinstance(node, Path):
        return node
    if isinstance(node, Value):
        return Value(node.name, _LEFT_OUT if values is None else values[node.name])
    if isinstance(node, Call):
        return Call(node.name, tuple(_substitute_operand(arg, values) for arg in node.args))
    return SetValue(node.operator, _substitute_operand(node.left, values), _substitute_operand(node.right, values))


def _substitute(node: ConditionNode, values: Mapping[str, Mapping[str, Any]] | None) -> ConditionNode:
    """A condition with each value placeholder's value taken from `values` (None: left out)."""
    if isinstance(node, Compare):
        return Compare(node.operator, _substitute_operand(node.left, values), _substitute_operand(node.right, values))
    if isinstance(node, Call):
        return Call(node.name, tuple(_substitute_operand(arg, values) for arg in node.args))
    if isinstance(node, (And, Or)):
        return type(node)(tuple(_substitute(item, values) for item in node.conditions))
    if isinstance(node, Not):
        return Not(_substitute(node.condition, values))
    if isinstance(node, Between):
        return Between(*(_substitute_operand(operand, values) for operand in (node.operand, node.low, node.high)))
    return In(_substitute_operand(node.operand, values), tuple(_substitute_operand(c, values) for c in node.choices))


def _substitute_action(action: UpdateAction, values: Mapping[str, Mapping[str, Any]] | None) -> UpdateAction:
    if action.value is None:
        return action
    return UpdateAction(action.clause, action.path, _substitute_operand(action.value, values))


# --------------------------------------------------------------------------------------------------
# The parser


def _static_type(operand: Operand) -> str | None:
    """The type an operand is known to have before any item is read: a value's own type, N for size(),
    L for list_append(), the default's type for if_not_exists()."""
    if isinstance(operand, Value):
        return _tag(operand.value)
    if isinstance(operand, Call):
        if operand.name == "size":
            return "N"
        if operand.name == "list_append":
            return "L"
        if operand.name == "if_not_exists" and len(operand.args) == 2:
            return _static_type(operand.args[1])
    if isinstance(operand, SetValue):
        return "N"
    return None


class _Checks:
    """Problems other than syntax, recorded by category (the first of each) and reported in DynamoDB's order
    once the whole expression has been read."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.errors: dict[str, str] = {}
        # The checks that read values themselves, not only their types, and the placeholders they read: a
        # kept parse runs them again on another request's values.
        self.value_checks: list[tuple[_ValueCheck, tuple[str, ...]]] = []

    def check_values(self, check: _ValueCheck, *values: Value) -> None:
        """Run a check that reads `values` themselves (and remember it, with their placeholders)."""
        self.value_checks.append((check, tuple(value.name for value in values)))
        check(self, *(value.value for value in values))

    def record(self, category: str, message: str) -> None:
        self.errors.setdefault(category, message)

    def wrong_type(self, function: str, kind: str) -> None:
        """An operand of a type the operator or function does not take (DynamoDB's wording)."""
        self.record(
            "function",
            f"Incorrect operand type for operator or function; operator or function: {function}, operand type: {kind}",
        )

    def report(self, order: tuple[str, ...]) -> None:
        for category in order:
            if category in self.errors:
                raise ValidationError(f"Invalid {self.kind}: {self.errors[category]}")


class _Parser(_Checks):
    """One expression's parser."""

    def __init__(self, owner: Expressions, kind: str, source: str, keywords: frozenset[str]) -> None:
        if not isinstance(source, str):
            raise ArgumentTypeError(f"{kind} must be a string, not {type(source).__qualname__}")
        super().__init__(kind)
        self.owner = owner
        self.source = source
        self.keywords = keywords
        if not source.strip(" \t\r\n"):
            raise ValidationError(f"Invalid {kind}: The expression can not be empty;")
        size = len(source.encode("utf-8", "surrogatepass"))
        if size > MAX_EXPRESSION_BYTES:
            # "Expression size has exceeded the maximum allowed size" (DynamoDB's answer, recorded by dynoxide's
            # conformance work against DynamoDB).
            raise ValidationError(
                f"Invalid {kind}: Expression size has exceeded the maximum allowed size; expression size: {size}"
            )
        self.tokens = tokenize(source)
        self.pos = 0
        self.depth = 0
        self.paths: list[Path] = []
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        # The index of the ")" closing each "(" (when it is closed): decides whether "(" opens a condition or
        # an operand without backtracking.
        self.closing: dict[int, int] = {}
        stack: list[int] = []
        for index, token in enumerate(self.tokens):
            if token.kind == PUNCT:
                if token.text == "(":
                    stack.append(index)
                elif token.text == ")" and stack:
                    self.closing[stack.pop()] = index

    # -- helpers ---------------------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token:
        index = min(self.pos + offset, len(self.tokens) - 1)
        return self.tokens[index]

    def syntax_error(self) -> ValidationError:
        """The syntax error at the current token (raise it)."""
        return ValidationError(syntax_error_message(self.kind, self.source, self.tokens, self.pos))

    def at_punct(self, text: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == PUNCT and token.text == text

    def expect_punct(self, text: str) -> None:
        if not self.at_punct(text):
            raise self.syntax_error()
        self.pos += 1

    def at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == NAME and word in self.keywords and token.text.upper() == word

    def at_operator(self, *texts: str) -> bool:
        token = self.peek()
        return token.kind == OPERATOR and token.text in texts

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ValidationError(
                f"Invalid {self.kind}: The expression nests parentheses or function calls more than "
                f"{MAX_NESTING} levels deep"
            )

    def is_redundant(self, open_index: int) -> bool:
        """Whether the "(" at `open_index` wraps exactly one other parenthesised group: DynamoDB refuses
        `((a = b))` with "The expression has redundant parentheses;" (Alternator's tests, run against
        DynamoDB) but accepts `((a = b) AND c = d)`."""
        close = self.closing.get(open_index)
        inner = self.tokens[open_index + 1]
        return (
            close is not None
            and inner.kind == PUNCT
            and inner.text == "("
            and self.closing.get(open_index + 1) == close - 1
        )

    # -- paths, names and values ------------------------------------------------------------------------

    def parse_path(self) -> Path:
        elements: list[str | int] = [self.path_name()]
        while True:
            if self.at_punct("."):
                self.pos += 1
                elements.append(self.path_name())
            elif self.at_punct("["):
                self.pos += 1
                token = self.peek()
                if token.kind != NUMBER:
                    raise self.syntax_error()
                self.pos += 1
                self.expect_punct("]")
                elements.append(int(token.text))  # at most 4096 digits: below int()'s digit limit
            else:
                break
        if len(elements) > MAX_PATH_DEPTH:
            self.record("depth", f"The document path has too many nesting levels; nesting levels: {len(elements)}")
        path = Path(tuple(elements))
        self.paths.append(path)
        return path

    def path_name(self) -> str:
        token = self.peek()
        if token.kind == NAME and token.text.upper() not in self.keywords:
            self.pos += 1
            if is_reserved(token.text):
                self.record("reserved", f"Attribute name is a reserved keyword; reserved keyword: {token.text}")
            return token.text
        if token.kind == NAME_REF:
            self.pos += 1
            names = self.owner._names
            if names is None or token.text not in names:
                self.record(
                    "undefined",
                    f"An expression attribute name used in the document path is not defined; attribute name: "
                    f"{token.text}",
                )
                return token.text
            self.owner._used_names.add(token.text)
            self.used_names.add(token.text)
            target: str = names[token.text]
            return target
        raise self.syntax_error()

    def parse_value(self) -> Value:
        token = self.peek()
        if token.kind != VALUE_REF:
            raise self.syntax_error()
        self.pos += 1
        values = self.owner._values
        if values is None or token.text not in values:
            self.record(
                "undefined_value",
                f"An expression attribute value used in expression is not defined; attribute value: {token.text}",
            )
            return Value(token.text, {"NULL": True})
        self.owner._used_values.add(token.text)
        self.used_values.add(token.text)
        return Value(token.text, values[token.text])

    def parse_operand(self) -> Operand:
        token = self.peek()
        if token.kind == PUNCT and token.text == "(":
            return self.group(self.parse_operand, redundant_refused=True)
        if token.kind == VALUE_REF:
            return self.parse_value()
        if token.kind == NAME and self.at_punct("(", 1) and token.text.upper() not in self.keywords:
            return self.parse_call()
        return self.parse_path()

    def parse_call(self) -> Call:
        name = self.peek().text
        self.pos += 1
        return Call(name, tuple(self.group(self.parse_operands, redundant_refused=False)))

    def parse_operands(self) -> list[Operand]:
        """`operand ("," operand)*`: a function's arguments, IN's choices."""
        return self.parse_separated(self.parse_operand, lambda: self.at_punct(","))

    def parse_separated(self, parse: Callable[[], _Node], separator: Callable[[], bool]) -> list[_Node]:
        """`parse (separator parse)*`, where `separator` says whether the current token is one."""
        items = [parse()]
        while separator():
            self.pos += 1
            items.append(parse())
        return items

    def group(self, parse: Callable[[], _Node], *, redundant_refused: bool) -> _Node:
        """What `parse` reads between the "(" at the current token and its ")", one level of nesting
        deeper; `redundant_refused`: a group wrapping exactly one other group is recorded as a problem."""
        if redundant_refused and self.is_redundant(self.pos):
            self.record("parens", "The expression has redundant parentheses;")
        self.enter()
        self.pos += 1
        node = parse()
        self.expect_punct(")")
        self.depth -= 1
        return node

    def after_group(self) -> Token | None:
        """The token after the ")" closing the "(" at the current token (None when it is never closed)."""
        close = self.closing.get(self.pos)
        return self.tokens[close + 1] if close is not None else None

    # -- conditions ---------------------------------------------------------------------------------------

    def parse_condition(self) -> ConditionNode:
        root = self.parse_or()
        if self.peek().kind != EOF:
            raise self.syntax_error()
        _check_condition(self, root, top=True)
        self.report(_CONDITION_REPORT)
        return root

    def parse_or(self) -> ConditionNode:
        items = self.parse_separated(self.parse_and, lambda: self.at_keyword("OR"))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> ConditionNode:
        items = self.parse_separated(self.parse_not, lambda: self.at_keyword("AND"))
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self) -> ConditionNode:
        negations = 0
        while self.at_keyword("NOT"):
            self.pos += 1
            negations += 1
        node = self.parse_primary()
        # NOT NOT x is x: keeping one level at most keeps the tree shallow whatever the input.
        return Not(node) if negations % 2 else node

    def parse_primary(self) -> ConditionNode:
        if self.at_punct("("):
            after = self.after_group()
            operand_follows = after is not None and (
                (after.kind == OPERATOR and after.text in _COMPARATORS)
                or (after.kind == NAME and after.text.upper() in ("BETWEEN", "IN"))
            )
            if not operand_follows:
                return self.group(self.parse_or, redundant_refused=True)
        return self.parse_comparison()

    def parse_comparison(self) -> ConditionNode:
        left = self.parse_operand()
        token = self.peek()
        if token.kind == OPERATOR and token.text in _COMPARATORS:
            self.pos += 1
            return Compare(token.text, left, self.parse_operand())
        if self.at_keyword("BETWEEN"):
            self.pos += 1
            low = self.parse_operand()
            if not self.at_keyword("AND"):
                raise self.syntax_error()
            self.pos += 1
            return Between(left, low, self.parse_operand())
        if self.at_keyword("IN"):
            self.pos += 1
            self.expect_punct("(")
            choices = self.parse_operands()
            self.expect_punct(")")
            return In(left, tuple(choices))
        if isinstance(left, Call):
            return left
        raise self.syntax_error()

    # -- update expressions -----------------------------------------------------------------------------

    def parse_update(self) -> tuple[UpdateAction, ...]:
        actions: list[UpdateAction] = []
        seen: set[str] = set()
        while self.peek().kind != EOF:
            token = self.peek()
            clause = token.text.upper()
            if token.kind != NAME or clause not in _UPDATE_KEYWORDS:
                raise self.syntax_error()
            self.pos += 1
            if clause in seen:
                self.record("section", f'The "{clause}" section can only be used once in an update expression;')
            seen.add(clause)
            while True:
                path = self.parse_path()
                value: Operand | None = None
                if clause == "SET":
                    if not self.at_operator("="):
                        raise self.syntax_error()
                    self.pos += 1
                    value = self.parse_set_value()
                elif clause in ("ADD", "DELETE"):
                    value = self.parse_value()
                actions.append(UpdateAction(clause, path, value))
                if not self.at_punct(","):
                    break
                self.pos += 1
        _check_update(self, actions)
        self.report(
            (
                "reserved",
                "depth",
                "unknown_function",
                "misused_function",
                "section",
                "undefined",
                "undefined_value",
                "overlap",
                "conflict",
                "operand",
                "function",
            )
        )
        return tuple(actions)

    def parse_set_value(self) -> Operand:
        if self.at_punct("("):
            after = self.after_group()
            if not (after is not None and after.kind == OPERATOR and after.text in ("+", "-")):
                return self.group(self.parse_arithmetic, redundant_refused=False)
        return self.parse_arithmetic()

    def parse_arithmetic(self) -> Operand:
        left = self.parse_operand()
        if self.at_operator("+", "-"):
            operator = self.peek().text
            self.pos += 1
            return SetValue(operator, left, self.parse_operand())
        return left

    # -- projections ------------------------------------------------------------------------------------

    def parse_projection(self) -> tuple[Path, ...]:
        paths = self.parse_separated(self.parse_path, lambda: self.at_punct(","))
        if self.peek().kind != EOF:
            raise self.syntax_error()
        _check_overlaps(self, paths)
        self.report(("reserved", "depth", "undefined", "overlap", "conflict"))
        return tuple(paths)


# --------------------------------------------------------------------------------------------------
# Checks made after parsing


def _check_condition(parser: _Checks, node: ConditionNode, *, top: bool) -> None:
    if isinstance(node, (And, Or)):
        for item in node.conditions:
            _check_condition(parser, item, top=True)
    elif isinstance(node, Not):
        _check_condition(parser, node.condition, top=True)
    elif isinstance(node, Call):
        _check_call(parser, node, as_condition=True)
    elif isinstance(node, Compare):
        _check_operands(parser, (node.left, node.right))
        _check_distinct(parser, node.operator, node.left, node.right)
        if node.operator not in ("=", "<>"):
            _check_ordered(parser, node.operator, (node.left, node.right))
    elif isinstance(node, Between):
        _check_operands(parser, (node.operand, node.low, node.high))
        _check_ordered(parser, "BETWEEN", (node.operand, node.low, node.high))
        low, high = node.low, node.high
        if isinstance(low, Value) and isinstance(high, Value):
            parser.check_values(_check_bounds, low, high)
    else:  # In
        if len(node.choices) + 1 > MAX_IN_OPERANDS:
            # DynamoDB developer guide, "Service quotas": at most 100 operands for IN (Alternator's tests found
            # that this counts the left operand too).
            parser.record(
                "operand_count",
                f"Incorrect number of operands for operator or function; operator or function: IN, number of "
                f"operands: {len(node.choices) + 1}",
            )
        _check_operands(parser, (node.operand, *node.choices))


def _check_bounds(parser: _Checks, low: Mapping[str, Any], high: Mapping[str, Any]) -> None:
    """BETWEEN's bounds, when both are values: of one type, and in order."""
    if "function" in parser.errors:
        return
    low_type, high_type = _tag(low), _tag(high)
    bounds = (
        f"lower bound operand: AttributeValue: {_message_value(low)}, "
        f"upper bound operand: AttributeValue: {_message_value(high)}"
    )
    # Messages from dynalite's tests, recorded against DynamoDB.
    if low_type != high_type:
        parser.record("function", f"The BETWEEN operator requires same data type for lower and upper bounds; {bounds}")
    elif low_type in _ORDERED_TYPES and (compare_values(low, high) or 0) > 0:
        parser.record(
            "function",
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; " + bounds,
        )


def _check_type_name(parser: _Checks, value: Mapping[str, Any]) -> None:
    """attribute_type's type name, a String value: one of DynamoDB's type names."""
    type_name = value["S"]
    if type_name not in _TYPE_NAMES:
        parser.record(
            "function",
            f"Invalid attribute type name found; type: {type_name}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}",
        )


def _check_operands(parser: _Checks, operands: tuple[Operand, ...]) -> None:
    for operand in operands:
        if isinstance(operand, Call):
            _check_call(parser, operand, as_condition=False)


def _check_ordered(parser: _Checks, operator: str, operands: tuple[Operand, ...]) -> None:
    """An ordering comparison with a constant of a type that has no order is refused before any item is read
    (Alternator's tests, run against DynamoDB: "a < :val" with a list value is a ValidationException)."""
    for operand in operands:
        if isinstance(operand, Value) and _tag(operand.value) not in _ORDERED_TYPES:
            parser.wrong_type(operator, _tag(operand.value))


def _check_distinct(parser: _Checks, operator: str, left: Operand, right: Operand) -> None:
    # "The first operand must be distinct from the remaining operands for this operator or function" - the
    # developer guide: "contains (a, a) returns an error"; dynalite's tests show it for comparisons too.
    if isinstance(left, Path) and isinstance(right, Path) and left.elements == right.elements:
        parser.record(
            "distinct",
            "The first operand must be distinct from the remaining operands for this operator or function; "
            f"operator: {operator}, first operand: {render_path(left.elements)}",
        )


def _check_call(parser: _Checks, call: Call, *, as_condition: bool) -> None:
    name = call.name
    if name in _UPDATE_FUNCTIONS:
        parser.record("misused_function", f"The function is not allowed in a condition expression; function: {name}")
    elif name not in _CONDITION_FUNCTIONS:
        parser.record("unknown_function", f"Invalid function name; function: {name}")
    elif (name == "size") == as_condition:
        # size() is a value, the other functions are conditions (Alternator's tests, run against DynamoDB).
        parser.record(
            "misused_function", f"The function is not allowed to be used this way in an expression; function: {name}"
        )
    for arg in call.args:
        if isinstance(arg, Call):
            _check_call(parser, arg, as_condition=False)
    if name not in _CONDITION_FUNCTIONS:
        return
    if len(call.args) != _CONDITION_FUNCTIONS[name]:
        parser.record(
            "operand_count",
            f"Incorrect number of operands for operator or function; operator or function: {name}, number of "
            f"operands: {len(call.args)}",
        )
        return
    if len(call.args) == 2:
        _check_distinct(parser, name, call.args[0], call.args[1])
    if name in ("attribute_exists", "attribute_not_exists"):
        if not isinstance(call.args[0], Path):
            parser.record("function", f"Operator or function requires a document path; operator or function: {name}")
    elif name == "begins_with":
        for arg in call.args:
            kind = _static_type(arg)
            if kind is not None and kind not in ("S", "B"):
                parser.wrong_type(name, kind)
    elif name == "attribute_type":
        kind = _static_type(call.args[1])
        if kind != "S" or not isinstance(call.args[1], Value):
            shown = kind or "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
            parser.wrong_type(name, shown)
        else:
            parser.check_values(_check_type_name, call.args[1])
    elif name == "size":
        kind = _static_type(call.args[0])
        if kind in ("N", "BOOL", "NULL"):
            # "operator or function: size, operand type: N" (Alternator's tests, run against DynamoDB).
            parser.wrong_type("size", kind)


def _check_update(parser: _Checks, actions: list[UpdateAction]) -> None:
    _check_overlaps(parser, [action.path for action in actions])
    for action in actions:
        value = action.value
        if action.clause in ("ADD", "DELETE") and isinstance(value, Value):
            kind = _tag(value.value)
            if kind in _TYPE_WORDS_M and not (action.clause == "ADD" and kind == "N"):
                parser.record(
                    "operand",
                    f"Incorrect operand type for operator or function; operator: {action.clause}, operand type: "
                    f"{_TYPE_WORDS_M[kind]}, typeSet: ALLOWED_FOR_{action.clause}_OPERAND",
                )
        elif value is not None:
            _check_update_value(parser, value, nested_in=None)


def _check_update_value(parser: _Checks, value: Operand, *, nested_in: str | None) -> None:
    if isinstance(value, SetValue):
        for operand in (value.left, value.right):
            _check_update_value(parser, operand, nested_in="+")
            kind = _static_type(operand)
            if kind is not None and kind != "N":
                # "operator or function: +, operand type: S" (Alternator's tests, run against DynamoDB).
                parser.wrong_type(value.operator, kind)
        return
    if not isinstance(value, Call):
        return
    name = value.name
    if name in _CONDITION_FUNCTIONS:
        parser.record("misused_function", f"The function is not allowed in an update expression; function: {name}")
    elif name not in _UPDATE_FUNCTIONS:
        # "Invalid UpdateExpression: Invalid function name; function: f" (Alternator's tests).
        parser.record("unknown_function", f"Invalid function name; function: {name}")
    elif nested_in == "list_append":
        # DynamoDB refuses list_append(list_append(...), ...) and list_append(if_not_exists(...), ...)
        # (Alternator's tests, run against DynamoDB).
        parser.record(
            "misused_function", f"The function is not allowed to be used this way in an expression; function: {name}"
        )
    for arg in value.args:
        _check_update_value(parser, arg, nested_in=name)
    expected = _UPDATE_FUNCTIONS.get(name)
    if expected is None:
        return
    if len(value.args) != expected:
        parser.record(
            "function",
            f"Incorrect number of operands for operator or function; operator or function: {name}, number of "
            f"operands: {len(value.args)}",
        )
        return
    if name == "if_not_exists":
        if not isinstance(value.args[0], Path):
            parser.record("function", f"Operator or function requires a document path; operator or function: {name}")
    else:
        for arg in value.args:
            kind = _static_type(arg)
            if kind is not None and kind != "L":
                parser.wrong_type(name, kind)


def _check_overlaps(parser: _Checks, paths: list[Path]) -> None:
    """Two paths of one update or projection may not overlap (one is the other or inside it) or conflict (one
    reads a map where the other reads a list); "path one" is the earlier one (messages from the developer
    guide's forums and Alternator's and dynalite's tests, recorded against DynamoDB)."""
    seen: list[tuple[str | int, ...]] = []
    for path in paths:
        new = path.elements
        for old in seen:
            relation = _relation(old, new)
            if relation == "conflict":
                parser.record(
                    "conflict",
                    "Two document paths conflict with each other; must remove or rewrite one of these paths; "
                    f"path one: {render_path(old)}, path two: {render_path(new)}",
                )
            elif relation == "overlap":
                parser.record(
                    "overlap",
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; "
                    f"path one: {render_path(old)}, path two: {render_path(new)}",
                )
                return
        seen.append(new)


def _relation(one: tuple[str | int, ...], two: tuple[str | int, ...]) -> str | None:
    for first, second in zip(one, two, strict=False):
        if isinstance(first, int) != isinstance(second, int):
            return "conflict"
        if first != second:
            return None
    return "overlap"


# --------------------------------------------------------------------------------------------------
# Key conditions

_KEY_OPERATORS_FLIPPED: Final = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _collect_key_conditions(node: ConditionNode, conditions: dict[str, tuple[str, tuple[Value, ...]]]) -> None:
    """Check a KeyConditionExpression's shape and gather one condition per key attribute (DynamoDB's messages,
    recorded by dynalite's tests against DynamoDB)."""
    if isinstance(node, Or):
        raise ValidationError("Invalid operator used in KeyConditionExpression: OR")
    if isinstance(node, Not):
        raise ValidationError("Invalid operator used in KeyConditionExpression: NOT")
    if isinstance(node, In):
        raise ValidationError("Invalid operator used in KeyConditionExpression: IN")
    if isinstance(node, And):
        for item in node.conditions:
            _collect_key_conditions(item, conditions)
        return
    if isinstance(node, Compare) and node.operator == "<>":
        raise ValidationError("Invalid operator used in KeyConditionExpression: <>")
    if isinstance(node, Call):
        if node.name != "begins_with":
            raise ValidationError(f"Invalid operator used in KeyConditionExpression: {node.name}")
        operator, operands = "begins_with", node.args
    elif isinstance(node, Between):
        operator, operands = "BETWEEN", (node.operand, node.low, node.high)
    else:
        operator, operands = node.operator, (node.left, node.right)
    if operator in ("BETWEEN", "begins_with") and not isinstance(operands[0], Path):
        raise ValidationError(
            f"Invalid condition in KeyConditionExpression: {operator} operator must have the key attribute as its "
            "first operand"
        )
    name: str | None = None
    position = 0
    for index, operand in enumerate(operands):
        if isinstance(operand, Call):
            raise ValidationError("KeyConditionExpressions cannot contain nested operations")
        if isinstance(operand, Path):
            if name is not None:
                raise ValidationError(
                    "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
                )
            if len(operand.elements) > 1:
                raise ValidationError("KeyConditionExpressions cannot have conditions on nested attributes")
            name, position = operand.head, index
    if name is None:
        raise ValidationError("Invalid condition in KeyConditionExpression: No key attribute specified")
    if name in conditions:
        raise ValidationError("KeyConditionExpressions must only contain one condition per key")
    if position:  # ":v < sk" is "sk > :v"
        operator = _KEY_OPERATORS_FLIPPED[operator]
    conditions[name] = (operator, tuple(operand for operand in operands if isinstance(operand, Value)))


def key_condition_from(
    conditions: Mapping[str, tuple[str, tuple[Mapping[str, Any], ...]]], *, partition_key: str, sort_key: str | None
) -> KeyCondition:
    """Match gathered key conditions to the key schema: the partition key with `=`, at most one condition
    on the sort key, nothing else (DynamoDB's messages, as dynalite's Query records them)."""
    if sort_key is None and len(conditions) > 1:
        raise ValidationError("Query key condition not supported")
    if partition_key not in conditions:
        raise ValidationError(f"Query condition missed key schema element: {partition_key}")
    if sort_key is not None and sort_key not in conditions and len(conditions) > 1:
        raise ValidationError(f"Query condition missed key schema element: {sort_key}")
    operator, values = conditions[partition_key]
    if operator != "=":
        raise ValidationError("Query key condition not supported")
    if len(conditions) > 2:
        raise ValidationError("Query key condition not supported")
    sort: tuple[Any, ...] | None = None
    if sort_key is not None and sort_key in conditions:
        sort_operator, sort_values = conditions[sort_key]
        sort = (sort_operator, *sort_values)
    return KeyCondition(values[0], sort)
