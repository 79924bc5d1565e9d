"""Evaluation of expressions: the AWS documentation's examples, and DynamoDB's comparison rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shardline.local import ValidationError
from shardline.local.expressions import (
    Expressions,
    KeyCondition,
    apply_update,
    evaluate,
    project,
)

# The sample item of the developer guide's "Specifying item attributes when using expressions" page.
PRODUCT: dict[str, Any] = {
    "Id": {"N": "123"},
    "Title": {"S": "Bicycle 123"},
    "Description": {"S": "123 description"},
    "BicycleType": {"S": "Hybrid"},
    "Brand": {"S": "Brand-Company C"},
    "Price": {"N": "500"},
    "Color": {"SS": ["Red", "Black"]},
    "ProductCategory": {"S": "Bicycle"},
    "InStock": {"BOOL": True},
    "QuantityOnHand": {"NULL": True},
    "RelatedItems": {"L": [{"N": "341"}, {"N": "472"}, {"N": "649"}]},
    "Pictures": {
        "M": {
            "FrontView": {"S": "http://example.com/products/123_front.jpg"},
            "RearView": {"S": "http://example.com/products/123_rear.jpg"},
            "SideView": {"S": "http://example.com/products/123_left_side.jpg"},
        }
    },
    "ProductReviews": {
        "M": {
            "FiveStar": {
                "L": [
                    {"S": "Excellent! Can't recommend it highly enough! Buy it!"},
                    {"S": "Do yourself a favor and buy this."},
                ]
            },
            "OneStar": {"L": [{"S": "Terrible product! Do not buy this."}]},
        }
    },
    "Comment": {"S": "This product sells out quickly during the summer"},
    "Safety.Warning": {"S": "Always wear a helmet"},
}


def check(text: str, item: dict[str, Any] | None, names: Any = None, values: Any = None) -> bool:
    expressions = Expressions(names, values)
    condition = expressions.condition(text)
    expressions.check_all_used()
    return evaluate(condition, item)


# -- Projection expressions page -------------------------------------------------------------------------------


def test_projection_example_keeps_the_nesting() -> None:
    projection = Expressions(None, None).projection("Description, RelatedItems[0], ProductReviews.FiveStar")
    assert project(projection, PRODUCT) == {
        "Description": {"S": "123 description"},
        "ProductReviews": {
            "M": {
                "FiveStar": {
                    "L": [
                        {"S": "Excellent! Can't recommend it highly enough! Buy it!"},
                        {"S": "Do yourself a favor and buy this."},
                    ]
                }
            }
        },
        "RelatedItems": {"L": [{"N": "341"}]},
    }


def test_projection_of_a_dotted_name_needs_a_placeholder() -> None:
    # Expression attribute names page: "Safety.Warning" bare is a path into a map and finds nothing.
    assert project(Expressions(None, None).projection("Safety.Warning"), PRODUCT) == {}
    names = {"#sw": "Safety.Warning"}
    assert project(Expressions(names, None).projection("#sw"), PRODUCT) == {
        "Safety.Warning": {"S": "Always wear a helmet"}
    }
    one_star = Expressions({"#pr1star": "ProductReviews.OneStar"}, None).projection("#pr1star")
    assert project(one_star, PRODUCT) == {}
    nested = Expressions({"#pr": "ProductReviews", "#1star": "OneStar"}, None).projection("#pr.#1star")
    assert project(nested, PRODUCT) == {"ProductReviews": {"M": {"OneStar": PRODUCT["ProductReviews"]["M"]["OneStar"]}}}


def test_projection_merges_paths_and_compacts_list_elements() -> None:
    projection = Expressions({"#pr": "ProductReviews"}, None).projection(
        "#pr.FiveStar[1], #pr.OneStar, RelatedItems[2], RelatedItems[0], Pictures.Nope, Absent[3]"
    )
    assert project(projection, PRODUCT) == {
        "ProductReviews": {
            "M": {
                "FiveStar": {"L": [{"S": "Do yourself a favor and buy this."}]},
                "OneStar": {"L": [{"S": "Terrible product! Do not buy this."}]},
            }
        },
        "RelatedItems": {"L": [{"N": "341"}, {"N": "649"}]},
    }


def test_projection_results_are_copies() -> None:
    result = project(Expressions(None, None).projection("RelatedItems"), PRODUCT)
    result["RelatedItems"]["L"].append({"N": "1"})
    assert len(PRODUCT["RelatedItems"]["L"]) == 3


# -- Condition expressions page -----------------------------------------------------------------------------------

SPORTING = {"Id": {"N": "456"}, "Price": {"N": "650"}, "ProductCategory": {"S": "Sporting Goods"}}


def test_conditional_put_example() -> None:
    assert check("attribute_not_exists(Id)", None) is True
    assert check("attribute_not_exists(Id)", SPORTING) is False


def test_conditional_delete_example() -> None:
    values = {
        ":cat1": {"S": "Sporting Goods"},
        ":cat2": {"S": "Gardening Supplies"},
        ":lo": {"N": "500"},
        ":hi": {"N": "600"},
    }
    text = "(ProductCategory IN (:cat1, :cat2)) and (Price between :lo and :hi)"
    assert check(text, SPORTING, values=values) is False
    assert check(text, {**SPORTING, "Price": {"N": "600"}}, values=values) is True


def test_conditional_update_example() -> None:
    values = {":discount": {"N": "75"}, ":limit": {"N": "500"}}
    expressions = Expressions(None, values)
    update = expressions.update("SET Price = Price - :discount")
    condition = expressions.condition("Price > :limit")
    expressions.check_all_used()
    item: dict[str, Any] = SPORTING
    prices = []
    while evaluate(condition, item):
        item = apply_update(update, item, key={"Id": {"N": "456"}}, key_names=["Id"])
        prices.append(item["Price"]["N"])
    assert prices == ["575", "500"]


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("attribute_not_exists(Price)", None, False),
        ("attribute_exists(ProductReviews.OneStar)", None, True),
        ("attribute_exists(ProductReviews.TwoStar)", None, False),
        ("attribute_type(Color, :v_sub)", {":v_sub": {"S": "SS"}}, True),
        ("attribute_type(Color, :v_sub)", {":v_sub": {"S": "L"}}, False),
        ("begins_with(Pictures.FrontView, :v_sub)", {":v_sub": {"S": "http://"}}, True),
        ("begins_with(Pictures.FrontView, :v_sub)", {":v_sub": {"S": "https://"}}, False),
        ("contains(Color, :v_sub)", {":v_sub": {"S": "Red"}}, True),
        ("contains(Color, :v_sub)", {":v_sub": {"S": "Blue"}}, False),
        ("contains(Brand, :v_sub)", {":v_sub": {"S": "Company"}}, True),
        ("size(Brand) <= :v_sub", {":v_sub": {"N": "20"}}, True),
        ("size(Color) > :v_sub", {":v_sub": {"N": "1"}}, True),
        ("size(ProductReviews.OneStar) > :v_sub", {":v_sub": {"N": "3"}}, False),
        ("size(VideoClip) > :v_sub", {":v_sub": {"N": "64000"}}, False),
        ("contains(Color, :c) and Price <= :p", {":c": {"S": "Black"}, ":p": {"N": "500"}}, True),
        ("RelatedItems[1] = :v", {":v": {"N": "472.0"}}, True),
        ("RelatedItems[3] = :v", {":v": {"N": "472"}}, False),
    ],
)
def test_condition_examples_on_the_sample_item(text: str, values: Any, expected: bool) -> None:
    assert check(text, PRODUCT, values=values) is expected


# -- Precedence and logic --------------------------------------------------------------------------------------------

TRUTH = {":t": {"BOOL": True}, ":f": {"BOOL": False}}
LOGIC_ITEM = {"a": {"BOOL": True}, "b": {"BOOL": True}, "c": {"BOOL": False}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Developer guide, "Parentheses": a and b true, c false.
        ("a = :t OR b = :t AND c = :t", True),
        ("(a = :t OR b = :t) AND c = :t", False),
        ("NOT a = :t OR b = :t", True),
        ("NOT (a = :t OR b = :t)", False),
        ("NOT NOT a = :t", True),
        ("not c = :t and not c = :t", True),
        ("a = :t AnD (c = :t Or (b = :t AND NOT c = :t))", True),
        ("(a) = :t", True),
        ("((a) = :t AND (c = :f))", True),
    ],
)
def test_precedence_not_and_or(text: str, expected: bool) -> None:
    values = {k: v for k, v in TRUTH.items() if k in text}
    assert check(text, LOGIC_ITEM, values=values) is expected


# -- Comparison rules ---------------------------------------------------------------------------------------------

COMPARE_ITEM = {
    "n": {"N": "10"},
    "s": {"S": "abc"},
    "b": {"B": "gAE="},  # bytes 0x80 0x01: unsigned, so above 0x7f
    "ns": {"NS": ["1", "2.50"]},
    "l": {"L": [{"S": "hi"}, {"NS": ["1", "2"]}, {"L": [{"N": "3"}]}]},
    "m": {"M": {"x": {"N": "1"}}},
    "bool": {"BOOL": False},
    "nul": {"NULL": True},
    "u": {"S": "é𝄞"},
}


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("n = :v", {":v": {"N": "1E+1"}}, True),
        ("n = :v", {":v": {"S": "10"}}, False),
        ("n <> :v", {":v": {"S": "10"}}, True),
        ("n < :v", {":v": {"S": "11"}}, False),
        ("n < :v", {":v": {"N": "10.000000001"}}, True),
        ("n >= :v", {":v": {"N": "-11"}}, True),
        ("s < :v", {":v": {"S": "abd"}}, True),
        ("s > :v", {":v": {"S": "ab"}}, True),
        ("b > :v", {":v": {"B": "fw=="}}, True),  # 0x80 0x01 > 0x7f: binaries compare unsigned
        ("ns = :v", {":v": {"NS": ["2.5", "1"]}}, True),
        ("l = :v", {":v": {"L": [{"S": "hi"}, {"NS": ["2", "1"]}, {"L": [{"N": "3.0"}]}]}}, True),
        ("m = :v", {":v": {"M": {"x": {"N": "1"}}}}, True),
        ("m = :v", {":v": {"M": {"x": {"N": "1"}, "y": {"N": "1"}}}}, False),
        ("bool = :v", {":v": {"BOOL": False}}, True),
        ("nul = :v", {":v": {"NULL": True}}, True),
        ("gone = :v", {":v": {"NULL": True}}, False),
        ("gone <> :v", {":v": {"N": "1"}}, True),
        ("gone <> absent", None, True),
        ("gone = absent", None, False),
        ("gone < absent", None, False),
        ("n BETWEEN :lo AND :hi", {":lo": {"N": "10"}, ":hi": {"N": "10"}}, True),
        ("n BETWEEN :lo AND :hi", {":lo": {"S": "1"}, ":hi": {"S": "9"}}, False),
        ("n BETWEEN s AND :hi", {":hi": {"N": "99"}}, False),
        ("n IN (:a, :b)", {":a": {"S": "10"}, ":b": {"N": "10"}}, True),
        ("n IN (:a)", {":a": {"S": "10"}}, False),
        ("gone IN (:a)", {":a": {"NULL": True}}, False),
        ("contains(s, :v)", {":v": {"S": "bc"}}, True),
        ("contains(b, :v)", {":v": {"B": "AQ=="}}, True),
        ("contains(ns, :v)", {":v": {"N": "2.5"}}, True),
        ("contains(ns, :v)", {":v": {"S": "2.5"}}, False),
        ("contains(l, :v)", {":v": {"NS": ["2", "1"]}}, True),
        ("contains(l, :v)", {":v": {"S": "h"}}, False),
        ("contains(n, :v)", {":v": {"N": "1"}}, False),
        ("begins_with(s, :v)", {":v": {"S": "ab"}}, True),
        ("begins_with(b, :v)", {":v": {"B": "gA=="}}, True),
        ("begins_with(s, :v)", {":v": {"B": "YWI="}}, False),
        ("begins_with(:v, s)", {":v": {"S": "abcdef"}}, True),
        ("size(s) = :v", {":v": {"N": "3"}}, True),
        ("size(u) = :v", {":v": {"N": "3"}}, True),  # UTF-16 code units, as DynamoDB counts
        ("size(b) = :v", {":v": {"N": "2"}}, True),
        ("size(ns) = :v", {":v": {"N": "2"}}, True),
        ("size(l) = :v", {":v": {"N": "3"}}, True),
        ("size(m) = :v", {":v": {"N": "1"}}, True),
        ("size(n) < :v", {":v": {"N": "100"}}, False),
        ("size(bool) < :v", {":v": {"N": "100"}}, False),
        ("size(s) = :v", {":v": {"S": "3"}}, False),
        ("size(:v) = :three", {":v": {"S": "abc"}, ":three": {"N": "3"}}, True),
        ("size(s) IN (:a, :b)", {":a": {"N": "2"}, ":b": {"N": "3"}}, True),
        ("attribute_type(:v, :t)", {":v": {"N": "1"}, ":t": {"S": "N"}}, True),
    ],
)
def test_comparison_rules(text: str, values: Any, expected: bool) -> None:
    assert check(text, COMPARE_ITEM, values=values) is expected


@pytest.mark.parametrize("type_name", ["S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"])
def test_attribute_type_for_every_type(type_name: str) -> None:
    samples = {
        "S": {"S": "x"},
        "N": {"N": "1"},
        "B": {"B": "AA=="},
        "SS": {"SS": ["x"]},
        "NS": {"NS": ["1"]},
        "BS": {"BS": ["AA=="]},
        "M": {"M": {}},
        "L": {"L": []},
        "NULL": {"NULL": True},
        "BOOL": {"BOOL": True},
    }
    item = {f"x{name}": value for name, value in samples.items()}
    for name in samples:
        assert check(f"attribute_type(x{name}, :t)", item, values={":t": {"S": type_name}}) is (name == type_name)


def test_a_gone_item_is_an_empty_item() -> None:
    assert check("attribute_not_exists(x) AND NOT x = :v", None, values={":v": {"N": "1"}}) is True
    assert check("x <> :v", {}, values={":v": {"N": "1"}}) is True


# -- Update expressions page ---------------------------------------------------------------------------------------

KEY = {"Id": {"N": "789"}}


def run(item: dict[str, Any] | None, text: str, names: Any = None, values: Any = None) -> dict[str, Any]:
    expressions = Expressions(names, values)
    update = expressions.update(text)
    expressions.check_all_used()
    return apply_update(update, item, key=KEY, key_names=["Id"])


def test_the_update_expressions_page_walkthrough() -> None:
    item = {
        "Id": {"N": "789"},
        "ProductCategory": {"S": "Home Improvement"},
        "Price": {"N": "52"},
        "InStock": {"BOOL": True},
        "Brand": {"S": "Acme"},
    }
    item = run(item, "SET ProductCategory = :c, Price = :p", values={":c": {"S": "Hardware"}, ":p": {"N": "60"}})
    assert item["ProductCategory"] == {"S": "Hardware"}
    assert item["Price"] == {"N": "60"}
    item = run(
        item,
        "SET RelatedItems = :ri, ProductReviews = :pr",
        values={
            ":ri": {"L": [{"S": "Hammer"}]},
            ":pr": {"M": {"FiveStar": {"L": [{"S": "Best product ever!"}]}}},
        },
    )
    item = run(item, "SET RelatedItems[1] = :ri", values={":ri": {"S": "Nails"}})
    assert item["RelatedItems"] == {"L": [{"S": "Hammer"}, {"S": "Nails"}]}
    item = run(
        item,
        "SET #pr.#5star[1] = :r5, #pr.#3star = :r3",
        names={"#pr": "ProductReviews", "#5star": "FiveStar", "#3star": "ThreeStar"},
        values={":r5": {"S": "Very happy with my purchase"}, ":r3": {"L": [{"S": "Just OK - not that great"}]}},
    )
    assert item["ProductReviews"] == {
        "M": {
            "FiveStar": {"L": [{"S": "Best product ever!"}, {"S": "Very happy with my purchase"}]},
            "ThreeStar": {"L": [{"S": "Just OK - not that great"}]},
        }
    }
    item = run(item, "SET Price = Price - :p", values={":p": {"N": "15"}})
    assert item["Price"] == {"N": "45"}
    item = run(
        item,
        "SET #ri = list_append(#ri, :vals)",
        names={"#ri": "RelatedItems"},
        values={":vals": {"L": [{"S": "Screwdriver"}, {"S": "Hacksaw"}]}},
    )
    item = run(
        item,
        "SET #ri = list_append(:vals, #ri)",
        names={"#ri": "RelatedItems"},
        values={":vals": {"L": [{"S": "Chisel"}]}},
    )
    assert [e["S"] for e in item["RelatedItems"]["L"]] == ["Chisel", "Hammer", "Nails", "Screwdriver", "Hacksaw"]
    item = run(item, "SET Price = if_not_exists(Price, :p)", values={":p": {"N": "100"}})
    assert item["Price"] == {"N": "45"}
    item = run(item, "REMOVE Brand, InStock, QuantityOnHand")
    assert "Brand" not in item
    assert "InStock" not in item
    item = run(item, "REMOVE RelatedItems[1], RelatedItems[2]")
    assert [e["S"] for e in item["RelatedItems"]["L"]] == ["Chisel", "Screwdriver", "Hacksaw"]
    item = run(item, "ADD QuantityOnHand :q", values={":q": {"N": "5"}})
    item = run(item, "ADD QuantityOnHand :q", values={":q": {"N": "5"}})
    assert item["QuantityOnHand"] == {"N": "10"}
    item = run(item, "ADD Color :c", values={":c": {"SS": ["Orange", "Purple"]}})
    item = run(item, "ADD Color :c", values={":c": {"SS": ["Yellow", "Green", "Blue", "Orange"]}})
    assert item["Color"] == {"SS": ["Orange", "Purple", "Yellow", "Green", "Blue"]}
    item = run(item, "DELETE Color :p", values={":p": {"SS": ["Yellow", "Purple"]}})
    assert item["Color"] == {"SS": ["Orange", "Green", "Blue"]}
    item = run(item, "DELETE Color :p", values={":p": {"SS": ["Orange", "Green", "Blue"]}})
    assert "Color" not in item  # a set cannot be empty: the attribute goes


def test_updates_read_the_item_as_it_was() -> None:
    item = {"Id": {"N": "789"}, "a": {"N": "1"}, "b": {"N": "2"}}
    assert run(item, "SET a = b, b = a") == {"Id": {"N": "789"}, "a": {"N": "2"}, "b": {"N": "1"}}
    assert run(item, "REMOVE a SET c = a") == {"Id": {"N": "789"}, "b": {"N": "2"}, "c": {"N": "1"}}


def test_list_indexes_refer_to_the_list_before_the_update() -> None:
    # Alternator's tests, run against DynamoDB: "REMOVE a[1] SET a[3] = :v" on [0, 1, 2, 3, 4].
    item = {"Id": {"N": "789"}, "a": {"L": [{"N": str(i)} for i in range(5)]}}
    for text in ("REMOVE a[1] SET a[3] = :v", "SET a[3] = :v REMOVE a[1]"):
        result = run(item, text, values={":v": {"S": "x"}})
        assert result["a"]["L"] == [{"N": "0"}, {"N": "2"}, {"S": "x"}, {"N": "4"}]


def test_setting_past_the_end_appends_in_index_order() -> None:
    item = {"Id": {"N": "789"}, "a": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}}
    values = {":v1": {"N": "84"}, ":v2": {"N": "37"}, ":v3": {"N": "17"}, ":v4": {"N": "50"}}
    result = run(item, "SET a[84] = :v1, a[37] = :v2, a[17] = :v3, a[50] = :v4", values=values)
    assert [e["N"] for e in result["a"]["L"]] == ["0", "1", "2", "17", "37", "50", "84"]


def test_mixed_nested_update() -> None:
    # dynalite's test of the same expression, recorded against DynamoDB.
    item = {
        "Id": {"N": "789"},
        "b": {"M": {"a": {"N": "1"}, "b": {"N": "2"}, "c": {"N": "3"}}},
        "c": {"L": [{"N": "1"}, {"N": "3"}]},
    }
    result = run(
        item,
        "set b.c=((c[1])+(b.a)),b.a = Id,c[1] = Id, c[4] = b.a - b.b, c[2] = b.c add c[8] :b, c[6] :a",
        values={":a": {"N": "2"}, ":b": {"SS": ["a"]}},
    )
    assert result == {
        "Id": {"N": "789"},
        "b": {"M": {"a": {"N": "789"}, "b": {"N": "2"}, "c": {"N": "4"}}},
        "c": {"L": [{"N": "1"}, {"N": "789"}, {"N": "3"}, {"N": "-1"}, {"N": "2"}, {"SS": ["a"]}]},
    }
    updated = run(item, "set b.c = :a", values={":a": {"N": "1"}})
    assert project(Expressions(None, {":a": {"N": "1"}}).update("set b.c = :a").projection, updated) == {
        "b": {"M": {"c": {"N": "1"}}}
    }


def test_gone_items_start_from_the_key() -> None:
    assert run(None, "SET dup = Id ADD n :one", values={":one": {"N": "1"}}) == {
        "Id": {"N": "789"},
        "dup": {"N": "789"},
        "n": {"N": "1"},
    }
    # REMOVE of anything, even a nested path, does nothing on a gone item (Alternator's tests).
    assert run(None, "REMOVE x.y, z[0]") == {"Id": {"N": "789"}}
    assert run(None, "DELETE s :s", values={":s": {"SS": ["a"]}}) == {"Id": {"N": "789"}}


def test_remove_of_gone_children_does_nothing() -> None:
    item = {"Id": {"N": "789"}, "a": {"M": {}}, "b": {"L": []}}
    assert run(item, "REMOVE a.y, b[7], c") == item


def test_removing_the_last_element_leaves_an_empty_list_or_map() -> None:
    item = {"Id": {"N": "789"}, "a": {"M": {"b": {"N": "1"}}}, "l": {"L": [{"N": "1"}]}}
    assert run(item, "REMOVE a.b, l[0]") == {"Id": {"N": "789"}, "a": {"M": {}}, "l": {"L": []}}


def test_add_and_delete_on_nested_sets_and_numbers() -> None:
    item = {"Id": {"N": "789"}, "m": {"M": {"s": {"NS": ["1", "2"]}, "n": {"N": "1.5"}}}}
    result = run(
        item,
        "ADD m.n :n, m.t :t DELETE m.s :s",
        values={":n": {"N": "-0.5"}, ":t": {"BS": ["AA=="]}, ":s": {"NS": ["2.0", "1"]}},
    )
    assert result == {"Id": {"N": "789"}, "m": {"M": {"n": {"N": "1"}, "t": {"BS": ["AA=="]}}}}


def test_number_sets_union_by_value() -> None:
    item = {"Id": {"N": "789"}, "s": {"NS": ["1", "2"]}}
    assert run(item, "ADD s :s", values={":s": {"NS": ["2.00", "3"]}})["s"] == {"NS": ["1", "2", "3"]}


@pytest.mark.parametrize(
    ("left", "operator", "right", "expected"),
    [
        ("1", "+", "10000000000000000000000", "10000000000000000000001"),
        ("10000000000000000000000", "-", "1", "9999999999999999999999"),
        (
            "9E+125",
            "+",
            "9E+124",
            "990000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        ),
        ("0.1", "+", "0.2", "0.3"),
        ("1.5", "-", "1.5", "0"),
        ("-1E-130", "+", "2E-130", "0." + "0" * 129 + "1"),
        ("99999999999999999999999999999999999999", "-", "9", "99999999999999999999999999999999999990"),
    ],
)
def test_arithmetic_is_exact(left: str, operator: str, right: str, expected: str) -> None:
    result = run(None, f"SET r = :a {operator} :b", values={":a": {"N": left}, ":b": {"N": right}})
    assert result["r"] == {"N": expected}


def test_apply_update_does_not_change_its_input() -> None:
    item = copy.deepcopy(PRODUCT)
    run(
        item,
        "SET RelatedItems[0] = :v, Pictures.Fresh = :v ADD Color :c REMOVE ProductReviews.OneStar[0]",
        values={":v": {"S": "x"}, ":c": {"SS": ["Blue"]}},
    )
    assert item == PRODUCT


def test_key_attributes_cannot_be_updated() -> None:
    update = Expressions(None, {":v": {"N": "1"}}).update("SET b = :v ADD sk :v")
    with pytest.raises(ValidationError, match=r"^.*Cannot update attribute sk\. This attribute is part of the key$"):
        apply_update(update, None, key={"pk": {"S": "a"}, "sk": {"N": "1"}}, key_names=("pk", "sk"))


# -- Key conditions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sort"),
    [
        ("pk = :p", None),
        ("#pk = :p AND sk = :v", ("=", {"N": "1"})),
        (":p = pk AND :v < sk", (">", {"N": "1"})),
        ("pk = :p AND sk <= :v", ("<=", {"N": "1"})),
        ("sk >= :v AND pk = :p", (">=", {"N": "1"})),
        ("pk = :p AND sk BETWEEN :v AND :w", ("BETWEEN", {"N": "1"}, {"N": "2"})),
        ("(pk = :p) AND (begins_with(sk, :s))", ("begins_with", {"S": "x"})),
    ],
)
def test_key_conditions(text: str, sort: Any) -> None:
    values = {":p": {"S": "a"}, ":v": {"N": "1"}, ":w": {"N": "2"}, ":s": {"S": "x"}}
    used = {k: v for k, v in values.items() if k in text.replace(":p ", ":p  ") + " "}
    names = {"#pk": "pk"} if "#pk" in text else None
    expressions = Expressions(names, used)
    assert expressions.key_condition(text, partition_key="pk", sort_key="sk") == KeyCondition({"S": "a"}, sort)
    expressions.check_all_used()
