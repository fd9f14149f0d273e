"""Reasoning written inline: some reasoning models (deepseek-r1-distill-qwen-32b, qwq...) open their answer
with ``<think>...</think>`` instead of sending ``reasoning_content``.

Only a LEADING block counts (whitespace before it allowed): a tag that appears later is part of the
answer. A block that is never closed (the answer was cut while thinking) is all reasoning.
"""

from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


def split_leading_think(text: str) -> tuple[str | None, str]:
    """``(reasoning, answer)``: the leading think block's content (None when there is none) and the rest."""
    body = text.lstrip()
    if not body.startswith(OPEN):
        return None, text
    inner = body[len(OPEN):]
    end = inner.find(CLOSE)
    if end < 0:
        return inner.strip(), ""
    return inner[:end].strip(), inner[end + len(CLOSE):].lstrip()


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that could be the start of ``tag`` split across events."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkRouter:
    """Streamed text in, ``(answer_text, reasoning_text)`` out: the same split as
    :func:`split_leading_think`, with tags allowed to arrive split across events."""

    def __init__(self) -> None:
        self._state = "start"  # start -> (inside -> after ->) answer
        self._buf = ""
        self._reasoning_started = False

    def push(self, text: str) -> tuple[str, str]:
        if self._state == "answer" or not text:
            return text, ""
        self._buf += text
        answer, reasoning = "", ""
        if self._state == "start":
            body = self._buf.lstrip()
            if OPEN.startswith(body):  # nothing yet, or a possible opening tag still arriving
                return "", ""
            if not body.startswith(OPEN):
                self._state, answer, self._buf = "answer", self._buf, ""
                return answer, ""
            self._state, self._buf = "inside", body[len(OPEN):]
        if self._state == "inside":
            end = self._buf.find(CLOSE)
            if end < 0:
                # Hold a possible split closing tag, and the whitespace before it (dropped if the tag follows).
                keep = _partial_suffix(self._buf, CLOSE)
                keep += len(self._buf[:len(self._buf) - keep]) - len(self._buf[:len(self._buf) - keep].rstrip())
                reasoning, self._buf = self._buf[:len(self._buf) - keep], self._buf[len(self._buf) - keep:]
                return "", self._reasoning(reasoning)
            reasoning = self._buf[:end].rstrip()
            self._state, self._buf = "after", self._buf[end + len(CLOSE):]
            reasoning = self._reasoning(reasoning)
        if self._state == "after":
            rest = self._buf.lstrip()
            self._buf = ""
            if rest:
                self._state, answer = "answer", rest
        return answer, reasoning

    def flush(self) -> tuple[str, str]:
        """What is still held when the stream ends: a lone partial opening tag is answer text, a
        partial closing tag inside an unclosed block is reasoning."""
        held, self._buf = self._buf, ""
        if self._state == "start":
            self._state = "answer"
            return held, ""
        if self._state == "inside":
            return "", self._reasoning(held.rstrip())
        return "", ""

    def _reasoning(self, text: str) -> str:
        # Leading whitespace just after <think> is layout, not reasoning (split_leading_think strips it).
        if not self._reasoning_started:
            text = text.lstrip()
            self._reasoning_started = bool(text)
        return text
