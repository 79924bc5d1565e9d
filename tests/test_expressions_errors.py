"""Every refusal of shardline.local.expressions, with DynamoDB's exact message.

Where a message comes from: the DynamoDB developer guide where it quotes one; otherwise DynamoDB's answers
recorded by test suites run against DynamoDB (the dynamodb-conformance suite, ScyllaDB Alternator's tests,
dynalite's tests) or quoted in public issues. The source of each is noted in the implementation.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from shardline.local import ValidationError
from shardline.local.expressions import Expressions, apply_update

VALUES: dict[str, dict[str, Any]] = {
    ":s": {"S": "x"},
    ":t": {"S": "SS"},
    ":n": {"N": "1"},
    ":n2": {"N": "2"},
    ":l": {"L": [{"N": "1"}]},
    ":m": {"M": {}},
    ":ss": {"SS": ["a"]},
    ":b": {"B": "AAE="},
    ":bool": {"BOOL": True},
    ":null": {"NULL": True},
}


def _refused(call: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=f"^{re.escape(message)}$"):
        call()


def ex() -> Expressions:
    return Expressions({"#a": "a", "#s": "status", "#d": "[3]"}, VALUES)


# -- syntax errors: the token and the text near it ----------------------------------------------------------

SYNTAX = [
    # Observed DynamoDB answers (conformance suite, public issues):
    ("update", "INVALID SYNTAX HERE", "INVALID", "INVALID SYNTAX"),
    ("projection", "!!! INVALID !!!", "!", "!!"),
    ("update", "ADD hits : incr", ":", "hits : incr"),
    ("update", "SET _123 = :n", "_", "SET _123"),
    ("projection", "a,", "<EOF>", ","),
    ("update", "SET", "<EOF>", "SET"),
    ("update", "SET a = b +", "<EOF>", "+"),
    ("update", "SET a = ", "<EOF>", "= "),
    ("update", "SET numx = numx / :n", "/", "numx / :n"),
    ("projection", "a b", "b", "a b"),
    # The same rule elsewhere:
    ("condition", "a = = b", "=", "= = b"),
    ("condition", "a", "<EOF>", "a"),
    ("condition", "a IN ()", ")", "()"),
    ("condition", "a > 4", "4", "> 4"),
    ("condition", "a BETWEEN :n :n2", ":n2", ":n :n2"),
    ("condition", "NOT a", "<EOF>", "a"),
    ("condition", "(a = :n", "<EOF>", ":n"),
    ("condition", "a = :n)", ")", ":n)"),
    ("condition", "a[-1] = :n", "-", "[-1"),
    ("condition", "a[:n] = :n", ":n", "[:n]"),
    ("condition", "a = b = c", "=", "b = c"),
    ("condition", "and = :n", "and", "and ="),
    ("update", "SET a = :n + :n + :n", "+", ":n + :n"),
    ("update", "SET :s = :n", ":s", "SET :s ="),
    ("update", "SET a = if_not_exists(a, :n + :n)", "+", ":n + :n"),
    ("update", "REMOVE a, ", "<EOF>", ", "),
    ("update", "ADD a b", "b", "a b"),
    ("update", "SET # = :n", "#", "SET # ="),
    ("update", "SET a = list_append()", ")", "()"),
    ("projection", ":s", ":s", ":s"),
    ("projection", "a.", "<EOF>", "."),
    ("key", "pk = :s AND", "<EOF>", "AND"),
]


@pytest.mark.parametrize(("what", "text", "token", "near"), SYNTAX)
def test_syntax_errors_name_the_token_and_the_text_near_it(what: str, text: str, token: str, near: str) -> None:
    expressions = ex()
    kinds = {"update": "UpdateExpression", "condition": "ConditionExpression", "projection": "ProjectionExpression"}
    kind = kinds.get(what, "KeyConditionExpression")
    calls = {
        "update": lambda: expressions.update(text),
        "condition": lambda: expressions.condition(text),
        "projection": lambda: expressions.projection(text),
        "key": lambda: expressions.key_condition(text, partition_key="pk", sort_key=None),
    }
    _refused(calls[what], f'Invalid {kind}: Syntax error; token: "{token}", near: "{near}"')


def test_the_parameter_name_appears_in_messages() -> None:
    _refused(
        lambda: ex().condition("a = = b", kind="FilterExpression"),
        'Invalid FilterExpression: Syntax error; token: "=", near: "= = b"',
    )


# -- empty, too long, too deep ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_expressions_are_refused(text: str) -> None:
    _refused(lambda: ex().update(text), "Invalid UpdateExpression: The expression can not be empty;")
    _refused(lambda: ex().condition(text), "Invalid ConditionExpression: The expression can not be empty;")
    _refused(lambda: ex().projection(text), "Invalid ProjectionExpression: The expression can not be empty;")
    _refused(
        lambda: ex().key_condition(text, partition_key="pk", sort_key=None),
        "Invalid KeyConditionExpression: The expression can not be empty;",
    )


def test_expressions_over_4_kb_are_refused() -> None:
    names = ", ".join(f"a{i:03}" for i in range(820))  # 820 * 6 - 2 = 4918 bytes: trim to size
    text = names[:4090].rsplit(",", 1)[0] + ", zzzzzzzzzzzzzzzzzzzz"
    text = text[: 4097 - len(text)] if len(text) > 4097 else text + "z" * (4097 - len(text))
    assert len(text) == 4097
    _refused(
        lambda: ex().projection(text),
        "Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097",
    )
    assert len(ex().projection(text[:-1]).paths) > 600  # 4096 bytes: accepted


def test_document_paths_deeper_than_32_levels_are_refused() -> None:
    assert len(ex().projection("a" + ".b" * 31).paths[0].elements) == 32
    _refused(
        lambda: ex().projection("a" + "[0]" * 32),
        "Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33",
    )


def test_nesting_beyond_shardlines_bound_is_refused_not_a_recursion_error() -> None:
    text = "(a = :n AND " * 150 + "a = :n" + ")" * 150
    _refused(
        lambda: ex().condition(text),
        "Invalid ConditionExpression: The expression nests parentheses or function calls more than 100 levels deep",
    )
    deep = "size(" * 200 + "a" + ")" * 200 + " > :n"
    with pytest.raises(ValidationError, match=r"^Invalid ConditionExpression: The expression nests"):
        ex().condition(deep)


# -- placeholders ---------------------------------------------------------------------------------------------


def test_undefined_placeholders_are_refused() -> None:
    _refused(
        lambda: Expressions(None, None).update("SET #x = :n"),
        "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; "
        "attribute name: #x",
    )
    _refused(
        lambda: Expressions(None, None).update("SET x = :v"),
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
        "attribute value: :v",
    )
    _refused(
        lambda: Expressions(None, None).condition("#missing = :v", kind="FilterExpression"),
        "Invalid FilterExpression: An expression attribute name used in the document path is not defined; "
        "attribute name: #missing",
    )


def test_unused_placeholders_are_refused_names_first() -> None:
    expressions = Expressions({"#unused": "x", "#a": "a"}, {":v": {"S": "val"}, ":unused": {"S": "extra"}})
    expressions.update("SET #a = :v")
    _refused(
        expressions.check_all_used,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}",
    )
    values_only = Expressions(None, {":v": {"S": "val"}, ":unused": {"S": "x"}, ":b": {"N": "1"}})
    values_only.condition("a = :v")
    _refused(
        values_only.check_all_used,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused, :b}",
    )


def test_placeholders_used_by_any_expression_of_the_request_count() -> None:
    expressions = Expressions({"#p": "Price"}, {":p": {"N": "1"}, ":limit": {"N": "500"}})
    expressions.update("SET #p = #p - :p")
    expressions.condition("#p > :limit")
    expressions.check_all_used()


@pytest.mark.parametrize(
    ("names", "values", "message"),
    [
        ({}, None, "ExpressionAttributeNames must not be empty"),
        (None, {}, "ExpressionAttributeValues must not be empty"),
        ({"a": "x"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'),
        ({"#a-b": "x"}, None, 'ExpressionAttributeNames contains invalid key: Syntax error; key: "#a-b"'),
        (None, {"b": {"S": "a"}}, 'ExpressionAttributeValues contains invalid key: Syntax error; key: "b"'),
        (None, {":": {"S": "a"}}, 'ExpressionAttributeValues contains invalid key: Syntax error; key: ":"'),
        (
            {"#" + "a" * 255: "x"},
            None,
            'ExpressionAttributeNames contains invalid key: the key is longer than 255 bytes; key: "#'
            + "a" * 255
            + '"',
        ),
        ({"#a": ""}, None, "ExpressionAttributeNames contains invalid value: Empty attribute name for key #a"),
    ],
)
def test_placeholder_maps_are_checked(names: Any, values: Any, message: str) -> None:
    _refused(lambda: Expressions(names, values), message)


def test_placeholders_of_255_bytes_are_accepted() -> None:
    name = "#" + "a" * 254
    expressions = Expressions({name: "x"}, None)
    assert str(expressions.projection(name).paths[0]) == "x"


def test_placeholder_names_may_start_with_digits_and_underscores() -> None:
    # Alternator's tests, run against DynamoDB: "#123a", "#_", ":123" and ":_" are valid placeholders.
    expressions = Expressions({"#123": "a", "#_": "b"}, {":123": {"N": "1"}, ":_": {"N": "2"}})
    assert len(expressions.update("SET #123 = :123, #_ = :_").actions) == 2


# -- reserved words --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "text", "word"),
    [
        ("update", " set #a = :n set abOrt = :n ", "abOrt"),
        ("update", " remove Absolute ", "Absolute"),
        ("condition", "status = :s", "status"),
        ("condition", "a.name = :s", "name"),
        ("projection", "Comment", "Comment"),
        ("projection", "a, b.#a, c[0].year", "year"),
        ("update", "SET a = size", "size"),
    ],
)
def test_reserved_words_used_bare_are_refused(what: str, text: str, word: str) -> None:
    kind = {"update": "UpdateExpression", "condition": "ConditionExpression", "projection": "ProjectionExpression"}
    call = getattr(ex(), what)
    _refused(
        lambda: call(text), f"Invalid {kind[what]}: Attribute name is a reserved keyword; reserved keyword: {word}"
    )


def test_reserved_words_through_placeholders_are_fine() -> None:
    condition = ex().condition("#s = :s AND size(a) > :n")
    assert [str(path) for path in condition.paths] == ["status", "a"]


# -- condition checks -----------------------------------------------------------------------------------------

CONDITION_ERRORS = [
    ("((a = :n))", "The expression has redundant parentheses;"),
    ("((a)) = :n", "The expression has redundant parentheses;"),
    ("(((a = :n) AND b = :n))", "The expression has redundant parentheses;"),
    ("dog(a) = :n", "Invalid function name; function: dog"),
    ("ATTRIBUTE_EXISTS(a)", "Invalid function name; function: ATTRIBUTE_EXISTS"),
    ("size(a)", "The function is not allowed to be used this way in an expression; function: size"),
    (
        "attribute_exists(a) < :n",
        "The function is not allowed to be used this way in an expression; function: attribute_exists",
    ),
    ("if_not_exists(a, a) = :n", "The function is not allowed in a condition expression; function: if_not_exists"),
    ("list_append(a, a) = :n", "The function is not allowed in a condition expression; function: list_append"),
    (
        "size(a, a) = :n",
        "Incorrect number of operands for operator or function; operator or function: size, number of operands: 2",
    ),
    (
        "begins_with(a)",
        "Incorrect number of operands for operator or function; operator or function: begins_with, number of "
        "operands: 1",
    ),
    (
        "contains(a, a)",
        "The first operand must be distinct from the remaining operands for this operator or function; operator: "
        "contains, first operand: [a]",
    ),
    (
        "a.b[1] = a.b[1]",
        "The first operand must be distinct from the remaining operands for this operator or function; operator: "
        "=, first operand: [a, b, [1]]",
    ),
    ("attribute_exists(:n)", "Operator or function requires a document path; operator or function: attribute_exists"),
    (
        "attribute_not_exists(size(a))",
        "Operator or function requires a document path; operator or function: attribute_not_exists",
    ),
    (
        "attribute_type(a, b)",
        "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: "
        "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}",
    ),
    (
        "attribute_type(a, :n)",
        "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N",
    ),
    (
        "attribute_type(a, :s)",
        "Invalid attribute type name found; type: x, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
    ),
    (
        "begins_with(a, :n)",
        "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
    ),
    ("size(:n) > :n", "Incorrect operand type for operator or function; operator or function: size, operand type: N"),
    (
        "size(size(a)) > :n",
        "Incorrect operand type for operator or function; operator or function: size, operand type: N",
    ),
    ("a < :l", "Incorrect operand type for operator or function; operator or function: <, operand type: L"),
    (":bool >= a", "Incorrect operand type for operator or function; operator or function: >=, operand type: BOOL"),
    (
        "a BETWEEN :n AND :s",
        "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: "
        "AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}",
    ),
    (
        "a BETWEEN :n2 AND :n",
        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound "
        "operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}",
    ),
    (
        "a BETWEEN :l AND :l",
        "Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: L",
    ),
]


@pytest.mark.parametrize(("text", "message"), CONDITION_ERRORS)
def test_condition_checks(text: str, message: str) -> None:
    _refused(lambda: ex().condition(text), f"Invalid ConditionExpression: {message}")


def test_in_takes_at_most_100_operands() -> None:
    values = {f":v{i}": {"N": str(i)} for i in range(100)}
    ok = Expressions(None, values)
    ok.condition("a IN (" + ", ".join(list(values)[:99]) + ")")
    _refused(
        lambda: Expressions(None, values).condition("a IN (" + ", ".join(values) + ")"),
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: "
        "IN, number of operands: 101",
    )


def test_redundant_parentheses_come_before_other_problems() -> None:
    _refused(
        lambda: Expressions(None, None).condition("((status = :undefined))"),
        "Invalid ConditionExpression: The expression has redundant parentheses;",
    )


# -- update checks ---------------------------------------------------------------------------------------------

UPDATE_ERRORS = [
    ("SET a = :n SET b = :n", 'The "SET" section can only be used once in an update expression;'),
    ("set a = #a set c = :n", 'The "SET" section can only be used once in an update expression;'),
    ("remove #a set b = a remove e", 'The "REMOVE" section can only be used once in an update expression;'),
    ("add #a :n set b = a add e :n", 'The "ADD" section can only be used once in an update expression;'),
    ("delete #a :ss set b = a delete e :ss", 'The "DELETE" section can only be used once in an update expression;'),
    (
        "SET a = :n REMOVE a",
        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], "
        "path two: [a]",
    ),
    (
        "SET a = :n, a.b = :n",
        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], "
        "path two: [a, b]",
    ),
    (
        "SET a[1][1] = :n, a[1] = :n",
        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "
        "[a, [1], [1]], path two: [a, [1]]",
    ),
    (
        "set d[1] = a, d.b = a, c[1].a = a, #a = if_not_exists(a, :n), c = a",
        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "
        "[c, [1], a], path two: [c]",
    ),
    (
        "set c[3].#d = a, c[3] = a",
        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: "
        "[c, [3], [3]], path two: [c, [3]]",
    ),
    (
        "remove a.c set a[1] = #d",
        "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: "
        "[a, c], path two: [a, [1]]",
    ),
    (
        "ADD a :s",
        "Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: "
        "ALLOWED_FOR_ADD_OPERAND",
    ),
    (
        "ADD a :m",
        "Incorrect operand type for operator or function; operator: ADD, operand type: MAP, typeSet: "
        "ALLOWED_FOR_ADD_OPERAND",
    ),
    (
        "ADD a :l",
        "Incorrect operand type for operator or function; operator: ADD, operand type: LIST, typeSet: "
        "ALLOWED_FOR_ADD_OPERAND",
    ),
    (
        "DELETE a :n",
        "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: "
        "ALLOWED_FOR_DELETE_OPERAND",
    ),
    (
        "DELETE a :bool",
        "Incorrect operand type for operator or function; operator: DELETE, operand type: BOOLEAN, typeSet: "
        "ALLOWED_FOR_DELETE_OPERAND",
    ),
    ("SET a = f(b, c)", "Invalid function name; function: f"),
    ("SET a = LIST_APPEND(:l, :l)", "Invalid function name; function: LIST_APPEND"),
    ("SET a = size(b)", "The function is not allowed in an update expression; function: size"),
    (
        "SET a = list_append(list_append(:l, :l), :l)",
        "The function is not allowed to be used this way in an expression; function: list_append",
    ),
    (
        "SET a = list_append(:l)",
        "Incorrect number of operands for operator or function; operator or function: list_append, number of "
        "operands: 1",
    ),
    (
        "SET a = if_not_exists(:n, :n)",
        "Operator or function requires a document path; operator or function: if_not_exists",
    ),
    (
        "SET a = if_not_exists(if_not_exists(a, :n), :n)",
        "Operator or function requires a document path; operator or function: if_not_exists",
    ),
    (
        "SET a = list_append(:m, a)",
        "Incorrect operand type for operator or function; operator or function: list_append, operand type: M",
    ),
    ("SET a = a + :s", "Incorrect operand type for operator or function; operator or function: +, operand type: S"),
    (
        "SET a = :l - a",
        "Incorrect operand type for operator or function; operator or function: -, operand type: L",
    ),
]


@pytest.mark.parametrize(("text", "message"), UPDATE_ERRORS)
def test_update_checks(text: str, message: str) -> None:
    _refused(lambda: ex().update(text), f"Invalid UpdateExpression: {message}")


def test_the_placeholder_check_comes_before_the_overlap_check() -> None:
    _refused(
        lambda: Expressions(None, None).update("SET a = :v, a = :v"),
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
        "attribute value: :v",
    )


def test_projection_overlaps_are_refused() -> None:
    _refused(
        lambda: ex().projection("a, a.b"),
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of "
        "these paths; path one: [a], path two: [a, b]",
    )
    _refused(
        lambda: ex().projection("a.b, a[0]"),
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of "
        "these paths; path one: [a, b], path two: [a, [0]]",
    )


# -- update evaluation errors ----------------------------------------------------------------------------------

ITEM = {"pk": {"S": "k"}, "a": {"S": "str"}, "n": {"N": "1"}, "l": {"L": [{"N": "1"}]}, "m": {"M": {}}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "SET pk = :s",
            "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key",
        ),
        (
            "REMOVE pk.x",
            "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key",
        ),
        ("SET b = z", "The provided expression refers to an attribute that does not exist in the item"),
        (
            "SET b = list_append(z, :l)",
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        ("SET b = z + :n", "The provided expression refers to an attribute that does not exist in the item"),
        ("SET b = a + :n", "An operand in the update expression has an incorrect data type"),
        ("SET b = list_append(a, :l)", "An operand in the update expression has an incorrect data type"),
        ("ADD a :n", "An operand in the update expression has an incorrect data type"),
        ("ADD l :ss", "An operand in the update expression has an incorrect data type"),
        ("DELETE n :ss", "An operand in the update expression has an incorrect data type"),
        ("SET z.c = :n", "The document path provided in the update expression is invalid for update"),
        ("SET a.c = :n", "The document path provided in the update expression is invalid for update"),
        ("SET a[0] = :n", "The document path provided in the update expression is invalid for update"),
        ("SET z[0] = :n", "The document path provided in the update expression is invalid for update"),
        ("SET m.x.y = :n", "The document path provided in the update expression is invalid for update"),
        ("REMOVE z.c", "The document path provided in the update expression is invalid for update"),
        ("REMOVE a.c", "The document path provided in the update expression is invalid for update"),
        ("REMOVE a[0]", "The document path provided in the update expression is invalid for update"),
        ("ADD z.c :n", "The document path provided in the update expression is invalid for update"),
        ("DELETE z.c :ss", "The document path provided in the update expression is invalid for update"),
        ("DELETE a.c :ss", "The document path provided in the update expression is invalid for update"),
    ],
)
def test_update_evaluation_errors(text: str, message: str) -> None:
    update = ex().update(text)
    _refused(lambda: apply_update(update, ITEM, key={"pk": {"S": "k"}}, key_names={"pk"}), message)


@pytest.mark.parametrize(
    ("text", "values", "message"),
    [
        (
            "SET b = :x + :y",
            {":x": {"N": "9E+125"}, ":y": {"N": "9E+125"}},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            "SET b = :x - :y",
            {":x": {"N": "9E+125"}, ":y": {"N": "-9E+125"}},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        # DynamoDB words a result beyond 38 digits as an overflow too (Alternator's tests, run against DynamoDB).
        (
            "SET b = :x + :y",
            {":x": {"N": "1E+50"}, ":y": {"N": "1"}},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            "SET b = :x - :y",
            {":x": {"N": "1.5E-130"}, ":y": {"N": "1E-130"}},
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
        (
            "ADD b :y",
            {":y": {"N": "9E+125"}},
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
    ],
)
def test_arithmetic_range_errors(text: str, values: dict[str, Any], message: str) -> None:
    update = Expressions(None, values).update(text)
    item = {"pk": {"S": "k"}, "b": {"N": "9E+125"}}
    _refused(lambda: apply_update(update, item, key={"pk": {"S": "k"}}, key_names={"pk"}), message)


# -- key conditions ---------------------------------------------------------------------------------------------

KEY_ERRORS = [
    ("a > :n AND size(b) > :n OR a > :n", "Invalid operator used in KeyConditionExpression: OR"),
    ("a IN (:n, :n2)", "Invalid operator used in KeyConditionExpression: IN"),
    ("attribute_exists(a)", "Invalid operator used in KeyConditionExpression: attribute_exists"),
    ("attribute_not_exists(a)", "Invalid operator used in KeyConditionExpression: attribute_not_exists"),
    ("attribute_type(a, :t)", "Invalid operator used in KeyConditionExpression: attribute_type"),
    ("contains(a.d, :s)", "Invalid operator used in KeyConditionExpression: contains"),
    ("NOT a > :n", "Invalid operator used in KeyConditionExpression: NOT"),
    ("a <> :n", "Invalid operator used in KeyConditionExpression: <>"),
    (
        ":s BETWEEN :s AND :s AND b > :s",
        "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first "
        "operand",
    ),
    (
        "begins_with(:s, b) AND a > :s",
        "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first "
        "operand",
    ),
    ("size(b) > a AND a.b > b AND b > c", "KeyConditionExpressions cannot contain nested operations"),
    ("a > size(b.d)", "KeyConditionExpressions cannot contain nested operations"),
    ("b > a.b", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
    (
        "begins_with(a, b)",
        "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
    ),
    ("a.d > :n", "KeyConditionExpressions cannot have conditions on nested attributes"),
    ("b[0] > :n", "KeyConditionExpressions cannot have conditions on nested attributes"),
    (":n > :n2 AND a < :n", "Invalid condition in KeyConditionExpression: No key attribute specified"),
    ("b > :n AND b < :n", "KeyConditionExpressions must only contain one condition per key"),
    ("sk = :s", "Query condition missed key schema element: pk"),
    ("pk = :s AND extra = :s", "Query condition missed key schema element: sk"),
    ("pk > :s", "Query key condition not supported"),
    ("begins_with(pk, :s)", "Query key condition not supported"),
    ("pk = :s AND sk = :s AND extra = :s", "Query key condition not supported"),
    (
        "pk = :s AND sk BETWEEN :n2 AND :n",
        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
        "lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}",
    ),
    (
        "pk = :s AND begins_with(sk, :n)",
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: "
        "begins_with, operand type: N",
    ),
]


@pytest.mark.parametrize(("text", "message"), KEY_ERRORS)
def test_key_condition_errors(text: str, message: str) -> None:
    _refused(lambda: ex().key_condition(text, partition_key="pk", sort_key="sk"), message)


def test_key_conditions_on_a_table_without_sort_key() -> None:
    _refused(
        lambda: ex().key_condition("pk = :s AND sk = :s", partition_key="pk", sort_key=None),
        "Query key condition not supported",
    )
    _refused(
        lambda: ex().key_condition("sk = :s", partition_key="pk", sort_key=None),
        "Query condition missed key schema element: pk",
    )
