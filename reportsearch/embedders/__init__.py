"""Embedders: the Embedder protocol and `load_embedder` (base), one module per backend."""

from .base import BGE_ZH_QUERY, KNOWN_PROMPTS, MODEL_ENV, Embedder, family_prompts, load_embedder, requested_model

__all__ = ["BGE_ZH_QUERY", "KNOWN_PROMPTS", "MODEL_ENV", "Embedder", "family_prompts", "load_embedder",
           "requested_model"]
