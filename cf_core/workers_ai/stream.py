"""Streaming chat: a push parser from SSE payloads to ChatChunks (no I/O, one per stream).

It reads, in any mix (reference section 2):
- native ``{"response": "..."}`` chunks (the ``p`` padding is ignored);
- OpenAI ``choices[0].delta`` chunks, with ``content``, ``reasoning_content`` / ``reasoning`` and
  ``tool_calls`` fragments joined per ``index``;
- native top-level ``tool_calls`` arrays (complete calls, fragments, the all-null finalisation
  element, empty ``[]`` events);
- ``usage`` on any event: the LAST one wins and is emitted once, on the final chunk (never summed);
- ``[DONE]``; a stream that ends without it raises StreamError;
- a leading ``<think>...</think>`` block in the text, routed to ``ChatChunk.reasoning`` (tags may be
  split across events; see :mod:`.think`).

When tools were sent, text that may be a tool call written as JSON is held back until it is known;
``stop`` sequences are applied client-side, holding back just enough text to see one split across events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..errors import StreamError
from ..gateway import GatewayInfo
from ..http import GatewayArg, RawResponse, SSEDecoder, StreamCall, unwrap
from ..usage import usage_from_payload
from . import toolcalls
from .chat import ChatPlan, apply_stop, infer_finish, parse_result, plan_chat
from .ids import new_id
from .think import ThinkRouter
from .types import ChatChunk, ChatResult, ToolCallChunk

DONE = "[DONE]"


@dataclass
class _Call:
    id: str
    name: str | None
    arguments: str = ""


def _text_of(value: Any) -> str:
    """Streamed text or tool arguments as text: absent is empty, JSON values are serialised."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def result_chunks(result: ChatResult) -> list[ChatChunk]:
    """A complete answer as the chunks a stream of it would have produced."""
    calls = [ToolCallChunk(index=i, id=c.id, name=c.name,
                           arguments=c.raw_arguments if c.raw_arguments is not None else json.dumps(c.arguments))
             for i, c in enumerate(result.tool_calls)]
    return [ChatChunk(text=result.text, reasoning=result.reasoning or "", tool_call_chunks=calls,
                      usage=result.usage, finish_reason=result.finish_reason, gateway=result.gateway)]


