"""The demo's corpus: short documents the project wrote itself (its own features, Cloudflare's limits),
bundled as ``corpus.json`` next to this module."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Doc:
    id: str
    topic: str
    title: str
    text: str

    @property
    def metadata(self) -> dict[str, Any]:
        return {"source": f"handbook/{self.id}", "title": self.title, "topic": self.topic}


def load_corpus() -> list[Doc]:
    raw = json.loads(resources.files(__package__).joinpath("corpus.json").read_text(encoding="utf-8"))
    return [Doc(id=d["id"], topic=d["topic"], title=d["title"], text=d["text"]) for d in raw]
