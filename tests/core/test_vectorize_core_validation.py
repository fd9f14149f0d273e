"""Local validation of Vectorize input: every rule raises InvalidInputError naming item, field and limit,
and the builders raise it before returning anything that could be sent."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from cf_core.errors import InvalidInputError
from cf_core.vectorize import Vector, indexes, reads, vectors
from cf_core.vectorize import validation as V
from cf_core.vectorize.vectors import NDJSON, encode_ndjson, write_call


def vec(i: int | str = 0, dims: int = 3, **extra: Any) -> dict[str, Any]:
    return {"id": str(i), "values": [0.1 * (k + 1) for k in range(dims)], **extra}


# -- ids, namespaces, index names -------------------------------------------------------------


def test_id_limit_counts_utf8_bytes() -> None:
    ok = "é" * 32  # 64 bytes
    assert V.coerce_vectors([vec(ok)])[0].id == ok
    with pytest.raises(InvalidInputError) as err:
        V.coerce_vectors([vec("a"), vec("é" * 33)])
    e = err.value
    assert (e.field, e.limit, e.item) == ("id", 64, 1)
    assert "vectors[1]" in str(e) and "66 bytes" in str(e) and "64 bytes" in str(e)


@pytest.mark.parametrize("bad", ["", 5, None])
def test_id_must_be_non_empty_string(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"vectors\[0\]: id must be a non-empty string"):
        V.coerce_vectors([{"id": bad, "values": [1.0]}])


def test_namespace_limit() -> None:
    assert V.coerce_vectors([vec(namespace="n" * 64)])[0].namespace == "n" * 64
    with pytest.raises(InvalidInputError) as err:
        V.coerce_vectors([vec("x", namespace="n" * 65)])
    assert err.value.field == "namespace" and err.value.limit == 64
    assert "'x'" in str(err.value) and "65 bytes" in str(err.value)
    with pytest.raises(InvalidInputError, match="namespace"):
        V.coerce_vectors([vec(namespace="")])


@pytest.mark.parametrize("name", ["", "a/b", "x" * 65, "..", 3])
def test_bad_index_names(name: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        V.check_index_name(name)
    assert err.value.field == "index"


def test_index_name_at_limit() -> None:
    assert V.check_index_name("i" * 64) == "i" * 64


# -- metadata ---------------------------------------------------------------------------------


@pytest.mark.parametrize("metadata,needle", [
    ({"": 1}, "must not be empty"),
    ({"a.b": 1}, 'must not contain "."'),
    ({'a"b': 1}, "must not contain"),
    ({"$a": 1}, 'must not start with "$"'),
    ({"outer": {"in.ner": 1}}, "outer.'in.ner'"),
    ({"outer": [{"$x": 1}]}, "must not start with"),
])
def test_metadata_key_rules(metadata: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        V.coerce_vectors([vec("k", metadata=metadata)])
    assert err.value.field == "metadata" and err.value.item == 0
    assert needle in str(err.value) and "'k'" in str(err.value)


def test_metadata_size_limit_is_compact_json_bytes() -> None:
    overhead = len(json.dumps({"t": ""}, separators=(",", ":")))
    at_limit = {"t": "x" * (10 * 1024 - overhead)}
    assert V.coerce_vectors([vec(metadata=at_limit)])[0].metadata == at_limit
    with pytest.raises(InvalidInputError) as err:
        V.coerce_vectors([vec(metadata={"t": "x" * (10 * 1024 - overhead + 1)})])
    assert err.value.limit == 10 * 1024 and "10241 bytes" in str(err.value)


def test_metadata_rejects_nan_and_non_json() -> None:
    with pytest.raises(InvalidInputError, match="finite"):
        V.coerce_vectors([vec(metadata={"x": math.nan})])
    with pytest.raises(InvalidInputError, match="JSON"):
        V.coerce_vectors([vec(metadata={"x": object()})])
    with pytest.raises(InvalidInputError, match="mapping"):
        V.coerce_vectors([vec(metadata=["a"])])


def test_nested_metadata_is_allowed() -> None:
    meta = {"pandas": {"nice": 42}, "tags": ["a", "b"], "ok": True, "n": None}
    assert V.coerce_vectors([vec(metadata=meta)])[0].metadata == meta


# -- values and shapes ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True, "1", None, 3.5e38, 10**400])
def test_values_must_be_finite_float32(bad: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        V.coerce_vectors([{"id": "v", "values": [0.0, bad, 1.0]}])
    assert err.value.field == "values" and "values[1]" in str(err.value) and "'v'" in str(err.value)


def test_values_coerced_to_float_and_copied() -> None:
    raw = [1, 2, 3]
    out = V.coerce_vectors([{"id": "a", "values": raw}])[0]
    assert out.values == [1.0, 2.0, 3.0] and all(type(v) is float for v in out.values)
    floats = [0.5, 0.25]
    assert V.coerce_vectors([{"id": "b", "values": floats}])[0].values is not floats


def test_numpy_arrays_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    out = V.coerce_vectors([{"id": "a", "values": np.array([0.5, 1.5], dtype=np.float32)}])[0]
    assert out.values == [0.5, 1.5]


def test_empty_values_rejected() -> None:
    with pytest.raises(InvalidInputError, match="must not be empty"):
        V.coerce_vectors([{"id": "a", "values": []}])


def test_lengths_must_agree_with_each_other_and_dimensions() -> None:
    with pytest.raises(InvalidInputError) as err:
        V.coerce_vectors([vec("a", 3), vec("b", 4)])
    assert err.value.item == 1 and "first vector" in str(err.value) and err.value.limit == 3
    with pytest.raises(InvalidInputError) as err:
        V.coerce_vectors([vec("a", 3)], dimensions=4)
    assert "expected 4 (dimensions)" in str(err.value)


def test_duplicate_ids_in_one_write_rejected() -> None:
    with pytest.raises(InvalidInputError, match=r"vectors\[2\].*also appears at vectors\[0\]"):
        V.coerce_vectors([vec("a"), vec("b"), vec("a")])


def test_unknown_vector_fields_and_types() -> None:
    with pytest.raises(InvalidInputError, match="unknown field"):
        V.coerce_vectors([{"id": "a", "values": [1.0], "value": 2}])
    with pytest.raises(InvalidInputError, match="needs 'id' and 'values'"):
        V.coerce_vectors([{"id": "a"}])
    with pytest.raises(InvalidInputError, match="Vector or a mapping"):
        V.coerce_vectors([("a", [1.0])])
    with pytest.raises(InvalidInputError, match="sequence"):
        V.coerce_vectors({"id": "a", "values": [1.0]})


def test_vector_models_are_validated_too() -> None:
    bad = Vector.model_construct(id="x" * 65, values=[1.0], metadata=None, namespace=None)
    with pytest.raises(InvalidInputError, match="65 bytes"):
        V.coerce_vectors([bad])


# -- query parameters -------------------------------------------------------------------------


@pytest.mark.parametrize("top_k,values,meta,ok", [
    (100, False, "indexed", True), (101, False, "none", False), (0, False, "none", False),
    (50, True, "none", True), (51, True, "none", False), (51, False, "all", False), (50, False, "all", True),
])
def test_top_k_caps(top_k: int, values: bool, meta: str, ok: bool) -> None:
    if ok:
        assert V.check_top_k(top_k, values, meta) == top_k
    else:
        with pytest.raises(InvalidInputError) as err:
            V.check_top_k(top_k, values, meta)
        assert err.value.field == "top_k" and err.value.limit in (V.MAX_TOP_K, V.MAX_TOP_K_WITH_VALUES)


@pytest.mark.parametrize("bad", [True, False, "some", None])
def test_return_metadata_values(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="return_metadata"):
        reads.query("idx", [1.0], return_metadata=bad)


def test_query_needs_exactly_one_target() -> None:
    with pytest.raises(InvalidInputError, match="exactly one"):
        reads.query("idx")
    with pytest.raises(InvalidInputError, match="exactly one"):
        reads.query("idx", [1.0], vector_id="a")


def test_query_body_shape() -> None:
    call = reads.query("idx", [1, 2], top_k=7, return_values=True, return_metadata="all", namespace="ns",
                       filter={"g": {"$in": ("a", "b")}})
    assert call.request.path == "/vectorize/v2/indexes/idx/query" and call.request.product == "vectorize"
    assert call.request.json == {"vector": [1.0, 2.0], "topK": 7, "returnValues": True, "returnMetadata": "all",
                                 "namespace": "ns", "filter": {"g": {"$in": ["a", "b"]}}}
    by_id = reads.query("idx", vector_id="doc-1").request.json
    assert by_id == {"vectorId": "doc-1", "topK": 5, "returnValues": False, "returnMetadata": "none"}


@pytest.mark.parametrize("kwargs,field", [
    ({"batch_size": 5001}, "batch_size"), ({"batch_size": 0}, "batch_size"), ({"concurrency": 0}, "concurrency"),
    ({"wait_timeout": -1}, "wait_timeout"), ({"dimensions": 0}, "dimensions"), ({"dimensions": 1537}, "dimensions"),
])
def test_write_parameters(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        vectors.upsert("idx", [vec()], **kwargs)
    assert err.value.field == field


def test_builders_raise_before_returning_a_generator() -> None:
    """A bad write must fail at call time (the facade calls builders eagerly), not when iterated."""
    with pytest.raises(InvalidInputError):
        vectors.insert("idx", [vec("a"), vec("b", metadata={"$bad": 1})])
    with pytest.raises(InvalidInputError):
        vectors.delete_by_ids("idx", ["x" * 65])
    with pytest.raises(InvalidInputError):
        reads.get_by_ids("idx", [""])
    with pytest.raises(InvalidInputError):
        reads.all_vector_ids("idx", page_size=1001)
    with pytest.raises(InvalidInputError):
        vectors.create_metadata_index("idx", "a..b", "string")
    with pytest.raises(InvalidInputError):
        vectors.create_metadata_index("idx", "genre", "text")


@pytest.mark.parametrize("kwargs,needle", [
    ({}, "dimensions= (with metric=) or preset="),
    ({"dimensions": 3, "metric": "manhattan"}, "metric must be one of"),
    ({"preset": "@cf/unknown"}, "unknown preset"),
    ({"preset": "@cf/baai/bge-small-en-v1.5", "dimensions": 768}, "384 dimensions"),
    ({"preset": "@cf/baai/bge-small-en-v1.5", "metric": "euclidean"}, "cosine"),
])
def test_create_index_arguments(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        indexes.create_index("idx", **kwargs)


def test_create_index_bodies() -> None:
    # create_index is an operation whose first step is the create call
    plain = next(indexes.create_index("idx", dimensions=8, metric="dot-product", description="d")).request.json
    assert plain == {"name": "idx", "config": {"dimensions": 8, "metric": "dot-product"}, "description": "d"}
    preset = next(indexes.create_index("p", preset="@cf/baai/bge-base-en-v1.5", dimensions=768)).request.json
    assert preset == {"name": "p", "config": {"preset": "@cf/baai/bge-base-en-v1.5"}}


# -- NDJSON -----------------------------------------------------------------------------------


def test_ndjson_one_compact_object_per_line() -> None:
    vs = V.coerce_vectors([vec("a", metadata={"t": "ünï"}, namespace="ns"), vec("b")])
    body = encode_ndjson(vs)
    lines = body.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 3  # newline-terminated
    assert json.loads(lines[0]) == {"id": "a", "values": [0.1, 0.2, 0.30000000000000004], "metadata": {"t": "ünï"},
                                    "namespace": "ns"}
    assert json.loads(lines[1]) == {"id": "b", "values": [0.1, 0.2, 0.30000000000000004]}
    assert " " not in lines[1] and "ünï".encode() in body


def test_write_call_is_ndjson_to_the_right_path() -> None:
    call = write_call("insert", "my index", V.coerce_vectors([vec("a")]))
    assert call.request.path == "/vectorize/v2/indexes/my%20index/insert"
    assert call.request.headers["content-type"] == NDJSON and call.request.json is None
    assert call.request.product == "vectorize"


def test_index_info_from_a_preset_only_config() -> None:
    from cf_core.vectorize import IndexInfo

    info = IndexInfo.from_wire({"name": "p", "config": {"preset": "@cf/baai/bge-large-en-v1.5"}})
    assert (info.dimensions, info.metric) == (1024, "cosine")
