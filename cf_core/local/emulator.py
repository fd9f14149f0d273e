"""The emulator: configuration, routing, authentication and fault planning.

Feature modules (``workers_ai``, ``vectorize``, ``kv``, ``gateway``) each expose
``install(emulator)``, which adds their routes to :attr:`Emulator.api` (paths after ``/client/v4``)
or :attr:`Emulator.gateway` (paths after the gateway host's ``/v1``) and keeps their own state.
"""

from __future__ import annotations

import importlib
import logging
import threading
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .faults import FaultConfig, FaultPlan, Faults
from .router import Router
from .wire import ApiError, DropConnection, EmuRequest, EmuResponse, envelope, json_response

log = logging.getLogger("cf_core.local")

API_PREFIX = "/client/v4"
GATEWAY_PREFIX = "/v1"
ADMIN_PREFIX = "/_emulator"
FEATURES = ("workers_ai", "vectorize", "kv", "gateway")


@dataclass
class EmulatorConfig:
    tokens: set[str] | None = field(default=None, repr=False)
    """Accepted API tokens; ``None`` accepts any non-empty bearer token (never shown in repr)."""
    forbidden_tokens: set[str] = field(default_factory=set, repr=False)
    """Tokens that authenticate but lack permission (answered 403, code 10000)."""
    data_dir: Path | None = None
    """Where Vectorize and KV persist (SQLite); ``None`` keeps everything in memory."""
    seed: int = 0
    """Seeds every stand-in engine and the fault generator."""
    rate_limits: bool = False
    """Enforce Workers AI's per-task requests-per-minute limits from the catalog."""
    strict_metadata_index: bool = True
    """Vectorize filters only see properties that have a metadata index, as on Cloudflare."""
    topk_cap_with_values: int = 50
    """Vectorize's topK cap with returnValues or returnMetadata=all: docs say 20, the live service 50."""
    mutation_delay_s: float = 0.0
    """Delay before a Vectorize mutation is applied and visible."""
    max_body_bytes: int = 100 * 1024 * 1024
    chat_engine_url: str | None = None
    """An OpenAI-compatible server that replaces the rule-based chat stand-in (no wire change)."""
    embedding_engine: str = "hash"
    """``hash`` (the lexical stand-in) or ``minilm`` (a locally installed sentence model)."""
    require_vision_agreement: bool = False
    """Model llama-3.2-11b-vision's one-time licence agreement (code 5016 until agreed)."""
    faults: FaultConfig = field(default_factory=FaultConfig)


