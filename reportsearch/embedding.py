"""Sentence-transformers embedders: the offline default, any hub id or local path, with per-family prompts."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .defaultmodel import DEFAULT_MODEL_ID, ensure_default_model
from .errors import ModelError

log = logging.getLogger(__name__)

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


class SentenceTransformerEmbedder:
    """A sentence-transformers model; vectors are L2-normalized so inner product is cosine."""

    def __init__(self, name: str, batch_size: int = 32):
        self.name = name
        self.batch_size = batch_size
        path = str(ensure_default_model()) if name == DEFAULT_MODEL_ID else name
        if name == DEFAULT_MODEL_ID:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(path, device="cpu")
        except Exception as e:  # a hub id offline, a broken folder, a wrong path: one clear line
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            hint = "" if Path(path).exists() else " (a hub id needs a network; offline, use a local folder)"
            raise ModelError(f"cannot load embedding model {name!r}: {first[:200]}{hint}") from e
        own = {k: v for k, v in (self.model.prompts or {}).items() if k in ("query", "passage") and v}
        self.prompts = own or family_prompts(name)
        self.dim = int(self.model.get_embedding_dimension())

    def _encode(self, texts: Sequence[str], kind: str, progress: bool) -> np.ndarray:
        prompt = self.prompts.get(kind, "")
        vecs = self.model.encode(list(texts), prompt=prompt or None, batch_size=self.batch_size,
                                 normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query", False)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", progress)


def load_embedder(spec: str | None = None) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(requested_model(spec))
