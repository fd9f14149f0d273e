"""Vectorize's error answers.

Two families exist on the wire: index-level errors carry ``vectorize.index.*`` texts with codes
3000-3005, and vector-level errors carry ``VECTOR_<OP>_ERROR (code = 400xx): ...`` texts. Codes
and texts the reference records (3000, 3002, 40006, 40012, 40025, 40026) are used verbatim; every
other code here is this emulator's choice (UNCONFIRMED, listed in cf_core/local/README.md).
All of them answer HTTP 400, as observed for ``vectorize.index.not_found``.
"""

from __future__ import annotations

from ..wire import ApiError

STATUS = 400

# index level (3000 and 3002 are recorded; the rest are this emulator's choices)
INDEX_NOT_FOUND = 3000
INDEX_INVALID_CONFIG = 3001
INDEX_DUPLICATE = 3002
INDEX_INVALID_NAME = 3004
METADATA_INDEX_INVALID = 3010
METADATA_INDEX_DUPLICATE = 3011
METADATA_INDEX_LIMIT = 3012
METADATA_INDEX_NOT_FOUND = 3013

# insert / upsert (40012 is recorded)
INSERT_EMPTY = 40001
INSERT_UNPARSABLE = 40002
INSERT_TOO_MANY = 40003
INSERT_INVALID_VECTOR = 40004
INSERT_INVALID_ID = 40005
INSERT_INVALID_NAMESPACE = 40007
INSERT_INVALID_METADATA = 40008
INSERT_METADATA_TOO_LARGE = 40009
INSERT_NON_FINITE = 40010
INSERT_DIMENSIONS = 40012

# query (40006, 40025 and 40026 are recorded)
QUERY_DIMENSIONS = 40006
QUERY_TOPK_RANGE = 40024
QUERY_TOPK_CAP = 40025
QUERY_PARSE = 40026
QUERY_INVALID_FILTER = 40027
QUERY_VECTOR_ID_NOT_FOUND = 40028
QUERY_NON_FINITE = 40029

# other vector operations (all this emulator's choices)
GET_INVALID = 40030
DELETE_INVALID = 40031
LIST_INVALID_COUNT = 40032
LIST_INVALID_CURSOR = 40033


def index_error(code: int, kind: str, detail: str) -> ApiError:
    """``vectorize.index.<kind> - <detail>``."""
    return ApiError(STATUS, code, f"vectorize.{kind} - {detail}")


def not_found(name: str) -> ApiError:
    return index_error(INDEX_NOT_FOUND, "index.not_found", f'Index name "{name}"')


def vector_error(op: str, code: int, message: str) -> ApiError:
    """``VECTOR_<OP>_ERROR (code = N): message`` as the binding and REST API word it."""
    return ApiError(STATUS, code, f"VECTOR_{op}_ERROR (code = {code}): {message}")


def insert_error(code: int, message: str) -> ApiError:
    return vector_error("INSERT", code, message)


def query_error(code: int, message: str) -> ApiError:
    return vector_error("QUERY", code, message)
