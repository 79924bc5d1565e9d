"""DynamoDB's expression language over typed AttributeValues: condition, filter, update, projection and key
condition expressions, and the legacy conditional parameters, parsed to immutable trees and evaluated by pure
functions with DynamoDB's semantics and error messages.

Examples:
    >>> from shardline.local.expressions import Expressions, evaluate
    >>> ex = Expressions({"#c": "Color"}, {":v": {"S": "Red"}})
    >>> evaluate(ex.condition("contains(#c, :v)"), {"Color": {"SS": ["Red", "Black"]}})
    True
"""

from __future__ import annotations

from ._evaluate import apply_update as apply_update
from ._evaluate import evaluate as evaluate
from ._evaluate import order as order
from ._evaluate import project as project
from ._evaluate import values_equal as values_equal
from ._legacy import attribute_updates as attribute_updates
from ._legacy import attributes_to_get as attributes_to_get
from ._legacy import check_expression_parameters as check_expression_parameters
from ._legacy import expected_condition as expected_condition
from ._legacy import filter_condition as filter_condition
from ._legacy import key_conditions as key_conditions
from ._parser import Condition as Condition
from ._parser import Expressions as Expressions
from ._parser import KeyCondition as KeyCondition
from ._parser import Projection as Projection
from ._parser import Update as Update
from ._reserved import RESERVED_WORDS as RESERVED_WORDS
from ._reserved import is_reserved as is_reserved
from ._tree import Path as Path

__all__ = [
    "RESERVED_WORDS",
    "Condition",
    "Expressions",
    "KeyCondition",
    "Path",
    "Projection",
    "Update",
    "apply_update",
    "attribute_updates",
    "attributes_to_get",
    "check_expression_parameters",
    "evaluate",
    "expected_condition",
    "filter_condition",
    "is_reserved",
    "key_conditions",
    "order",
    "project",
    "values_equal",
]
