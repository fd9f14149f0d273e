"""The SSE decoder is a pure state machine: frames split anywhere must decode the same."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cf_core.http import SSEDecoder

STREAM = (
    b'data: {"response":"Hel","p":"abc"}\n\n'
    b'data: {"response":"lo"}\r\n\r\n'
    b": a comment line\n\n"
    b"event: message\nid: 7\ndata: line one\ndata: line two\n\n"
    b'data: {"response":"","usage":{"prompt_tokens":3}}\n\n'
    b"data: [DONE]\n\n"
)
EXPECTED = ['{"response":"Hel","p":"abc"}', '{"response":"lo"}', "line one\nline two",
            '{"response":"","usage":{"prompt_tokens":3}}', "[DONE]"]


def _decode(chunks: list[bytes]) -> list[str]:
    dec = SSEDecoder()
    out: list[str] = []
    for chunk in chunks:
        out.extend(dec.feed(chunk))
    out.extend(dec.flush())
    return out


def test_whole_stream() -> None:
    assert _decode([STREAM]) == EXPECTED


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert _decode(chunks) == EXPECTED


def test_last_event_without_blank_line_is_flushed() -> None:
    assert _decode([b"data: [DONE]"]) == ["[DONE]"]
    assert _decode([b"data: x\n"]) == ["x"]


def test_unicode_split_inside_a_character() -> None:
    payload = 'data: {"response":"héllo ☃"}\n\n'.encode()
    cut = payload.index("☃".encode()) + 1
    assert _decode([payload[:cut], payload[cut:]]) == ['{"response":"héllo ☃"}']
