"""cf_core: the shared REST core for Cloudflare Workers AI, Vectorize, Workers KV and AI Gateway."""

from .catalog import ModelInfo, info
from .client import AsyncCloudflareClient, CloudflareClient
from .config import CloudflareConfig
from .errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    CapacityError,
    CloudflareError,
    ConfigurationError,
    ConflictError,
    DLPError,
    GatewayAuthenticationError,
    GatewayError,
    GatewayRateLimitError,
    GuardrailsError,
    InvalidInputError,
    MutationTimeoutError,
    NotFoundError,
    PartialWriteError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    StreamError,
    TimeoutError,
)
from .gateway import Gateway, GatewayInfo
from .http import DIRECT, RetryPolicy

__all__ = [
    "DIRECT", "APIConnectionError", "APIError", "AsyncCloudflareClient", "AuthenticationError",
    "BadRequestError", "CapacityError", "CloudflareClient", "CloudflareConfig", "CloudflareError",
    "ConfigurationError", "ConflictError", "DLPError", "Gateway", "GatewayAuthenticationError",
    "GatewayError", "GatewayInfo", "GatewayRateLimitError", "GuardrailsError", "InvalidInputError",
    "ModelInfo", "MutationTimeoutError", "NotFoundError", "PartialWriteError", "PayloadTooLargeError",
    "PermissionDeniedError", "QuotaExceededError", "RateLimitError", "RetryPolicy", "ServerError",
    "StreamError", "TimeoutError", "info",
]
