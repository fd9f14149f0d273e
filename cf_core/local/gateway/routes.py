"""Routes on the gateway host (``/v1/{account}/{gateway}/...``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..wire import EmuRequest, EmuResponse
from .errors import RATE_LIMITED, UNAUTHORIZED, gateway_error, invalid
from .options import RequestOptions, aig_headers, parse_options
from .pipeline import Call, Outcome, execute, record_rejection
from .providers import Upstream, compat_upstream, provider_headers
from .settings import GatewaySettings
from .state import GatewayState
from .universal import parse_steps

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass
class Front:
    account: str
    gateway: GatewaySettings
    authenticated: bool


class GatewayRoutes:
    def __init__(self, state: GatewayState) -> None:
        self.state = state

    def install(self) -> None:
        router = self.state.emulator.gateway
        router.add("POST", "/{account}/{gateway}", self.universal)
        router.add("POST", "/{account}/{gateway}/", self.universal)
        router.add("POST", "/{account}/{gateway}/compat/chat/completions", self.compat)
        router.add(ALL_METHODS, "/{account}/{gateway}/compat/{rest:path}", self.compat_unknown)
        router.add(ALL_METHODS, "/{account}/{gateway}/{provider}/{rest:path}", self.provider)

    # -- shared steps -----------------------------------------------------------------------------

    def _front(self, request: EmuRequest) -> Front:
        account, gateway_id = request.params["account"], request.params["gateway"]
        settings = self.state.resolve(account, gateway_id)
        authenticated = False
        if settings.authentication:
            self._check_gateway_token(request)
            authenticated = True
        return Front(account, settings, authenticated)

    def _check_gateway_token(self, request: EmuRequest) -> None:
        """``cf-aig-authorization: Bearer <token>``, judged like the API's tokens (UNCONFIRMED which
        tokens Cloudflare accepts beyond ones with the AI Gateway Run permission)."""
        scheme, _, token = request.headers.get("cf-aig-authorization", "").partition(" ")
        token = token.strip()
        cfg = self.state.emulator.config
        ok = (scheme.lower() == "bearer" and bool(token) and token not in cfg.forbidden_tokens
              and (cfg.tokens is None or token in cfg.tokens))
        if not ok:
            raise gateway_error(401, UNAUTHORIZED, "Unauthorized")

    def _rate_limit(self, front: Front, upstream: Upstream, options: RequestOptions, request_type: str) -> None:
        gw = front.gateway
        if not gw.rate_limited:
            return
        wait = self.state.limiter.admit(f"{front.account}/{gw.id}", int(gw.rate_limiting_limit or 0),
                                        int(gw.rate_limiting_interval or 1), gw.rate_limiting_technique)
        if wait is None:
            return
        retry_after = str(max(1, int(wait + 0.999)))
        err = gateway_error(429, RATE_LIMITED, "Rate limited: the gateway allows "
                            f"{gw.rate_limiting_limit} requests per {gw.rate_limiting_interval} s",
                            headers={"retry-after": retry_after})
        call = Call(front.account, gw, upstream, options, request_type, authenticated=front.authenticated)
        entry = record_rejection(self.state, call, err.to_response())
        if entry is not None:
            err.headers["cf-aig-log-id"] = entry.id
        if options.event_id:
            err.headers["cf-aig-event-id"] = options.event_id
        raise err

    def _finish(self, outcome: Outcome, step: int) -> EmuResponse:
        outcome.response.headers["cf-aig-step"] = str(step)
        return outcome.response

    def _single(self, request: EmuRequest, front: Front, upstream: Upstream, request_type: str) -> EmuResponse:
        options = parse_options(front.gateway, aig_headers(request.headers))
        self._rate_limit(front, upstream, options, request_type)
        call = Call(front.account, front.gateway, upstream, options, request_type,
                    authenticated=front.authenticated)
        return self._finish(execute(self.state, call), 0)

    # -- handlers ---------------------------------------------------------------------------------

    def provider(self, request: EmuRequest) -> EmuResponse:
        """Provider-native forms: ``/workers-ai/{model}``, ``/workers-ai/v1/...``, ``/openai/...``."""
        front = self._front(request)
        upstream = Upstream(request.params["provider"], request.params["rest"].strip("/"), request.body,
                            provider_headers(request.headers), request.method, dict(request.query))
        return self._single(request, front, upstream, "native")

    def compat(self, request: EmuRequest) -> EmuResponse:
        front = self._front(request)
        return self._single(request, front, compat_upstream(request.body, request.headers), "compat")

    def compat_unknown(self, request: EmuRequest) -> EmuResponse:
        self._front(request)
        raise invalid(f"compat/{request.params['rest']}: the emulator serves only POST compat/chat/completions")

    def universal(self, request: EmuRequest) -> EmuResponse:
        front = self._front(request)
        request_aig = aig_headers(request.headers)
        steps = parse_steps(request.body, front.gateway, request_aig)
        self._rate_limit(front, steps[0].upstream, parse_options(front.gateway, request_aig), "universal")
        last: Outcome | None = None
        for index, step in enumerate(steps):
            call = Call(front.account, front.gateway, step.upstream, step.options, "universal", index,
                        front.authenticated)
            outcome = execute(self.state, call)
            if outcome.success:
                return self._finish(outcome, index)
            last = outcome
        assert last is not None  # parse_steps guarantees at least one step
        # UNCONFIRMED: when every step fails the emulator answers with the last step's error.
        return self._finish(last, len(steps) - 1)
