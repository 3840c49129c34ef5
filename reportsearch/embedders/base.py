"""The Embedder protocol, model names and prompts, and `load_embedder`, which picks the backend."""

from __future__ import annotations

import os
from typing import Protocol, Sequence

import numpy as np

from ..defaultmodel import DEFAULT_MODEL_ID

MODEL_ENV = "REPORTSEARCH_MODEL"
BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
# Fallback prompts for families whose configs do not carry them; a model's own prompts win.
KNOWN_PROMPTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("e5", {"query": "query: ", "passage": "passage: "}),
    ("bge-m3", {}),
    ("bge-small-zh", {"query": BGE_ZH_QUERY}),
    ("bge-base-zh", {"query": BGE_ZH_QUERY}),
    ("bge-large-zh", {"query": BGE_ZH_QUERY}),
    ("bge-", {"query": "Represent this sentence for searching relevant passages: "}),
)


class Embedder(Protocol):
    """What the index and engine need from a model."""

    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


def requested_model(spec: str | None = None) -> str:
    """The model asked for: the argument, else $REPORTSEARCH_MODEL, else the offline default."""
    return spec or os.environ.get(MODEL_ENV) or DEFAULT_MODEL_ID


def family_prompts(name: str) -> dict[str, str]:
    low = name.lower()
    for key, prompts in KNOWN_PROMPTS:
        if key in low:
            return dict(prompts)
    return {}


def load_embedder(spec: str | None = None):
    from .sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(requested_model(spec))