class ChatStreamParser:
    """Feed it each SSE ``data`` payload; it returns the chunks to yield."""

    def __init__(self, plan: ChatPlan) -> None:
        self.plan = plan
        self.done = False
        self._gateway: GatewayInfo | None = None
        self._gateway_sent = False
        self._usage: Mapping[str, Any] | None = None
        self._finish: str | None = None
        self._calls: dict[int, _Call] = {}
        self._wire_index: dict[int, int] = {}
        self._current: int | None = None
        self._held = ""
        self._gate_open = not (plan.tool_names and not plan.json_mode)
        self._tail = ""
        self._stopped = False
        self._hold = max((len(s) for s in plan.stop), default=1) - 1
        self._think = ThinkRouter()

    # -- the StreamParser protocol ------------------------------------------------------------

    def begin(self, resp: RawResponse) -> None:
        self._gateway = resp.gateway

    def feed(self, data: str) -> list[ChatChunk]:
        if self.done:
            return []
        if data.strip() == DONE:
            self.done = True
            return [self._final()]
        try:
            event = json.loads(data)
        except ValueError:
            raise StreamError(f"the stream sent an event that is not JSON: {data[:200]!r}") from None
        if not isinstance(event, Mapping):
            return []
        error = event.get("error") or event.get("errors")
        if error:
            raise StreamError(f"the stream reported an error: {error}")
        return self._event(event)

    def end(self) -> list[ChatChunk]:
        if not self.done:
            raise StreamError("the stream ended before its [DONE] event: the answer is incomplete")
        return []

    def from_body(self, resp: RawResponse) -> list[ChatChunk]:
        if resp.content.lstrip().startswith(b"data:"):  # an event stream with the wrong content type
            self.begin(resp)
            decoder = SSEDecoder()
            out = [c for data in decoder.feed(resp.content) + decoder.flush() for c in self.feed(data)]
            return out + self.end()
        self.done = True
        return result_chunks(parse_result(self.plan, unwrap(resp), resp.gateway))

    # -- events -------------------------------------------------------------------------------

    def _event(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        text, reasoning = "", ""
        tool_chunks: list[ToolCallChunk] = []
        choices = event.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
            choice = choices[0]
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta, Mapping):
                text += _text_of(delta.get("content"))
                reasoning += _text_of(delta.get("reasoning_content")) or _text_of(delta.get("reasoning"))
                tool_chunks += self._tool_items(delta.get("tool_calls"))
            if isinstance(choice.get("finish_reason"), str):
                self._finish = choice["finish_reason"]
        if "response" in event:
            text += _text_of(event.get("response"))
        tool_chunks += self._tool_items(event.get("tool_calls"))
        if isinstance(event.get("finish_reason"), str):
            self._finish = event["finish_reason"]
        if isinstance(event.get("usage"), Mapping):
            self._usage = event["usage"]
        text, thought = self._think.push(text)
        reasoning += thought
        out_text = self._push_text(text)
        if not (out_text or reasoning or tool_chunks):
            return []
        return [self._chunk(text=out_text, reasoning=reasoning, tool_call_chunks=tool_chunks)]

    def _chunk(self, **fields: Any) -> ChatChunk:
        if not self._gateway_sent:
            self._gateway_sent = True
            fields["gateway"] = self._gateway
        return ChatChunk(**fields)

    def _final(self) -> ChatChunk:
        late_text, reasoning = self._think.flush()
        text, tool_chunks = self._push_text(late_text), []
        if self._held:
            calls = toolcalls.from_text(self._held, self.plan.tool_names, self.plan.id_pattern)
            if calls:
                base = max(self._calls, default=-1) + 1
                tool_chunks = [ToolCallChunk(index=base + i, id=c.id, name=c.name, arguments=json.dumps(c.arguments))
                               for i, c in enumerate(calls)]
                for i, c in enumerate(calls):
                    self._calls[base + i] = _Call(c.id, c.name, json.dumps(c.arguments))
            else:
                text += self._stop_filter(self._held)
            self._held = ""
        if not self._stopped:
            text += self._tail
        self._tail = ""
        usage = usage_from_payload(self.plan.model, self._usage)
        finish = infer_finish(self._finish, bool(self._calls), usage, self.plan.max_tokens, self._stopped)
        return self._chunk(text=text, reasoning=reasoning, tool_call_chunks=tool_chunks, usage=usage,
                           finish_reason=finish)

    # -- text: tool-call hold and stop sequences ----------------------------------------------

    def _push_text(self, text: str) -> str:
        if not text or self._stopped:
            return ""
        if not self._gate_open:
            self._held += text
            if toolcalls.could_be_text_call(self._held):
                return ""
            text, self._held, self._gate_open = self._held, "", True
        return self._stop_filter(text)

    def _stop_filter(self, text: str) -> str:
        if self._stopped:
            return ""
        if not self.plan.stop:
            return text
        buf = self._tail + text
        cut, found = apply_stop(buf, self.plan.stop)
        if found:
            self._stopped, self._tail = True, ""
            return cut
        keep = min(self._hold, len(buf))
        self._tail = buf[len(buf) - keep:] if keep else ""
        return buf[: len(buf) - keep]

    # -- tool calls ---------------------------------------------------------------------------

    def _tool_items(self, items: Any) -> list[ToolCallChunk]:
        if not isinstance(items, Sequence) or isinstance(items, str):
            return []
        out: list[ToolCallChunk] = []
        for item in items:
            chunk = self._tool_item(item)
            if chunk is not None:
                out.append(chunk)
        return out

    def _tool_item(self, item: Any) -> ToolCallChunk | None:
        if not isinstance(item, Mapping):
            return None
        fn = item.get("function")
        fn = fn if isinstance(fn, Mapping) else {}
        name = fn.get("name") if fn else item.get("name")
        args = fn.get("arguments") if fn else item.get("arguments", item.get("parameters"))
        call_id = item.get("id") if isinstance(item.get("id"), str) and item.get("id") else None
        name = name if isinstance(name, str) and name else None
        if name is None and call_id is None and args is None:
            self._current = None  # the null finalisation element closes the current call
            return None
        if call_id is not None and self._repeat(call_id, args):
            return None
        index = self._index_for(item.get("index"), name, call_id)
        arg_text = _text_of(args)
        state = self._calls.get(index)
        self._current = index
        if state is None:
            state = _Call(call_id or new_id(self.plan.id_pattern, f"{name}:{index}"), name, arg_text)
            self._calls[index] = state
            return ToolCallChunk(index=index, id=state.id, name=name, arguments=arg_text)
        state.arguments += arg_text
        new_name = name if name and not state.name else None
        if new_name:
            state.name = new_name
        return ToolCallChunk(index=index, id=None, name=new_name, arguments=arg_text)

    def _index_for(self, wire: Any, name: str | None, call_id: str | None) -> int:
        fresh = max(self._calls, default=-1) + 1
        if isinstance(wire, int) and not isinstance(wire, bool):
            mapped = self._wire_index.get(wire)
            if mapped is None:
                mapped = wire if wire not in self._calls else fresh
            else:
                known = self._calls[mapped]
                # The same wire index naming a second call (complete calls all sent as index 0).
                if name and known.name and (call_id is None or call_id != known.id) and known.arguments:
                    mapped = fresh
            self._wire_index[wire] = mapped
            return mapped
        if name or call_id or self._current is None:
            return fresh
        return self._current

    def _repeat(self, call_id: str, args: Any) -> bool:
        """A complete call sent again (e.g. in a closing event) after its fragments were streamed."""
        for call in self._calls.values():
            if call.id == call_id and call.arguments and args is not None:
                try:
                    return bool(json.loads(call.arguments) == json.loads(_text_of(args)))
                except ValueError:
                    return False
        return False


