"""The sentence-transformers (torch) embedder: any hub id or local folder, and the default model's fallback."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..defaultmodel import DEFAULT_MODEL_ID, ensure_default_model
from ..errors import ModelError
from .base import family_prompts

log = logging.getLogger(__name__)


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
        self.backend = {"backend": "sentence-transformers", "variant": "torch"}

    def _encode(self, texts: Sequence[str], kind: str, progress: bool) -> np.ndarray:
        prompt = self.prompts.get(kind, "")
        vecs = self.model.encode(list(texts), prompt=prompt or None, batch_size=self.batch_size,
                                 normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=progress)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query", False)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", progress)
