"""Configuration: argument/environment precedence, aliases, secrets, and the missing-credentials error."""

from __future__ import annotations

import pickle

import pytest

from cf_core import CloudflareClient, CloudflareConfig, ConfigurationError, Gateway
from cf_core.config import DEFAULT_BASE_URL, DEFAULT_GATEWAY_BASE_URL
from cf_core.http import ApiRequest, Call, unwrap

SECRET = "tok-SECRET-7f3a9c"


def test_arguments_win_over_environment() -> None:
    env = {"CLOUDFLARE_ACCOUNT_ID": "env-acct", "CLOUDFLARE_API_TOKEN": "env-token"}
    cfg = CloudflareConfig.resolve(account_id="arg-acct", api_token="arg-token", environ=env)
    assert cfg.account_id == "arg-acct"
    assert cfg.api_token is not None and cfg.api_token.get_secret_value() == "arg-token"


@pytest.mark.parametrize("account_var", ["CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID"])
@pytest.mark.parametrize("token_var", ["CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "CF_AI_API_TOKEN"])
def test_environment_aliases(account_var: str, token_var: str) -> None:
    cfg = CloudflareConfig.resolve(environ={account_var: "a1", token_var: "t1"})
    assert cfg.account_id == "a1"
    assert cfg.require_credentials()[1].get_secret_value() == "t1"


def test_defaults_and_overrides_from_environment() -> None:
    cfg = CloudflareConfig.resolve(environ={})
    assert cfg.base_url == DEFAULT_BASE_URL
    assert cfg.gateway_base_url == DEFAULT_GATEWAY_BASE_URL
    assert cfg.timeout > 0 and cfg.max_retries == 3
    cfg = CloudflareConfig.resolve(environ={
        "CLOUDFLARE_BASE_URL": "http://127.0.0.1:8787/client/v4/",
        "CLOUDFLARE_AI_GATEWAY_BASE_URL": "http://127.0.0.1:8787/v1",
        "CF_AI_GATEWAY": "gw1", "CLOUDFLARE_TIMEOUT": "5", "CLOUDFLARE_MAX_RETRIES": "1"})
    assert cfg.base_url == "http://127.0.0.1:8787/client/v4"
    assert cfg.gateway_id == "gw1" and cfg.timeout == 5 and cfg.max_retries == 1


def test_vectorize_token_falls_back_to_api_token() -> None:
    cfg = CloudflareConfig.resolve(account_id="a", api_token="main", environ={})
    assert cfg.token_for("vectorize").get_secret_value() == "main"
    cfg = CloudflareConfig.resolve(account_id="a", api_token="main", environ={"CF_VECTORIZE_API_TOKEN": "vec"})
    assert cfg.token_for("vectorize").get_secret_value() == "vec"
    assert cfg.token_for("ai").get_secret_value() == "main"


def test_missing_credentials_error_names_variables_and_the_emulator() -> None:
    cfg = CloudflareConfig.resolve(environ={})
    with pytest.raises(ConfigurationError) as info:
        cfg.require_credentials()
    text = str(info.value)
    assert "CLOUDFLARE_ACCOUNT_ID" in text and "CLOUDFLARE_API_TOKEN" in text
    assert "cf_core.local" in text


def test_client_checks_credentials_late(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "CF_AI_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    client = CloudflareClient()  # building is fine without credentials
    with pytest.raises(ConfigurationError):
        client.run(Call(ApiRequest("POST", "/ai/run/@cf/meta/llama-3.1-8b-instruct", json={"prompt": "hi"}), unwrap))
    client.close()


@pytest.mark.parametrize("bad", [{"base_url": "ftp://x"}, {"timeout": 0}, {"max_retries": -1}])
def test_invalid_values_raise_configuration_error(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        CloudflareConfig.resolve(environ={}, **bad)  # type: ignore[arg-type]


def test_token_never_in_repr_str_dump_or_pickle() -> None:
    cfg = CloudflareConfig.resolve(account_id="a", api_token=SECRET, vectorize_api_token=SECRET, environ={})
    client = CloudflareClient(config=cfg)
    for text in (repr(cfg), str(cfg), cfg.model_dump_json(), str(cfg.model_dump()), repr(client), str(client)):
        assert SECRET not in text
    assert SECRET.encode() not in pickle.dumps(cfg)
    restored = pickle.loads(pickle.dumps(cfg))
    assert restored.account_id == "a" and restored.api_token is None  # tokens must be supplied again
    gw = Gateway(id="g", auth_token=SECRET)
    assert SECRET not in repr(gw) and SECRET not in gw.model_dump_json() and SECRET.encode() not in pickle.dumps(gw)
    client.close()
