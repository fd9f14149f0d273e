"""Requests as values, the effect protocol for multi-step operations, and the two transports."""

from .effects import Effect, Gather, Op, Pace, Runnable, Sleep
from .pacing import RequestPacer
from .request import (
    DIRECT,
    ApiRequest,
    Call,
    GatewayArg,
    RawResponse,
    StreamCall,
    StreamParser,
    unwrap,
)
from .retry import RetryPolicy
from .sse import SSEDecoder
from .transport import AsyncTransport, SyncTransport, TransportBase, TransportStats

__all__ = [
    "DIRECT",
    "ApiRequest",
    "AsyncTransport",
    "Call",
    "Effect",
    "GatewayArg",
    "Gather",
    "Op",
    "Pace",
    "RawResponse",
    "RequestPacer",
    "RetryPolicy",
    "Runnable",
    "SSEDecoder",
    "Sleep",
    "StreamCall",
    "StreamParser",
    "SyncTransport",
    "TransportBase",
    "TransportStats",
    "unwrap",
]
