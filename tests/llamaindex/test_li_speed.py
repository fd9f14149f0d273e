"""The add path's shortcuts keep what is stored and what is refused unchanged.

- ``_metadata_dict`` dumps the node from a copy without its embedding instead of dumping the
  embedding and dropping it, and writes ``_node_content`` compactly: the metadata must equal
  LlamaIndex's ``node_to_metadata_dict`` key for key and in order (less the two duplicate ref-doc
  keys this store never writes), ``_node_content`` the same JSON document.
- ``add`` leaves the 10 KiB check to the core's validation of the whole write and turns its error
  into the one naming the node; ``ingest_nodes`` does the same. Nothing may be sent either way.
- ``node_to_vector`` hands the node's embedding over without copying it: the core's validation
  copies it, so the node is never changed and the wire carries the same numbers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from li_support import EMBED_DIMS, EMBED_MODEL, Wire, make_store
from llama_index.core.schema import (
    Document,
    ImageNode,
    IndexNode,
    NodeRelationship,
    RelatedNodeInfo,
    TextNode,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.errors import InvalidInputError
from cf_llamaindex._nodes import _metadata_dict, node_metadata, vector_to_node


def _source(doc: str) -> dict[NodeRelationship, RelatedNodeInfo]:
    return {NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc, metadata={"n": 1})}


NODES: list[Any] = [
    TextNode(id_="plain", text="plain"),
    TextNode(id_="a", text="with ü and \"quotes\"\n", embedding=[0.5, -1.0, 1e-30],
             metadata={"genre": "x", "n": 3, "f": 0.25, "none": None, "nested": {"k": [1, 2]}},
             relationships=_source("doc-1"), excluded_embed_metadata_keys=["n"], start_char_idx=2, end_char_idx=9),
    # user keys named like LlamaIndex's own: overwritten (and the two duplicates dropped) as before
    TextNode(id_="b", text="t", metadata={"doc_id": "mine", "document_id": "mine", "ref_doc_id": "mine",
                                          "_node_type": "mine", "keep": True}, relationships=_source("doc-2")),
    Document(doc_id="doc", text="a whole document", metadata={"source": "file.txt"}, embedding=[1.0, 2.0]),
    ImageNode(id_="image", text="caption", image="aGVsbG8=", image_mimetype="image/png", embedding=[0.1]),
    IndexNode(id_="index-node", text="points elsewhere", index_id="other-index", embedding=[0.0, 1.0]),
]


@pytest.mark.parametrize("node", NODES, ids=lambda n: f"{type(n).__name__}:{n.node_id}")
def test_metadata_equals_llamaindex_s_own_less_the_duplicate_keys(node: Any) -> None:
    embedding_before = None if node.embedding is None else list(node.embedding)
    expected = node_to_metadata_dict(node, remove_text=False, flat_metadata=False)
    del expected["document_id"], expected["doc_id"]
    got = _metadata_dict(node)
    content, expected_content = got.pop("_node_content"), expected.pop("_node_content")
    assert list(got.items()) == list(expected.items())  # same keys, values and order
    # the same JSON document (written compactly), the embedding left out as LlamaIndex leaves it out
    assert json.loads(content) == json.loads(expected_content)
    assert len(content) <= len(expected_content) and json.loads(content)["embedding"] is None
    got["_node_content"] = content
    assert node.embedding == embedding_before  # the node itself keeps its embedding
    back = vector_to_node(got, node.node_id)
    llama_back = metadata_dict_to_node(node_to_metadata_dict(node))  # LlamaIndex's own round trip
    assert type(back) is type(llama_back) and back.model_dump() == llama_back.model_dump()
    assert back.node_id == node.node_id and back.get_content() == node.get_content()


def test_add_sends_the_embedding_unchanged_and_leaves_the_node_alone(client: CloudflareClient,
                                                                     aclient: AsyncCloudflareClient,
                                                                     wire: Wire) -> None:
    store = make_store(client, aclient, "speed-add")
    embedding = [0.1 * i - 1.5 for i in range(EMBED_DIMS)]
    embedding[3] = 2  # an int: sent as a number, the node keeps its own list as it was
    node = TextNode(id_="n1", text="hello", embedding=embedding)
    node_list = node.embedding
    wire.clear()
    assert store.add([node]) == ["n1"]
    assert node.embedding is node_list and node.embedding == embedding
    (sent,) = wire.to("/upsert")
    line = json.loads(sent.body.splitlines()[0])
    assert line["values"] == [float(v) for v in embedding]
    stored = store.get_nodes(["n1"])[0]
    assert stored.embedding == pytest.approx(embedding, rel=1e-6)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e39, True])
def test_add_refuses_bad_values_before_sending(client: CloudflareClient, aclient: AsyncCloudflareClient,
                                               wire: Wire, bad: Any) -> None:
    store = make_store(client, aclient, "speed-bad-values")
    ok = TextNode(id_="ok", text="fine", embedding=[0.5] * EMBED_DIMS)
    node = TextNode(id_="bad", text="x", embedding=[0.5] * EMBED_DIMS)
    node.embedding[7] = bad  # after validation, as code holding the node could
    wire.clear()
    with pytest.raises(InvalidInputError, match=r"vectors\[1\] \(id 'bad'\): values\[7\]") as err:
        store.add([ok, node])
    assert err.value.field == "values"
    assert wire.to("/upsert") == []


def _huge(node_id: str, embedding: list[float] | None = None) -> TextNode:
    return TextNode(id_=node_id, text="é" * 6000, embedding=embedding)


def _assert_names_the_node(err: InvalidInputError, node_id: str) -> None:
    assert (err.field, err.limit, err.item) == ("metadata", 10240, node_id)
    message = str(err)
    assert f"node {node_id!r}" in message and "10240" in message and "chunk_size" in message
    size = int(message.split(" is ", 1)[1].split(" bytes", 1)[0])
    assert size == len(json.dumps(node_metadata(_huge(node_id), check_size=False), separators=(",", ":"),
                                  ensure_ascii=False).encode())


async def test_oversized_metadata_names_the_node_on_every_write_path(client: CloudflareClient,
                                                                    aclient: AsyncCloudflareClient,
                                                                    wire: Wire) -> None:
    store = make_store(client, aclient, "speed-big")
    fine = [TextNode(id_=f"fine-{i}", text="ok", embedding=[1.0] * EMBED_DIMS) for i in range(3)]
    wire.clear()
    with pytest.raises(InvalidInputError) as err:
        store.add([*fine, _huge("huge-sync", [1.0] * EMBED_DIMS)])
    _assert_names_the_node(err.value, "huge-sync")
    with pytest.raises(InvalidInputError) as err:
        await store.async_add([_huge("huge-async", [1.0] * EMBED_DIMS), *fine])
    _assert_names_the_node(err.value, "huge-async")
    with pytest.raises(InvalidInputError) as err:
        store.ingest_nodes([TextNode(id_="t", text="ok"), _huge("huge-ingest")], EMBED_MODEL)
    _assert_names_the_node(err.value, "huge-ingest")
    with pytest.raises(InvalidInputError) as err:
        await store.aingest_nodes([_huge("huge-aingest")], EMBED_MODEL)
    _assert_names_the_node(err.value, "huge-aingest")
    assert wire == []  # nothing sent: not the fine nodes, not an embedding request


def test_other_metadata_errors_pass_through_unchanged(client: CloudflareClient, aclient: AsyncCloudflareClient,
                                                      wire: Wire) -> None:
    store = make_store(client, aclient, "speed-keys")
    wire.clear()
    with pytest.raises(InvalidInputError, match=r"vectors\[0\] \(id 'dotted'\): metadata key 'a\.b'") as err:
        store.add([TextNode(id_="dotted", text="x", metadata={"a.b": 1}, embedding=[1.0] * EMBED_DIMS)])
    assert err.value.field == "metadata" and err.value.item == 0
    assert wire == []
