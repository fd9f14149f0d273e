from li_support import make_store, Wire
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.vector_stores.types import VectorStoreQuery

def test_dbg(client, aclient, embed_model, wire):
    store = make_store(client, aclient, "rag", metadata_indexes={"topic": "string"})
    index = VectorStoreIndex.from_documents([Document(text="The lighthouse is blue.", metadata={"topic": "x"})], storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed_model)
    print(index.vector_store is store, client.vectorize.all_vector_ids("rag"))
    wire.clear()
    q = embed_model.get_query_embedding("What colour is the lighthouse?")
    print(store.query(VectorStoreQuery(query_embedding=q, similarity_top_k=1)))
    for s in wire: print(s.url, s.body[:300])
    assert 0
