"""with_structured_output: three methods, include_raw, nested schemas, the unreliable-tools fallback,
one model call per invoke, and JSON mode on a stream (one non-streaming call).

The stand-in model fills schemas with schema-valid values taken from the prompt; the assertions are
about the wire (what was sent) and the parsing, not about the quality of the values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from cf_core import InvalidInputError
from cf_langchain import ChatCloudflareWorkersAI

if TYPE_CHECKING:
    from tests.langchain.conftest import Wire

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
UNRELIABLE_TOOLS = "@cf/meta/llama-3.2-11b-vision-instruct"  # tools in its schema, not dependable
NO_STRUCTURED = "@cf/meta/llama-3.2-1b-instruct"  # neither tools nor JSON mode
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"  # JSON mode via guided_json
PROMPT = "Ann is 30 years old and lives in Paris, France."


class Address(BaseModel):
    city: str = Field(description="City name")
    country: str


class Person(BaseModel):
    """A person and where they live."""

    name: str
    age: int
    addresses: list[Address]


class PersonDict(TypedDict):
    name: str
    age: int


class Answer(BaseModel):
    response: str


def chat(wire: Wire, model: str = LLAMA) -> ChatCloudflareWorkersAI:
    return ChatCloudflareWorkersAI(client=wire.client, async_client=wire.aclient, model=model)


class Options(BaseCallbackHandler):
    def __init__(self) -> None:
        self.options: list[dict[str, Any] | None] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, *, options: dict[str, Any] | None = None,
                            **kwargs: Any) -> None:
        self.options.append(options)


def test_function_calling_forces_the_one_tool(wire: Wire) -> None:
    result = chat(wire).with_structured_output(Person).invoke(PROMPT)
    assert isinstance(result, Person) and isinstance(result.addresses[0], Address)
    (body,) = wire.bodies()
    assert [t["function"]["name"] for t in body["tools"]] == ["Person"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Person"}}
    assert "response_format" not in body
    # nested schema sent inline (no $ref the service could not resolve)
    params = body["tools"][0]["function"]["parameters"]
    assert params["properties"]["addresses"]["items"]["properties"]["city"]["type"] == "string"


def test_json_schema_sends_the_bare_schema(wire: Wire) -> None:
    result = chat(wire).with_structured_output(Person, method="json_schema", strict=True).invoke(PROMPT)
    assert isinstance(result, Person) and result.age == 30
    (body,) = wire.bodies()
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]
    assert schema["required"] == ["name", "age", "addresses"] and "tools" not in body


def test_json_schema_uses_guided_json_for_mistral(wire: Wire) -> None:
    result = chat(wire, MISTRAL).with_structured_output(PersonDict, method="json_schema").invoke(PROMPT)
    assert isinstance(result, dict) and set(result) == {"name", "age"}
    (body,) = wire.bodies()
    assert "guided_json" in body and "response_format" not in body


def test_json_mode_sends_json_object_and_parses(wire: Wire) -> None:
    # The stand-in answers JSON mode without a schema as {"response": ...}; the schema is only used to parse.
    result = chat(wire).with_structured_output(Answer, method="json_mode").invoke(PROMPT + " Reply in JSON.")
    assert isinstance(result, Answer) and result.response
    (body,) = wire.bodies()
    assert body["response_format"] == {"type": "json_object"}


def test_include_raw_success(wire: Wire) -> None:
    out = chat(wire).with_structured_output(Person, include_raw=True).invoke(PROMPT)
    assert isinstance(out, dict)
    assert isinstance(out["raw"], AIMessage) and out["raw"].tool_calls[0]["name"] == "Person"
    assert isinstance(out["parsed"], Person) and out["parsing_error"] is None


def test_include_raw_keeps_the_raw_message_when_parsing_fails(wire: Wire) -> None:
    # json_mode has no schema on the wire, so the stand-in's {"response": ...} does not fit Person.
    out = chat(wire).with_structured_output(Person, method="json_mode", include_raw=True).invoke(PROMPT)
    assert isinstance(out, dict)
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], OutputParserException)
    assert '"response"' in out["raw"].content
    assert len(wire.bodies()) == 1  # no second attempt


def test_without_include_raw_a_parse_failure_raises(wire: Wire) -> None:
    with pytest.raises(OutputParserException):
        chat(wire).with_structured_output(Person, method="json_mode").invoke(PROMPT)


def test_unreliable_tool_model_falls_back_to_json_schema(wire: Wire) -> None:
    handler = Options()
    runnable = chat(wire, UNRELIABLE_TOOLS).with_structured_output(Person)  # default method: function_calling
    result = runnable.invoke(PROMPT, config={"callbacks": [handler]})
    assert isinstance(result, Person)
    (body,) = wire.bodies()
    assert "tools" not in body and "tool_choice" not in body
    assert body["response_format"]["type"] == "json_schema"
    (options,) = handler.options
    assert options is not None
    trace = options["ls_structured_output_format"]
    assert trace["kwargs"] == {"method": "json_schema", "requested_method": "function_calling"}
    assert trace["schema"]["title"] == "Person"


def test_model_without_tools_or_json_mode_is_refused_up_front(wire: Wire) -> None:
    with pytest.raises(InvalidInputError, match="neither dependable tool calling nor JSON mode"):
        chat(wire, NO_STRUCTURED).with_structured_output(Person)
    with pytest.raises(InvalidInputError, match="method must be one of"):
        chat(wire).with_structured_output(Person, method="xml")  # type: ignore[arg-type]
    assert wire.requests == []


@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
def test_one_model_call_per_invoke_and_per_stream(wire: Wire, method: str) -> None:
    schema: Any = Answer if method == "json_mode" else Person
    handler = Options()
    runnable = chat(wire).with_structured_output(schema, method=method)  # type: ignore[arg-type]
    runnable.invoke(PROMPT, config={"callbacks": [handler]})
    assert len(wire.bodies()) == 1 and len(handler.options) == 1
    parsed = list(runnable.stream(PROMPT, config={"callbacks": [handler]}))
    assert len(wire.bodies()) == 2 and len(handler.options) == 2
    assert parsed and isinstance(parsed[-1], schema)
    options = handler.options[-1]
    assert options is not None and options["ls_structured_output_format"]["kwargs"]["method"] == method


def test_json_schema_stream_is_one_non_streaming_call(wire: Wire) -> None:
    parsed = list(chat(wire).with_structured_output(Person, method="json_schema").stream(PROMPT))
    assert isinstance(parsed[-1], Person)
    (body,) = wire.bodies()
    assert "stream" not in body  # Workers AI cannot stream JSON mode


async def test_structured_output_async(wire: Wire) -> None:
    result = await chat(wire).with_structured_output(PersonDict).ainvoke(PROMPT)
    assert isinstance(result, dict) and result["age"] == 30
    parts = [p async for p in chat(wire).with_structured_output(Person, method="json_schema").astream(PROMPT)]
    assert isinstance(parts[-1], Person)
