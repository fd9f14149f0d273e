"""Authentication: the API's bearer token (401/403, code 10000) and the AI Gateway's own token (2009)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cf_core.local import Emulator, EmulatorTransport
from cf_core.local.pytest_plugin import TEST_ACCOUNT

GATEWAYS = f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways"
RUN = f"/client/v4/accounts/{TEST_ACCOUNT}/ai/run/@cf/meta/llama-3.1-8b-instruct"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
AUTH_ERROR = {"result": None, "success": False, "errors": [{"code": 10000, "message": "Authentication error"}],
              "messages": []}


@pytest.fixture
def restricted() -> Iterator[httpx.Client]:
    emu = Emulator(tokens={"good-token"}, forbidden_tokens={"read-only-token"})
    with httpx.Client(transport=EmulatorTransport(emu), base_url="http://emulator.local") as client:
        yield client
    emu.close()


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer "}, {"authorization": "Basic dXNlcjpwdw=="},
                                     {"authorization": "good-token"}])
def test_missing_or_malformed_bearer_is_401(emu_origin_client: httpx.Client, headers: dict[str, str]) -> None:
    r = emu_origin_client.get(GATEWAYS, headers=headers)
    assert r.status_code == 401
    assert r.json() == AUTH_ERROR


def test_any_token_is_accepted_without_a_token_list(emu_origin_client: httpx.Client) -> None:
    assert emu_origin_client.get(GATEWAYS, headers=_bearer("whatever")).status_code == 200


def test_token_list_restricts(restricted: httpx.Client) -> None:
    assert restricted.get(GATEWAYS, headers=_bearer("good-token")).status_code == 200
    wrong = restricted.get(GATEWAYS, headers=_bearer("guessed-token"))
    assert wrong.status_code == 401
    assert wrong.json() == AUTH_ERROR


def test_forbidden_token_is_403(restricted: httpx.Client) -> None:
    r = restricted.get(GATEWAYS, headers=_bearer("read-only-token"))
    assert r.status_code == 403
    assert r.json()["errors"][0]["code"] == 10000


def test_workers_ai_route_checks_the_token(restricted: httpx.Client) -> None:
    assert restricted.post(RUN, json={"prompt": "hi"}, headers=_bearer("guessed")).status_code == 401
    assert restricted.post(RUN, json={"prompt": "hi"}, headers=_bearer("good-token")).status_code == 200


def test_admin_and_gateway_host_need_no_api_token(restricted: httpx.Client) -> None:
    assert restricted.get("/_emulator/health").status_code == 200
    r = restricted.post(f"/v1/{TEST_ACCOUNT}/open/openai/chat/completions", json=CHAT, headers=_bearer("sk"))
    assert r.status_code == 200


def _authenticated_gateway(client: httpx.Client, token: str = "good-token") -> str:
    body = {"id": "locked", "authentication": True, "cache_ttl": 0, "cache_invalidate_on_update": False,
            "collect_logs": True, "rate_limiting_interval": None, "rate_limiting_limit": None}
    assert client.post(GATEWAYS, json=body, headers=_bearer(token)).status_code == 200
    return f"/v1/{TEST_ACCOUNT}/locked/openai/chat/completions"


@pytest.mark.parametrize("gateway_auth", [None, "Bearer guessed", "guessed", "Bearer read-only-token"])
def test_authenticated_gateway_rejects_with_singular_error_key(restricted: httpx.Client,
                                                               gateway_auth: str | None) -> None:
    url = _authenticated_gateway(restricted)
    headers = _bearer("sk-provider")
    if gateway_auth is not None:
        headers["cf-aig-authorization"] = gateway_auth
    r = restricted.post(url, json=CHAT, headers=headers)
    assert r.status_code == 401
    assert r.json() == {"success": False, "error": [{"code": 2009, "message": "Unauthorized"}]}


def test_authenticated_gateway_accepts_a_valid_token(restricted: httpx.Client) -> None:
    url = _authenticated_gateway(restricted)
    r = restricted.post(url, json=CHAT, headers={**_bearer("sk-provider"), "cf-aig-authorization": "Bearer good-token"})
    assert r.status_code == 200
    logs = restricted.get(f"{GATEWAYS}/locked/logs", headers=_bearer("good-token")).json()["result"]
    assert len(logs) == 1  # rejected requests were never logged


def test_authenticated_gateway_guards_the_universal_endpoint(restricted: httpx.Client) -> None:
    _authenticated_gateway(restricted)
    step = {"provider": "openai", "endpoint": "chat/completions", "headers": _bearer("sk"), "query": CHAT}
    r = restricted.post(f"/v1/{TEST_ACCOUNT}/locked", json=[step])
    assert r.status_code == 401
    assert r.json()["error"][0]["code"] == 2009


def test_gateway_without_authentication_ignores_the_header(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"/v1/{TEST_ACCOUNT}/open/openai/chat/completions", json=CHAT,
                               headers={**_bearer("sk"), "cf-aig-authorization": "Bearer anything"})
    assert r.status_code == 200
