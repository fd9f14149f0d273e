"""Server-sent events decoding as a pure state machine over bytes (no I/O)."""

from __future__ import annotations


class SSEDecoder:
    """Feed raw bytes as they arrive; get back the ``data`` payload of each complete event.

    Handles events split across reads, CRLF or LF line ends, multi-line data, comments and
    ``event:``/``id:`` fields (ignored: Cloudflare does not use them).
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        events: list[str] = []
        while True:
            idx = self._buffer.find(b"\n")
            if idx < 0:
                break
            raw, self._buffer = self._buffer[:idx], self._buffer[idx + 1:]
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if not line:
                if self._data:
                    events.append("\n".join(self._data))
                    self._data = []
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                self._data.append(value)
        return events

    def flush(self) -> list[str]:
        """End of input: a last event not followed by a blank line still counts."""
        events = []
        if self._buffer.strip():
            events.extend(self.feed(b"\n"))
        if self._data:
            events.append("\n".join(self._data))
            self._data = []
        self._buffer = b""
        return events
