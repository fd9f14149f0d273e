"""Request validation on ``/ai/run``: Cloudflare's error codes, statuses and JSON-path messages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cf_core.catalog import all_models
from cf_core.local import Emulator, EmulatorTransport
from cf_core.local.pytest_plugin import TEST_TOKEN

LLAMA31 = "@cf/meta/llama-3.1-8b-instruct"
LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
VISION = "@cf/meta/llama-3.2-11b-vision-instruct"
LLAMA3B = "@cf/meta/llama-3.2-3b-instruct"
USER = [{"role": "user", "content": "Hello there"}]
TOOL = {"name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City"}},
                       "required": ["city"]}}


def run(client: httpx.Client, model: str, body: Any = None, **kw: Any) -> httpx.Response:
    if body is not None:
        kw["json"] = body
    return client.post(f"/accounts/acc-test/ai/run/{model}", **kw)


def error(resp: httpx.Response) -> tuple[int, int, str]:
    payload = resp.json()
    assert payload["success"] is False
    assert payload["messages"] == []
    assert "result" in payload
    err = payload["errors"][0]
    return resp.status_code, err["code"], err["message"]


def test_messages_content_array_on_a_text_only_model_names_the_path(emu_client: httpx.Client) -> None:
    resp = run(emu_client, LLAMA31, {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]})
    status, code, message = error(resp)
    assert (status, code) == (400, 5006)
    assert message.startswith("AiError: Bad input: Error: ")
    assert "oneOf at '/' not met, 0 matches" in message
    assert "required properties at '/' are 'prompt'" in message
    assert "Type mismatch of '/messages/0/content', 'array' not in 'string'" in message


def test_flux_rejects_width_and_height(emu_client: httpx.Client) -> None:
    resp = run(emu_client, "@cf/black-forest-labs/flux-1-schnell", {"prompt": "a boat", "width": 512, "height": 512})
    status, code, message = error(resp)
    assert (status, code) == (400, 5006)
    assert "Additional or unevaluated properties '/width, /height' at '/' not allowed" in message


@pytest.mark.parametrize(("extra", "fragment"), [
    ({"temperature": 7}, "'/temperature'"),
    ({"temperature": "hot"}, "Type mismatch of '/temperature', 'string' not in 'number'"),
    ({"top_k": 51}, "'/top_k'"),
    ({"top_p": -0.1}, "'/top_p'"),
    ({"seed": 0}, "'/seed'"),
    ({"seed": 1.5}, "Type mismatch of '/seed', 'number' not in 'integer'"),
    ({"max_tokens": "100"}, "Type mismatch of '/max_tokens', 'string' not in 'integer'"),
    ({"repetition_penalty": 2.5}, "'/repetition_penalty'"),
    ({"frequency_penalty": 3}, "'/frequency_penalty'"),
    ({"presence_penalty": -1}, "'/presence_penalty'"),
    ({"stream": "yes"}, "Type mismatch of '/stream', 'string' not in 'boolean'"),
    ({"raw": 1}, "Type mismatch of '/raw', 'integer' not in 'boolean'"),
    ({"wibble": True}, "Additional or unevaluated properties '/wibble' at '/' not allowed"),
    ({"stop": ["\n"]}, "Additional or unevaluated properties '/stop' at '/' not allowed"),
])
def test_sampling_fields_are_typed_and_ranged(emu_client: httpx.Client, extra: dict[str, Any], fragment: str) -> None:
    status, code, message = error(run(emu_client, LLAMA31, {"messages": USER, **extra}))
    assert (status, code) == (400, 5006)
    assert fragment in message


def test_in_range_sampling_fields_are_accepted(emu_client: httpx.Client) -> None:
    body = {"messages": USER, "temperature": 0.0, "top_p": 1, "top_k": 50, "seed": 9999999999, "max_tokens": 5,
            "repetition_penalty": 1.1, "frequency_penalty": 0, "presence_penalty": 2, "raw": False, "stream": False}
    assert run(emu_client, LLAMA31, body).status_code == 200
    assert run(emu_client, LLAMA31, {"prompt": "Hi", "seed": 1, "raw": True}).status_code == 200


def test_prompt_must_not_be_empty_and_one_form_only(emu_client: httpx.Client) -> None:
    status, code, message = error(run(emu_client, LLAMA31, {"prompt": ""}))
    assert (status, code) == (400, 5006) and "'/prompt'" in message
    status, code, message = error(run(emu_client, LLAMA31, {"prompt": "a", "messages": USER}))
    assert (status, code) == (400, 5006)
    assert "'/messages'" in message and "'/prompt'" in message


def test_both_tool_shapes_are_accepted(emu_client: httpx.Client) -> None:
    wrapped = {"type": "function", "function": {**TOOL, "name": "get_time"}}
    resp = run(emu_client, LLAMA33, {"messages": USER, "tools": [TOOL, wrapped]})
    assert resp.status_code == 200, resp.text


def test_tool_without_description_or_parameters_is_refused(emu_client: httpx.Client) -> None:
    bad = {"name": "get_weather", "parameters": TOOL["parameters"]}
    status, code, message = error(run(emu_client, LLAMA33, {"messages": USER, "tools": [bad]}))
    assert (status, code) == (400, 5006)
    assert "'/tools/0'" in message and "'description'" in message
    no_props = {**TOOL, "parameters": {"type": "object"}}
    status, code, message = error(run(emu_client, LLAMA33, {"messages": USER, "tools": [no_props]}))
    assert "'/tools/0/parameters'" in message


@pytest.mark.parametrize("choice", ["auto", "none", "required", "any",
                                    {"type": "function", "function": {"name": "get_weather"}}])
def test_tool_choice_forms(emu_client: httpx.Client, choice: Any) -> None:
    assert run(emu_client, LLAMA33, {"messages": USER, "tools": [TOOL], "tool_choice": choice}).status_code == 200


def test_bad_tool_choice(emu_client: httpx.Client) -> None:
    status, code, message = error(run(emu_client, LLAMA33, {"messages": USER, "tools": [TOOL], "tool_choice": "always"}))
    assert (status, code) == (400, 5006) and "'/tool_choice'" in message


def test_structured_output_parameter_per_model(emu_client: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    # Mistral takes guided_json and not response_format.
    assert run(emu_client, MISTRAL, {"messages": USER, "guided_json": schema}).status_code == 200
    status, code, message = error(run(emu_client, MISTRAL, {"messages": USER, "response_format": {
        "type": "json_schema", "json_schema": schema}}))
    assert (status, code) == (400, 5006) and "'/response_format'" in message
    # Llama 3.3 takes response_format and not guided_json.
    assert run(emu_client, LLAMA33, {"messages": USER, "response_format": {
        "type": "json_schema", "json_schema": schema}}).status_code == 200
    status, code, message = error(run(emu_client, LLAMA33, {"messages": USER, "guided_json": schema}))
    assert "'/guided_json'" in message
    # Scout takes both; the 3B model takes neither.
    assert run(emu_client, SCOUT, {"messages": USER, "guided_json": schema}).status_code == 200
    assert run(emu_client, SCOUT, {"messages": USER, "response_format": {"type": "json_object"}}).status_code == 200
    status, code, message = error(run(emu_client, LLAMA3B, {"messages": USER, "response_format": {"type": "json_object"}}))
    assert (status, code) == (400, 5006) and "'/response_format'" in message


def test_response_format_type_is_checked(emu_client: httpx.Client) -> None:
    status, code, message = error(run(emu_client, LLAMA33, {"messages": USER, "response_format": {"type": "xml"}}))
    assert (status, code) == (400, 5006) and "'/response_format/type'" in message


def test_json_mode_with_stream_is_refused(emu_client: httpx.Client) -> None:
    body = {"messages": USER, "stream": True, "response_format": {"type": "json_object"}}
    status, code, message = error(run(emu_client, LLAMA33, body))
    assert (status, code) == (400, 5006)
    assert "JSON mode" in message and "stream" in message
    status, code, _ = error(run(emu_client, MISTRAL, {"messages": USER, "stream": True, "guided_json": {"type": "object"}}))
    assert (status, code) == (400, 5006)


def test_mistral_tool_call_id_must_be_nine_alphanumerics(emu_client: httpx.Client) -> None:
    def convo(call_id: str) -> dict[str, Any]:
        return {"messages": [
            {"role": "user", "content": "weather in Oslo?"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": call_id, "type": "function", "function": {
                "name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
            {"role": "tool", "content": "{\"temp\": 3}", "tool_call_id": call_id},
        ], "tools": [TOOL]}
    assert run(emu_client, MISTRAL, convo("a1B2c3D4e")).status_code == 200
    status, code, message = error(run(emu_client, MISTRAL, convo("call_123456")))
    assert (status, code) == (400, 5006)
    assert "'/messages/2/tool_call_id'" in message
    # Other models do not check the id's shape.
    assert run(emu_client, LLAMA33, convo("call_123456")).status_code == 200


def test_lora_is_405_5005_on_models_without_lora(emu_client: httpx.Client) -> None:
    status, code, message = error(run(emu_client, LLAMA33, {"prompt": "hi", "lora": "my-adapter", "raw": True}))
    assert (status, code) == (405, 5005)
    assert "LoRA" in message
    assert run(emu_client, VISION, {"prompt": "hi", "lora": "my-adapter"}).status_code == 200
    status, code, _ = error(run(emu_client, LLAMA33, {"prompt": "hi", "lora": 5}))
    assert (status, code) == (400, 5006)


def test_unknown_model_is_400_5007(emu_client: httpx.Client) -> None:
    status, code, message = error(run(emu_client, "@cf/meta/llama-9-imaginary", {"prompt": "hi"}))
    assert (status, code) == (400, 5007)
    assert "@cf/meta/llama-9-imaginary" in message


def test_body_problems(emu_client: httpx.Client) -> None:
    status, code, _ = error(run(emu_client, LLAMA31, content=b"", headers={"content-type": "application/json"}))
    assert (status, code) == (400, 3003)
    status, code, _ = error(run(emu_client, LLAMA31, content=b"{nope", headers={"content-type": "application/json"}))
    assert (status, code) == (400, 5006)
    status, code, message = error(run(emu_client, LLAMA31, ["prompt"]))
    assert (status, code) == (400, 5006) and "'array' not in 'object'" in message


def test_binding_options_key_is_accepted(emu_client: httpx.Client) -> None:
    assert run(emu_client, LLAMA31, {"prompt": "hi", "options": {"rejectIfBusy": True}}).status_code == 200


def test_vision_content_parts_need_data_uris(emu_client: httpx.Client) -> None:
    def body(url: str) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]}]}
    for model in (SCOUT, MISTRAL):
        status, code, message = error(run(emu_client, model, body("https://example.com/cat.png")))
        assert (status, code) == (400, 5006)
        assert "'/messages/0/content/1/image_url/url'" in message
        assert run(emu_client, model, body("data:image/png;base64,iVBORw0KGgo=")).status_code == 200
    status, code, _ = error(run(emu_client, SCOUT, body("data:image/png;base64,@@not base64@@")))
    assert (status, code) == (400, 5004)


def test_image_field_only_on_the_image_field_model(emu_client: httpx.Client) -> None:
    assert run(emu_client, VISION, {"prompt": "Describe", "image": [137, 80, 78, 71]}).status_code == 200
    status, code, message = error(run(emu_client, VISION, {"prompt": "Describe", "image": [1, 256]}))
    assert (status, code) == (400, 5006) and "'/image/1'" in message
    status, code, message = error(run(emu_client, LLAMA33, {"prompt": "Describe", "image": [1, 2]}))
    assert "'/image'" in message


def test_vision_agreement_when_required() -> None:
    emulator = Emulator(require_vision_agreement=True)
    headers = {"authorization": f"Bearer {TEST_TOKEN}"}
    with httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator.local/client/v4",
                      headers=headers) as client:
        status, code, message = error(run(client, VISION, {"prompt": "Describe the picture"}))
        assert (status, code) == (403, 5016)
        assert "agreed" in message
        assert run(client, VISION, {"prompt": "agree"}).status_code == 200
        assert run(client, VISION, {"prompt": "Describe the picture"}).status_code == 200
        # Agreement is per account.
        other = client.post(f"/accounts/other-acc/ai/run/{VISION}", json={"prompt": "Describe"})
        assert error(other)[:2] == (403, 5016)
        # Other models never need it.
        assert run(client, LLAMA33, {"prompt": "hi"}).status_code == 200


def test_vision_agreement_off_by_default(emu_client: httpx.Client) -> None:
    assert run(emu_client, VISION, {"prompt": "Describe the picture"}).status_code == 200


@pytest.mark.parametrize("model", [m.id for m in all_models()])
def test_every_catalog_model_refuses_an_unknown_field(emu_client: httpx.Client, model: str) -> None:
    status, code, message = error(run(emu_client, model, {"definitely_not_a_field": 1}))
    assert (status, code) == (400, 5006)
    assert "'/definitely_not_a_field'" in message or "required properties" in message


def test_queue_request_is_reported_as_not_emulated(emu_client: httpx.Client) -> None:
    resp = emu_client.post(f"/accounts/acc-test/ai/run/{LLAMA33}", params={"queueRequest": "true"},
                           json={"requests": [{"prompt": "hi"}]})
    status, code, message = error(resp)
    assert (status, code) == (400, 5006) and "not emulated" in message


def test_auth_is_checked_before_the_model(emulator: Emulator) -> None:
    with httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator.local/client/v4") as client:
        status, code, _ = error(run(client, LLAMA31, {"prompt": "hi"}))
    assert (status, code) == (401, 10000)
