"""Embedders: the Embedder protocol and `load_embedder` (base), one module per backend (onnx, sentence_transformer)."""

from .base import (BGE_ZH_QUERY, KNOWN_PROMPTS, MODEL_ENV, VARIANT_ENV, VARIANTS, Embedder, encode_spans_alone,
                   expected_backend, family_prompts, load_embedder, recorded_variant, requested_model)

__all__ = ["BGE_ZH_QUERY", "KNOWN_PROMPTS", "MODEL_ENV", "VARIANT_ENV", "VARIANTS", "Embedder",
           "encode_spans_alone", "expected_backend", "family_prompts", "load_embedder", "recorded_variant",
           "requested_model"]
