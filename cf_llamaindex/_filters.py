"""LlamaIndex ``MetadataFilters`` -> Vectorize's filter language, and a local evaluator for it.

Vectorize has eight operators (``$eq $ne $gt $gte $lt $lte $in $nin``), keys ANDed implicitly, and no
OR or NOT. Everything else is refused with an error naming the operator or condition; nothing is
silently dropped. Filters on the same key merge into one operator object (``{"$gte": 1, "$lt": 5}``).
The evaluator applies a translated filter to metadata already in hand (``node_ids`` queries,
``get_nodes``), with the same semantics, so both paths agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from cf_core.errors import InvalidInputError

REF_DOC_KEY = "ref_doc_id"
# LlamaIndex writes the ref doc id under three names; only one is stored here, so the other two
# names are accepted in filters and mean the same key.
_KEY_ALIASES = {"doc_id": REF_DOC_KEY, "document_id": REF_DOC_KEY}

_OPS: dict[FilterOperator, str] = {
    FilterOperator.EQ: "$eq", FilterOperator.NE: "$ne",
    FilterOperator.GT: "$gt", FilterOperator.GTE: "$gte",
    FilterOperator.LT: "$lt", FilterOperator.LTE: "$lte",
    FilterOperator.IN: "$in", FilterOperator.NIN: "$nin",
}
_SUPPORTED = "==, !=, >, >=, <, <=, in, nin combined with AND"

VectorizeFilter = dict[str, dict[str, Any]]


def _unsupported(what: str, item: Any) -> InvalidInputError:
    return InvalidInputError(
        f"Vectorize metadata filters cannot express {what}; supported: {_SUPPORTED}",
        field="filters", limit=_SUPPORTED, item=item)


def _leaves(filters: MetadataFilters) -> list[MetadataFilter]:
    """The filters of an AND tree; any OR/NOT (with more than one member) is refused."""
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.NOT:
        raise _unsupported("the NOT condition", "not")
    if condition == FilterCondition.OR and len(filters.filters) > 1:
        keys = ", ".join(repr(f.key) if isinstance(f, MetadataFilter) else "(group)" for f in filters.filters)
        raise _unsupported(f"the OR condition (over {keys})", "or")
    out: list[MetadataFilter] = []
    for item in filters.filters:
        out.extend(_leaves(item) if isinstance(item, MetadataFilters) else [item])
    return out


def _value(flt: MetadataFilter, op: str) -> Any:
    value = flt.value
    if op in ("$in", "$nin"):
        if not isinstance(value, list) or not value:
            raise InvalidInputError(f"filter on {flt.key!r} with operator {flt.operator.value!r} needs a "
                                    f"non-empty list, got {value!r}", field="filters", item=flt.key)
        return list(value)
    if isinstance(value, list):
        raise InvalidInputError(f"filter on {flt.key!r} with operator {flt.operator.value!r} takes one "
                                f"value, got a list", field="filters", item=flt.key)
    if value is None and op not in ("$eq", "$ne"):
        raise InvalidInputError(f"filter on {flt.key!r}: operator {flt.operator.value!r} needs a value",
                                field="filters", item=flt.key)
    return value


class NoMatch(Exception):
    """The filters contradict each other (``a == 1 AND a == 2``): nothing can match."""


@dataclass
class _KeyConditions:
    """Everything asked of one key, reduced to what one Vectorize operator object can say."""

    key: str
    allowed: list[Any] | None = None
    """Intersection of ==/in values (None: unrestricted)."""
    excluded: list[Any] = field(default_factory=list)
    lower: tuple[str, Any] | None = None
    upper: tuple[str, Any] | None = None

    def add(self, op: str, value: Any) -> None:
        if op in ("$eq", "$in"):
            values = value if op == "$in" else [value]
            base = values if self.allowed is None else self.allowed
            self.allowed = [v for v in base if any(_same(v, w) for w in values)]
        elif op in ("$ne", "$nin"):
            self.excluded.extend(value if op == "$nin" else [value])
        elif op in ("$gt", "$gte"):
            self.lower = self._tighter(self.lower, (op, value), upper=False)
        else:
            self.upper = self._tighter(self.upper, (op, value), upper=True)

    def _tighter(self, old: tuple[str, Any] | None, new: tuple[str, Any], upper: bool) -> tuple[str, Any]:
        if old is None:
            return new
        (_, old_v), (new_op, new_v) = old, new
        if not _comparable(old_v, new_v):
            raise InvalidInputError(f"range conditions on {self.key!r} mix {old_v!r} and {new_v!r}",
                                    field="filters", item=self.key)
        if old_v == new_v:
            return new if new_op in ("$gt", "$lt") else old
        return new if (new_v < old_v) == upper else old

    def emit(self) -> dict[str, Any]:
        bounds = [b for b in (self.lower, self.upper) if b is not None]
        if self.allowed is not None:
            values = [v for v in self.allowed if not any(_same(v, e) for e in self.excluded)
                      and all(_compare(v, op, bound) for op, bound in bounds)]
            if not values:
                raise NoMatch
            return {"$eq": values[0]} if len(values) == 1 else {"$in": values}
        out: dict[str, Any] = dict(bounds)
        if self.lower and self.upper and _comparable(self.lower[1], self.upper[1]):
            (lo_op, lo), (hi_op, hi) = self.lower, self.upper
            if lo > hi or (lo == hi and (lo_op == "$gt" or hi_op == "$lt")):
                raise NoMatch
        if self.excluded:
            if out:
                raise InvalidInputError(f"Vectorize cannot combine != / nin with a range on the same key "
                                        f"({self.key!r})", field="filters", item=self.key)
            out = {"$ne": self.excluded[0]} if len(self.excluded) == 1 else {"$nin": self.excluded}
        return out


def _comparable(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return (isinstance(a, numbers) and isinstance(b, numbers)) or (isinstance(a, str) and isinstance(b, str))


def to_vectorize_filter(filters: MetadataFilters | None, doc_ids: Sequence[str] | None = None,
                        ) -> VectorizeFilter | None:
    """The Vectorize filter for ``filters`` ANDed with ``ref_doc_id in doc_ids`` (None: no filter).

    Conditions on one key are combined (``a == 1 AND a in [1, 2]`` is ``a == 1``; two bounds keep the
    tighter one); a contradiction raises :class:`NoMatch`.
    """
    keys: dict[str, _KeyConditions] = {}
    for flt in _leaves(filters) if filters is not None else []:
        op = _OPS.get(flt.operator)
        if op is None:
            raise _unsupported(f"the {flt.operator.name} operator ({flt.operator.value!r}, on key "
                               f"{flt.key!r})", flt.operator.value)
        key = _KEY_ALIASES.get(flt.key, flt.key)
        keys.setdefault(key, _KeyConditions(key)).add(op, _value(flt, op))
    if doc_ids:
        keys.setdefault(REF_DOC_KEY, _KeyConditions(REF_DOC_KEY)).add("$in", list(doc_ids))
    return {key: conds.emit() for key, conds in keys.items()} or None


# -- local evaluation --------------------------------------------------------------------------

_MISSING = object()


def _lookup(metadata: dict[str, Any] | None, path: str) -> Any:
    cur: Any = metadata
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _compare(value: Any, op: str, bound: Any) -> bool:
    numeric = isinstance(value, int | float) and isinstance(bound, int | float)
    if not (numeric or (isinstance(value, str) and isinstance(bound, str))):
        return False
    if op == "$gt":
        return bool(value > bound)
    if op == "$gte":
        return bool(value >= bound)
    if op == "$lt":
        return bool(value < bound)
    return bool(value <= bound)


def _holds(value: Any, op: str, arg: Any) -> bool:
    # As in Vectorize, a vector with no comparable value at the key (absent, a list or an object)
    # matches no operator at all, not even $ne / $nin.
    if value is _MISSING or isinstance(value, list | dict):
        return False
    if op == "$eq":
        return _same(value, arg)
    if op == "$ne":
        return not _same(value, arg)
    if op == "$in":
        return any(_same(value, a) for a in arg)
    if op == "$nin":
        return not any(_same(value, a) for a in arg)
    return _compare(value, op, arg)


def matches(flt: VectorizeFilter | None, metadata: dict[str, Any] | None) -> bool:
    """Whether ``metadata`` passes ``flt`` as Vectorize evaluates it (full strings, not 64-byte prefixes)."""
    if not flt:
        return True
    return all(_holds(_lookup(metadata, key), op, arg)
               for key, ops in flt.items() for op, arg in ops.items())
