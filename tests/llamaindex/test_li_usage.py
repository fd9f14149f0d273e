"""track_usage(): every Workers AI call made by the package inside the block is counted."""

from __future__ import annotations

from li_support import CHAT_MODEL, EMBED_MODEL, Wire
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage

from cf_core import CloudflareClient
from cf_llamaindex import CloudflareWorkersAI, CloudflareWorkersAIEmbedding, track_usage


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"sunny in {city}"


def test_counts_calls_of_every_component(llm: CloudflareWorkersAI, embed_model: CloudflareWorkersAIEmbedding,
                                         wire: Wire) -> None:
    llm.chat([ChatMessage(content="outside the block?")])
    with track_usage() as usage:
        first = llm.chat([ChatMessage(content="What is a kite?")])
        list(llm.stream_chat([ChatMessage(content="What is a kite?")]))
        embed_model.get_text_embedding_batch(["a", "b", "c"])
        with track_usage() as inner:
            llm.complete("Name a kite.")
    by_model = usage.by_model()
    assert by_model[CHAT_MODEL].requests == 3 and by_model[EMBED_MODEL].requests == 1
    assert by_model[CHAT_MODEL].prompt_tokens >= 2 * first.raw["usage"]["prompt_tokens"]
    assert usage.totals().neurons > 0 and usage.totals().usd > 0
    assert inner.totals().requests == 1
    assert len(wire) == 5  # the call before the block was not counted


async def test_follows_agent_tasks(llm: CloudflareWorkersAI, wire: Wire) -> None:
    with track_usage() as usage:
        agent = FunctionAgent(tools=[get_weather], llm=llm)
        await agent.run("What is the weather in Oslo?")
    assert usage.totals().requests == len(wire.chat_bodies()) == 2


def test_gateway_cache_hits_cost_no_neurons(client: CloudflareClient) -> None:
    llm = CloudflareWorkersAI(model=CHAT_MODEL, client=client, ai_gateway={"id": "cache-gw", "cache_ttl": 600})
    message = [ChatMessage(content="What is a kite? A kite is a tethered aircraft.")]
    with track_usage() as usage:
        first = llm.chat(message)
        second = llm.chat(message)
    assert second.raw["gateway"]["cache_status"] == "HIT"
    totals = usage.totals()
    assert (totals.requests, totals.cache_hits) == (2, 1)
    assert totals.neurons > 0
    assert totals.neurons == first.raw["usage"]["neurons"]  # the cached answer added none
