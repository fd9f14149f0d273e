"""The universal endpoint's body: an array of provider steps tried in order."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..wire import ApiError
from .errors import invalid
from .options import RequestOptions, aig_headers, parse_options
from .providers import Upstream, provider_headers
from .settings import GatewaySettings

MAX_STEPS = 25
"""UNCONFIRMED: Cloudflare documents no step limit; the emulator caps the chain."""


@dataclass
class Step:
    upstream: Upstream
    options: RequestOptions


def _headers(index: int, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise invalid(f"steps[{index}].headers: expected an object of header names to strings")
    out = {}
    for name, value in raw.items():
        if isinstance(value, dict | list) or value is None:
            raise invalid(f"steps[{index}].headers.{name}: expected a string")
        out[str(name)] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _step(index: int, raw: Any, gateway: GatewaySettings, request_aig: Mapping[str, str]) -> Step:
    if not isinstance(raw, dict):
        raise invalid(f"steps[{index}]: expected an object with provider, endpoint, headers, query")
    unknown = sorted(set(raw) - {"provider", "endpoint", "headers", "query", "config"})
    if unknown:
        raise invalid(f"steps[{index}]: unknown field(s) {', '.join(unknown)}")
    provider, endpoint = raw.get("provider"), raw.get("endpoint")
    if not isinstance(provider, str) or not provider:
        raise invalid(f"steps[{index}].provider: a provider slug is required, e.g. \"workers-ai\"")
    if not isinstance(endpoint, str) or not endpoint.strip("/"):
        raise invalid(f"steps[{index}].endpoint: a provider path is required, e.g. \"chat/completions\"")
    config = raw.get("config")
    if config is not None and not isinstance(config, dict):
        raise invalid(f"steps[{index}].config: expected an object")
    headers = _headers(index, raw.get("headers"))
    body = b"" if raw.get("query") is None else json.dumps(raw["query"]).encode()
    sent = provider_headers(headers)
    if body:
        sent.setdefault("content-type", "application/json")
    # A step's own cf-aig-* headers and config override the request's, which override the gateway.
    merged = {**request_aig, **aig_headers(headers)}
    try:
        options = parse_options(gateway, merged, config)
    except ApiError as exc:
        raise invalid(f"steps[{index}]: {exc.message}") from None
    return Step(Upstream(provider, endpoint.strip("/"), body, sent), options)


def parse_steps(body: bytes, gateway: GatewaySettings, request_aig: Mapping[str, str]) -> list[Step]:
    if not body:
        raise invalid("body: expected a JSON array of steps")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise invalid("body: not valid JSON; expected an array of steps") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise invalid("body: expected a non-empty JSON array of steps")
    if len(data) > MAX_STEPS:
        raise invalid(f"body: at most {MAX_STEPS} steps, got {len(data)}")
    return [_step(i, raw, gateway, request_aig) for i, raw in enumerate(data)]
