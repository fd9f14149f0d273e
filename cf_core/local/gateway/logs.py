"""Gateway log entries: storage, the list/get views and the logs API's filters."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

HEAD_CHARS = 1024
MAX_PAYLOAD_BYTES = 1024 * 1024
DEFAULT_MAX_LOGS = 100_000
"""In-memory cap per gateway when the gateway sets no ``log_management`` (oldest dropped)."""


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class LogEntry:
    id: str
    seq: int
    created_at: float
    provider: str
    model: str
    path: str
    request_type: str
    step: int = 0
    model_type: str | None = None
    duration: int = 0
    success: bool = False
    cached: bool = False
    status_code: int = 0
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float = 0.0
    custom_cost: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None
    authentication: bool = False
    request_content_type: str | None = None
    response_content_type: str | None = None
    request_size: int = 0
    response_size: int = 0
    request_body: bytes | None = None
    response_body: bytes | None = None
    feedback: int | None = None
    score: float | None = None

    @property
    def total_tokens(self) -> int:
        return (self.tokens_in or 0) + (self.tokens_out or 0)

    def list_view(self) -> dict[str, Any]:
        return {
            "id": self.id, "created_at": iso(self.created_at), "provider": self.provider, "model": self.model,
            "model_type": self.model_type, "path": self.path, "duration": self.duration,
            "success": self.success, "cached": self.cached, "status_code": self.status_code,
            "tokens_in": self.tokens_in, "tokens_out": self.tokens_out, "cost": self.cost,
            "custom_cost": self.custom_cost,
            "metadata": json.dumps(self.metadata, separators=(",", ":")) if self.metadata else None,
            "request_type": self.request_type, "request_content_type": self.request_content_type,
            "response_content_type": self.response_content_type, "step": self.step,
            "event_id": self.event_id, "feedback": self.feedback, "score": self.score,
        }

    def detail_view(self) -> dict[str, Any]:
        out = self.list_view()
        for prefix, body, size in (("request", self.request_body, self.request_size),
                                   ("response", self.response_body, self.response_size)):
            text = body.decode("utf-8", "replace") if body is not None else None
            out[f"{prefix}_size"] = size
            out[f"{prefix}_head"] = text[:HEAD_CHARS] if text is not None else None
            out[f"{prefix}_head_complete"] = (text is not None and len(text) <= HEAD_CHARS
                                              and len(body or b"") == size)
        return out

    def field_value(self, key: str) -> Any:
        if key == "tokens":
            return self.total_tokens
        if key == "created_at":
            return self.created_at
        return getattr(self, key)


def payload(body: bytes) -> bytes:
    return body[:MAX_PAYLOAD_BYTES]


class LogStore:
    """One gateway's logs, oldest first. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, LogEntry] = {}

    def add(self, entry: LogEntry, limit: int | None, strategy: str | None) -> bool:
        """Store ``entry``; ``False`` when the gateway's log limit says stop inserting."""
        cap = limit or DEFAULT_MAX_LOGS
        with self._lock:
            if len(self._entries) >= cap:
                if limit is not None and strategy != "DELETE_OLDEST":
                    return False
                while len(self._entries) >= cap:
                    del self._entries[next(iter(self._entries))]
            self._entries[entry.id] = entry
            return True

    def get(self, log_id: str) -> LogEntry | None:
        with self._lock:
            return self._entries.get(log_id)

    def update(self, log_id: str, fn: Callable[[LogEntry], None]) -> LogEntry | None:
        with self._lock:
            entry = self._entries.get(log_id)
            if entry is not None:
                fn(entry)
            return entry

    def snapshot(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries.values())

    def delete(self, ids: Iterable[str]) -> int:
        with self._lock:
            count = 0
            for log_id in ids:
                if self._entries.pop(log_id, None) is not None:
                    count += 1
            return count

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
