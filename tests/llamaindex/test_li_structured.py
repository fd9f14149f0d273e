"""Structured output: forced tool call on a dependable tool-calling model, JSON mode on models whose
tool calling is not dependable (or absent). The stand-in fills schemas with valid values, so the
checks are: which mechanism went over the wire, and that a valid nested object came back."""

# No `from __future__ import annotations`: pydantic and FunctionTool read annotations at runtime.

import pytest
from li_support import CHAT_MODEL, JSON_ONLY_MODEL, Wire
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, Field

from cf_core import AsyncCloudflareClient, CloudflareClient, catalog
from cf_llamaindex import CloudflareWorkersAI
from cf_llamaindex._structured import use_json_mode

VISION_MODEL = "@cf/meta/llama-3.2-11b-vision-instruct"  # tools accepted, tool calling not dependable


class Ingredient(BaseModel):
    name: str = Field(description="Ingredient name")
    grams: int = Field(description="Weight in grams")


class Recipe(BaseModel):
    """A recipe extracted from text."""

    title: str = Field(description="Name of the dish")
    servings: int = Field(description="Number of servings")
    ingredients: list[Ingredient] = Field(description="What goes in")
    tags: list[str] = Field(description="Short labels")


PROMPT = PromptTemplate("Extract the recipe from this text: {text}")
TEXT = "Pancakes for 4 servings: 200 grams of flour, 300 grams of milk and 50 grams of sugar. Tags: sweet, breakfast."


def _check(recipe: object) -> None:
    assert isinstance(recipe, Recipe)
    assert isinstance(recipe.servings, int)
    assert recipe.ingredients and all(isinstance(i, Ingredient) for i in recipe.ingredients)
    assert all(isinstance(t, str) for t in recipe.tags)


def test_catalog_decides_the_mechanism() -> None:
    assert use_json_mode("auto", catalog.info(CHAT_MODEL)) is False
    assert use_json_mode("auto", catalog.info(VISION_MODEL)) is True
    assert use_json_mode("auto", catalog.info(JSON_ONLY_MODEL)) is True
    assert use_json_mode("json", catalog.info(CHAT_MODEL)) is True
    assert use_json_mode("tools", catalog.info(VISION_MODEL)) is False
    with pytest.raises(ValueError, match="JSON mode"):
        use_json_mode("json", catalog.info("@cf/meta/llama-3.2-3b-instruct"))


def test_tool_calling_model_uses_a_forced_tool_call(llm: CloudflareWorkersAI, wire: Wire) -> None:
    recipe = llm.structured_predict(Recipe, PROMPT, text=TEXT)
    _check(recipe)
    body = wire.chat_bodies()[-1]
    assert [t["function"]["name"] for t in body["tools"]] == ["Recipe"]
    assert body["tool_choice"] == "required"
    assert "response_format" not in body
    assert "$ref" not in str(body["tools"])  # nested model inlined


def test_json_fallback_model_uses_json_mode(client: CloudflareClient, wire: Wire) -> None:
    llm = CloudflareWorkersAI(model=JSON_ONLY_MODEL, client=client)
    recipe = llm.structured_predict(Recipe, PROMPT, text=TEXT)
    _check(recipe)
    body = wire.chat_bodies()[-1]
    assert "tools" not in body
    schema = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert schema["properties"]["ingredients"]["items"]["properties"]["grams"]["type"] == "integer"
    assert TEXT in body["messages"][-1]["content"]  # the prompt was formatted and sent


def test_unreliable_tool_model_uses_json_mode(client: CloudflareClient, wire: Wire) -> None:
    client.workers_ai.chat(VISION_MODEL, prompt="agree")  # the model's one-time licence agreement
    llm = CloudflareWorkersAI(model=VISION_MODEL, client=client)
    assert llm.metadata.is_function_calling_model  # agents may still use its tools
    _check(llm.structured_predict(Recipe, PROMPT, text=TEXT))
    body = wire.chat_bodies()[-1]
    assert "response_format" in body and "tools" not in body


def test_json_mode_can_be_chosen_for_a_tool_model(client: CloudflareClient, wire: Wire) -> None:
    llm = CloudflareWorkersAI(model=CHAT_MODEL, client=client, structured_output_mode="json")
    _check(llm.structured_predict(Recipe, PROMPT, text=TEXT))
    assert "response_format" in wire.chat_bodies()[-1]


async def test_async_structured_predict_both_paths(client: CloudflareClient, aclient: AsyncCloudflareClient) -> None:
    for model in (CHAT_MODEL, JSON_ONLY_MODEL):
        llm = CloudflareWorkersAI(model=model, client=client, async_client=aclient)
        _check(await llm.astructured_predict(Recipe, PROMPT, text=TEXT))


def test_stream_structured_predict_both_paths(client: CloudflareClient) -> None:
    for model in (CHAT_MODEL, JSON_ONLY_MODEL):
        llm = CloudflareWorkersAI(model=model, client=client)
        items = list(llm.stream_structured_predict(Recipe, PROMPT, text=TEXT))
        assert items
        _check(items[-1])


async def test_as_structured_llm(client: CloudflareClient, aclient: AsyncCloudflareClient) -> None:
    messages = [ChatMessage(role=MessageRole.USER, content=f"Extract the recipe: {TEXT}")]
    for model in (CHAT_MODEL, JSON_ONLY_MODEL):
        sllm = CloudflareWorkersAI(model=model, client=client, async_client=aclient).as_structured_llm(Recipe)
        response = sllm.chat(messages)
        _check(response.raw)
        assert Recipe.model_validate_json(response.message.content or "") == response.raw
        _check((await sllm.achat(messages)).raw)


def test_invalid_json_answer_is_a_clear_error(client: CloudflareClient) -> None:
    from llama_index.core.base.llms.types import ChatResponse

    from cf_llamaindex._structured import parse_structured

    bad = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content='{"title": 3}'), raw={"json": None})
    with pytest.raises(ValueError, match="not a valid Recipe"):
        parse_structured(Recipe, bad)
    fenced = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content='```json\n{"title": "x", '
                          '"servings": 1, "ingredients": [], "tags": []}\n```'), raw={})
    assert parse_structured(Recipe, fenced) == Recipe(title="x", servings=1, ingredients=[], tags=[])
