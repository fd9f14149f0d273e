"""The universal endpoint: ``POST {gateway}`` with an array of provider steps tried in order.

The body carries each step's own provider credentials. This builder has no access to the client's
secrets: a ``workers-ai`` step takes a token from ``FallbackStep.workers_ai(api_token=...)`` or, for
every such step at once, from ``workers_ai_token=``, and a step without one is refused before sending.
The client facades (``client.ai_gateway.universal``) fill ``workers_ai_token`` with the client's own
token when the caller gives none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr, ValidationError

from ..errors import InvalidInputError
from ..gateway import GatewayInfo
from ..http import ApiRequest, Call, GatewayArg, RawResponse
from .types import FallbackStep, UniversalResult

MAX_STEPS = 25


def _step(index: int, raw: Any) -> FallbackStep:
    if isinstance(raw, FallbackStep):
        return raw
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"steps[{index}] must be a FallbackStep or a mapping, got {type(raw).__name__}",
                                field="steps", item=index)
    try:
        return FallbackStep.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInputError(f"steps[{index}]{'.' + where if where else ''}: {first.get('msg')}",
                                field="steps", item=index) from None


def _body(raw: RawResponse) -> Any:
    if raw.content_type.endswith("json"):
        try:
            return json.loads(raw.content)
        except (ValueError, UnicodeDecodeError):
            return raw.content
    if raw.content_type.startswith("text/"):
        return raw.content.decode("utf-8", "replace")
    return raw.content


def _result(raw: RawResponse) -> UniversalResult:
    info = raw.gateway or GatewayInfo()
    return UniversalResult(step=info.step, status=raw.status, body=_body(raw), headers=dict(raw.headers),
                           gateway=info)


def universal(steps: Sequence[FallbackStep | Mapping[str, Any]], *, gateway: GatewayArg = None,
              workers_ai_token: str | SecretStr | None = None, timeout: float | None = None) -> Call[UniversalResult]:
    """Send a fallback chain through the gateway; the first step that succeeds answers.

    ``gateway`` (or the client's default) is required. ``UniversalResult.step`` says which step
    answered; when every step fails, the gateway's error (the last step's) is raised.
    """
    if isinstance(steps, str | bytes | Mapping) or not isinstance(steps, Sequence) or not steps:
        raise InvalidInputError("steps must be a non-empty list of FallbackStep (or step mappings)", field="steps")
    if len(steps) > MAX_STEPS:
        raise InvalidInputError(f"{len(steps)} steps; at most {MAX_STEPS} are sent", field="steps", limit=MAX_STEPS)
    token = SecretStr(workers_ai_token) if isinstance(workers_ai_token, str) else workers_ai_token
    checked = [_step(i, raw) for i, raw in enumerate(steps)]
    for i, step in enumerate(checked):
        if step.provider == "workers-ai" and not step.has_credentials() and token is None:
            raise InvalidInputError(
                f"steps[{i}] (workers-ai {step.endpoint}) has no API token: pass api_token= to "
                "FallbackStep.workers_ai or workers_ai_token= to universal()", field="api_token", item=i)
    body = [step.to_wire(default_token=token) for step in checked]
    # The path is only used for a direct call, which gateway_required rules out.
    req = ApiRequest("POST", "", product="ai", json=body, gateway_path="", gateway=gateway,
                     gateway_required=True, timeout=timeout)
    return Call(req, _result)
