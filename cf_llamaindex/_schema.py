"""JSON-schema helpers: inline ``$ref``/``$defs`` (nested pydantic models) and build tool dicts.

Workers AI models are not documented to resolve ``$ref``, so schemas for tools and JSON mode are
sent self-contained. Recursive models cannot be inlined and are sent unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

_MAX_DEPTH = 32


class _Recursive(Exception):
    pass


def _resolve(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if len(seen) > _MAX_DEPTH:
        raise _Recursive
    if isinstance(node, list):
        return [_resolve(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(("#/$defs/", "#/definitions/")):
        name = ref.rsplit("/", 1)[-1]
        if name in seen or name not in defs:
            raise _Recursive
        target = _resolve(defs[name], defs, (*seen, name))
        siblings = {k: _resolve(v, defs, seen) for k, v in node.items() if k != "$ref"}
        return {**target, **siblings}
    return {k: _resolve(v, defs, seen) for k, v in node.items() if k not in ("$defs", "definitions")}


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every local ``$ref`` replaced by its definition (unchanged if recursive)."""
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    if not defs:
        return schema
    try:
        resolved = _resolve(schema, defs, ())
    except _Recursive:
        return schema
    assert isinstance(resolved, dict)
    return resolved


def tool_dicts(tools: Sequence[BaseTool]) -> list[dict[str, Any]]:
    """OpenAI-style function dicts for LlamaIndex tools, with self-contained parameter schemas."""
    out = []
    for tool in tools:
        spec = tool.metadata.to_openai_tool(skip_length_check=True)
        function = dict(spec["function"])
        function["parameters"] = inline_refs(dict(function.get("parameters") or
                                                  {"type": "object", "properties": {}}))
        out.append({"type": "function", "function": function})
    return out
