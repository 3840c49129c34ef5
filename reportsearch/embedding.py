"""Compatibility re-export: the embedders moved to `reportsearch.embedders` (base, onnx, sentence_transformer)."""

from .embedders.base import (BGE_ZH_QUERY, KNOWN_PROMPTS, MODEL_ENV, Embedder, family_prompts, load_embedder,
                             requested_model)
from .embedders.sentence_transformer import SentenceTransformerEmbedder

__all__ = ["BGE_ZH_QUERY", "KNOWN_PROMPTS", "MODEL_ENV", "Embedder", "SentenceTransformerEmbedder",
           "family_prompts", "load_embedder", "requested_model"]