def stream_chat(model: str, messages: Sequence[Mapping[str, Any]] | None = None, *, prompt: str | None = None,
                max_tokens: int | None = None, temperature: float | None = None, top_p: float | None = None,
                top_k: int | None = None, seed: int | None = None, repetition_penalty: float | None = None,
                frequency_penalty: float | None = None, presence_penalty: float | None = None,
                stop: str | Sequence[str] | None = None, tools: Sequence[Mapping[str, Any]] | None = None,
                tool_choice: str | Mapping[str, Any] | None = None, json_schema: Any = None,
                json_mode: bool = False, image: bytes | str | None = None, raw: bool | None = None,
                lora: str | None = None, extra: Mapping[str, Any] | None = None, gateway: GatewayArg = None,
                timeout: float | None = None) -> StreamCall[ChatChunk]:
    """Stream a chat answer as ChatChunks (same arguments as ``chat``).

    JSON mode cannot stream on Workers AI: with ``json_schema``/``json_mode`` one ordinary call is made
    and its result comes back as chunks. Raises StreamError if the stream stops before ``[DONE]``.
    """
    plan = plan_chat(model, messages, prompt=prompt, max_tokens=max_tokens, temperature=temperature, top_p=top_p,
                     top_k=top_k, seed=seed, repetition_penalty=repetition_penalty,
                     frequency_penalty=frequency_penalty, presence_penalty=presence_penalty, stop=stop, tools=tools,
                     tool_choice=tool_choice, json_schema=json_schema, json_mode=json_mode, image=image, raw=raw,
                     lora=lora, extra=extra, gateway=gateway, timeout=timeout)
    return StreamCall(plan.request(stream=True), partial(ChatStreamParser, plan))