class Emulator:
    """Cloudflare's HTTP API, answered locally. Thread-safe; share one per test or server."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides: Any) -> None:
        cfg = config or EmulatorConfig()
        for key, value in overrides.items():
            if not hasattr(cfg, key):
                raise TypeError(f"unknown emulator setting {key!r}")
            setattr(cfg, key, value)
        if cfg.faults.seed is None:
            cfg.faults.seed = cfg.seed
        self.config = cfg
        self.api = Router()
        self.gateway = Router()
        self.admin = Router()
        self.faults = Faults(cfg.faults)
        self.components: dict[str, Any] = {}
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._install_admin()
        for name in FEATURES:
            try:
                module = importlib.import_module(f"{__package__}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{__package__}.{name}":
                    raise
                continue
            install = getattr(module, "install", None)
            if install is None:  # a feature folder without its __init__ yet (a namespace package)
                continue
            install(self)

    # -- request handling ---------------------------------------------------------------------

    def plan(self, request: EmuRequest) -> FaultPlan:
        """Which fault (if any) this request meets; admin requests never meet one."""
        if request.path.startswith(ADMIN_PREFIX):
            return FaultPlan()
        return self.faults.plan(request.path)

    def respond(self, request: EmuRequest, plan: FaultPlan | None = None) -> EmuResponse:
        """Answer ``request`` after its fault ``plan`` (latency is the caller's to sleep)."""
        if plan is not None and plan.drop:
            raise DropConnection()
        if plan is not None and plan.error_status is not None:
            headers = {}
            if plan.retry_after_s is not None:
                headers["retry-after"] = f"{plan.retry_after_s:g}"
            code = {429: 3040, 500: 10001, 502: 10002, 503: 10003, 504: 3007}.get(plan.error_status, 10000)
            return ApiError(plan.error_status, code, "Injected fault", headers=headers).to_response()
        resp = self.handle(request)
        resp.headers = {name: header_safe(value) for name, value in resp.headers.items()}
        if plan is not None and plan.cut_stream_after is not None and not isinstance(resp.body, bytes | bytearray):
            resp.body = _cut_after(resp.body, plan.cut_stream_after, self.faults)
        return resp

    def handle(self, request: EmuRequest) -> EmuResponse:
        path = request.path
        with self._lock:
            self.requests[_category(path)] += 1
        try:
            if len(request.body) > self.config.max_body_bytes:
                raise ApiError(413, 3006, f"Request is too large: {len(request.body)} bytes, "
                                          f"the limit is {self.config.max_body_bytes}")
            if path.startswith(ADMIN_PREFIX + "/"):
                return self.admin.dispatch(request, path[len(ADMIN_PREFIX):])
            if path.startswith(API_PREFIX + "/"):
                self.authenticate(request)
                return self.api.dispatch(request, path[len(API_PREFIX):])
            if path.startswith(GATEWAY_PREFIX + "/"):
                return self.gateway.dispatch(request, path[len(GATEWAY_PREFIX):])
            raise ApiError(404, 7003, f"No route for {path}")
        except ApiError as err:
            return err.to_response()
        except DropConnection:
            raise
        except Exception:  # never crash the server on a request: answer like Cloudflare would
            log.error("emulator error on %s %s\n%s", request.method, path, traceback.format_exc())
            return ApiError(500, 10001, "Internal server error").to_response()

    def call_api(self, method: str, path: str, headers: dict[str, str], body: bytes,
                 query: dict[str, str] | None = None) -> EmuResponse:
        """Internal call to an API path (e.g. ``/accounts/a/ai/run/@cf/...``), used by the gateway."""
        req = EmuRequest(method=method, path=API_PREFIX + path, query=dict(query or {}),
                         headers={k.lower(): v for k, v in headers.items()}, body=body)
        return self.handle(req)

    def authenticate(self, request: EmuRequest) -> str:
        """Check ``Authorization: Bearer`` like Cloudflare: 401 unknown, 403 without permission."""
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, 10000, "Authentication error")
        if self.config.tokens is not None and token not in self.config.tokens \
                and token not in self.config.forbidden_tokens:
            raise ApiError(401, 10000, "Authentication error")
        if token in self.config.forbidden_tokens:
            raise ApiError(403, 10000, "Authentication error")
        return token

    # -- admin API (outside Cloudflare's paths) -----------------------------------------------

    def _install_admin(self) -> None:
        def get_faults(req: EmuRequest) -> EmuResponse:
            return envelope({"config": self.faults.config.to_dict(), "injected": self.faults.snapshot()})

        def set_faults(req: EmuRequest) -> EmuResponse:
            try:
                cfg = FaultConfig.from_dict(req.json_object())
            except (ValueError, TypeError) as exc:
                raise ApiError(400, 10400, str(exc)) from None
            if cfg.seed is None:
                cfg.seed = self.config.seed
            self.faults.configure(cfg)
            return envelope(cfg.to_dict())

        def stats(req: EmuRequest) -> EmuResponse:
            with self._lock:
                counts = dict(self.requests)
            return envelope({"requests": counts, "injected": self.faults.snapshot()})

        def health(req: EmuRequest) -> EmuResponse:
            return json_response({"ok": True, "features": sorted(self.components)})

        self.admin.add("GET", "/faults", get_faults)
        self.admin.add(["POST", "PUT"], "/faults", set_faults)
        self.admin.add("GET", "/stats", stats)
        self.admin.add("GET", "/health", health)

    def close(self) -> None:
        for component in self.components.values():
            closer = getattr(component, "close", None)
            if callable(closer):
                closer()


def _cut_after(chunks: Iterator[bytes], count: int, faults: Faults) -> Iterator[bytes]:
    """The first ``count`` chunks, then a dropped connection (both front ends turn it into a cut).
    A stream with no more than ``count`` chunks is sent whole."""
    for sent, chunk in enumerate(chunks):
        if sent >= count:
            faults.note("stream_cut")
            raise DropConnection()
        yield chunk


def header_safe(value: str) -> str:
    """A header value both front ends can send: printable ASCII, anything else percent-encoded
    (a model name from a request body may hold any character)."""
    if value.isascii() and value.isprintable():
        return value
    return quote(value, safe="".join(chr(c) for c in range(33, 127) if chr(c) != "%") + " ")


def _category(path: str) -> str:
    for marker in ("/ai/run/", "/ai/v1/", "/vectorize/", "/storage/kv/", "/ai-gateway/", "/ai/models/"):
        if marker in path:
            return marker.strip("/")
    if path.startswith(GATEWAY_PREFIX + "/"):
        return "gateway"
    return "other"
