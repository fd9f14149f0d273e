"""A tiny path router: ``/accounts/{account}/ai/run/{model:path}`` style patterns."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .wire import ApiError, EmuRequest, EmuResponse

Handler = Callable[[EmuRequest], EmuResponse]

_PARAM = re.compile(r"\{(\w+)(:path)?\}")


def _compile(pattern: str) -> re.Pattern[str]:
    out, pos = "", 0
    for m in _PARAM.finditer(pattern):
        out += re.escape(pattern[pos:m.start()])
        out += f"(?P<{m.group(1)}>.+)" if m.group(2) else f"(?P<{m.group(1)}>[^/]+)"
        pos = m.end()
    out += re.escape(pattern[pos:])
    return re.compile(f"^{out}$")


@dataclass
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler
    source: str


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, methods: str | list[str], pattern: str, handler: Handler) -> None:
        ms = [methods] if isinstance(methods, str) else methods
        self.routes.append(Route(frozenset(m.upper() for m in ms), _compile(pattern), handler, pattern))

    def route(self, methods: str | list[str], pattern: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add(methods, pattern, fn)
            return fn
        return deco

    def dispatch(self, request: EmuRequest, path: str) -> EmuResponse:
        """Dispatch on ``path`` (the part after the API prefix); 404/405 like Cloudflare."""
        allowed = False
        for r in self.routes:
            m = r.pattern.match(path)
            if not m:
                continue
            if request.method not in r.methods:
                allowed = True
                continue
            request.params.update(m.groupdict())
            return r.handler(request)
        if allowed:
            raise ApiError(405, 10405, f"Method {request.method} not allowed")
        raise ApiError(404, 7003, "Could not route to " + request.path + ", perhaps your object identifier is invalid?")
