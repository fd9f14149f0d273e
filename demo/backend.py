"""Which backend the demo talks to: Cloudflare when credentials are set, else the in-process emulator.

The rule, in order:
1. ``CF_DEMO_BACKEND=emulator`` (or ``--emulator``) forces the emulator.
2. No account id and no token in the environment: the emulator (no account needed).
3. Both: Cloudflare (or whatever ``CLOUDFLARE_BASE_URL`` points at, e.g. a served emulator).
4. Only one of them: a configuration error naming what is missing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from cf_core import AsyncCloudflareClient, CloudflareClient, CloudflareConfig, ConfigurationError
from cf_core.config import ACCOUNT_ENV, TOKEN_ENV

BACKEND_ENV = "CF_DEMO_BACKEND"
CLOUDFLARE_HOST = "api.cloudflare.com"


@dataclass
class Backend:
    """The clients the demo passes to every adapter, and what to tell the user about them."""

    kind: str
    """``"emulator"`` or ``"cloudflare"``."""
    client: CloudflareClient
    async_client: AsyncCloudflareClient
    stand_ins: bool
    """True when the models are the emulator's stand-ins (in process or behind a custom base URL)."""
    where: str
    gateway_id: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    index_created: bool = False
    """Set once the demo's index exists, so clean-up only deletes what this run created."""

    @property
    def is_local(self) -> bool:
        return self.kind == "emulator"

    @property
    def index_name(self) -> str:
        # Unique per run on a shared account, so two runs never write into each other's index.
        return "cf-demo" if self.is_local else f"cf-demo-{self.run_id}"

    async def aclose(self) -> None:
        self.client.close()
        await self.async_client.aclose()


def _has_any(names: tuple[str, ...], environ: Mapping[str, str]) -> bool:
    return any((environ.get(name) or "").strip() for name in names)


def _config(environ: Mapping[str, str]) -> CloudflareConfig:
    try:
        return CloudflareConfig.resolve(environ=environ)
    except ConfigurationError:
        raise
    except ValueError as exc:
        # e.g. CLOUDFLARE_TIMEOUT=abc: the core's float() error does not say which variable it was.
        raise ConfigurationError(f"invalid Cloudflare configuration in the environment "
                                 f"(CLOUDFLARE_TIMEOUT / CLOUDFLARE_MAX_RETRIES?): {exc}") from None


def _serves_emulator(config: CloudflareConfig) -> bool:
    """Whether a custom base URL is the local emulator served over HTTP (it has an admin health route)."""
    parts = urlsplit(config.base_url)
    if parts.hostname == CLOUDFLARE_HOST:
        return False
    try:
        answer = httpx.get(f"{parts.scheme}://{parts.netloc}/_emulator/health", timeout=2.0)
        return answer.status_code == 200 and answer.json().get("ok") is True
    except (httpx.HTTPError, ValueError):
        return False


def emulator_backend() -> Backend:
    from cf_core.local import Emulator, local_async_client, local_client

    emulator = Emulator()  # one emulator behind both clients, so sync and async calls see the same state
    return Backend(kind="emulator", client=local_client(emulator), async_client=local_async_client(emulator),
                   stand_ins=True, where="local emulator (cf_core.local, in process: no account, no network)",
                   gateway_id="cf-demo")


def select_backend(environ: Mapping[str, str] | None = None, *, force_emulator: bool = False) -> Backend:
    env = os.environ if environ is None else environ
    choice = (env.get(BACKEND_ENV) or "").strip().lower()
    if choice not in ("", "auto", "emulator", "cloudflare"):
        raise ConfigurationError(f"{BACKEND_ENV} must be 'emulator', 'cloudflare' or 'auto', got {choice!r}")
    if force_emulator or choice == "emulator":
        return emulator_backend()
    if not _has_any(ACCOUNT_ENV, env) and not _has_any(TOKEN_ENV, env):
        if choice == "cloudflare":
            raise ConfigurationError(f"{BACKEND_ENV}=cloudflare needs CLOUDFLARE_ACCOUNT_ID and "
                                     "CLOUDFLARE_API_TOKEN to be set")
        return emulator_backend()
    config = _config(env)
    if not config.has_credentials:
        missing = " and ".join(name for name, ok in (("CLOUDFLARE_ACCOUNT_ID", bool(config.account_id)),
                                                      ("CLOUDFLARE_API_TOKEN", config.api_token is not None))
                               if not ok)
        raise ConfigurationError(f"{missing} is not set. Set both CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN "
                                 f"to run against Cloudflare, or unset both (or set {BACKEND_ENV}=emulator) to "
                                 "run on the local emulator")
    stand_ins = _serves_emulator(config)
    where = (f"Cloudflare, account {config.account_id}" if urlsplit(config.base_url).hostname == CLOUDFLARE_HOST
             else f"{'local emulator served' if stand_ins else 'custom API'} at {config.base_url}")
    return Backend(kind="cloudflare", client=CloudflareClient(config=config),
                   async_client=AsyncCloudflareClient(config=config), stand_ins=stand_ins, where=where,
                   gateway_id=config.gateway_id or "default")
