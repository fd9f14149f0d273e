"""``client.ai_gateway.universal``: a workers-ai step with no token of its own is sent with the client's
token (sync and async, over the wire against the emulator, whose gateway runs the step with the
step's ``Authorization`` header and answers 401 for any token it does not accept)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.ai_gateway import FallbackStep
from cf_core.config import ACCOUNT_ENV, TOKEN_ENV
from cf_core.errors import AuthenticationError, InvalidInputError
from cf_core.local import Emulator, SentRequest, local_async_client, local_client

MODEL = "@cf/meta/llama-3.1-8b-instruct"
MESSAGES = [{"role": "user", "content": "What is Cloudflare?"}]
CLIENT_TOKEN = "client-own-token-7f3a"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Only the client's token is accepted, so a step sent with any other token fails with 401."""
    emu = Emulator(tokens={CLIENT_TOKEN})
    yield emu
    emu.close()


def bare_step() -> FallbackStep:
    return FallbackStep.workers_ai(MODEL, {"messages": MESSAGES})


def step_auth(sent: list[SentRequest]) -> list[str]:
    return [step["headers"].get("Authorization") for step in sent[-1].json()]


def test_sync_step_without_token_uses_the_client_token(emulator: Emulator) -> None:
    sent: list[SentRequest] = []
    with local_client(emulator, record=sent, api_token=CLIENT_TOKEN) as c:
        result = c.ai_gateway.universal([bare_step()], gateway="gw-own")
    assert result.step == 0 and result.status == 200 and result.body["success"] is True
    assert step_auth(sent) == [f"Bearer {CLIENT_TOKEN}"]


async def test_async_step_without_token_uses_the_client_token(emulator: Emulator) -> None:
    sent: list[SentRequest] = []
    async with local_async_client(emulator, record=sent, api_token=CLIENT_TOKEN) as c:
        result = await c.ai_gateway.universal([bare_step(), {"provider": "workers-ai", "endpoint": MODEL,
                                                             "query": {"prompt": "hi"}}], gateway="gw-own")
    assert result.step == 0 and result.body["success"] is True
    assert step_auth(sent) == [f"Bearer {CLIENT_TOKEN}"] * 2


@pytest.mark.parametrize("is_async", [False, True])
async def test_explicit_tokens_still_win(emulator: Emulator, is_async: bool) -> None:
    """A step's own token and ``workers_ai_token=`` are sent as given, not replaced by the client's."""
    sent: list[SentRequest] = []
    steps = [FallbackStep.workers_ai(MODEL, {"messages": MESSAGES}, api_token="step-own"), bare_step()]
    client: CloudflareClient | AsyncCloudflareClient
    client = (local_async_client if is_async else local_client)(emulator, record=sent, api_token=CLIENT_TOKEN)
    with pytest.raises(AuthenticationError):  # neither explicit token is accepted by the emulator
        if isinstance(client, AsyncCloudflareClient):
            async with client:
                await client.ai_gateway.universal(steps, gateway="gw-x", workers_ai_token=SecretStr("shared"))
        else:
            with client:
                client.ai_gateway.universal(steps, gateway="gw-x", workers_ai_token="shared")
    assert step_auth(sent) == ["Bearer step-own", "Bearer shared"]


def test_client_token_never_shown_in_errors(emulator: Emulator) -> None:
    """A refused call's error text does not carry the token the client filled in."""
    sent: list[SentRequest] = []
    with local_client(emulator, record=sent, api_token=CLIENT_TOKEN) as c, \
            pytest.raises(InvalidInputError) as err:
        c.ai_gateway.universal([bare_step(), {"provider": "openai"}], gateway="gw-own")
    assert CLIENT_TOKEN not in str(err.value) and CLIENT_TOKEN not in repr(err.value) and sent == []


def test_client_without_credentials_still_refuses_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ACCOUNT_ENV, *TOKEN_ENV):
        monkeypatch.delenv(name, raising=False)
    with CloudflareClient(account_id=None, api_token=None) as c, pytest.raises(InvalidInputError) as err:
        c.ai_gateway.universal([bare_step()], gateway="gw")
    assert err.value.field == "api_token"
