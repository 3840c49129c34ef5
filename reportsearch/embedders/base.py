"""The Embedder protocol, model names and prompts, and `load_embedder`, which picks the backend."""

from __future__ import annotations

import os
from typing import Protocol, Sequence

import numpy as np

from ..defaultmodel import DEFAULT_MODEL_ID
from ..errors import ModelError

MODEL_ENV = "REPORTSEARCH_MODEL"
VARIANT_ENV = "REPORTSEARCH_DEFAULT_VARIANT"
# How the default model runs: onnxruntime int8 (default; chosen on the eval set, see models.md), onnxruntime
# fp32, or the sentence-transformers folder on torch (the model of record). Any other model runs on torch.
VARIANTS = ("int8", "fp32", "torch")
DEFAULT_VARIANT = "int8"
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


def encode_spans_alone(embedder: Embedder, texts: Sequence[str],
                       spans: Sequence[Sequence[tuple[int, int]]]) -> list[np.ndarray]:
    """A vector per (start, end) span of each text, each span's text embedded on its own as a passage."""
    flat = [t[a:b] for t, sp in zip(texts, spans) for a, b in sp]
    vecs = embedder.encode_passages(flat) if flat else np.zeros((0, embedder.dim), np.float32)
    out, n = [], 0
    for sp in spans:
        out.append(vecs[n:n + len(sp)])
        n += len(sp)
    return out


def requested_model(spec: str | None = None) -> str:
    """The model asked for: the argument, else $REPORTSEARCH_MODEL, else the offline default."""
    return spec or os.environ.get(MODEL_ENV) or DEFAULT_MODEL_ID


def family_prompts(name: str) -> dict[str, str]:
    low = name.lower()
    for key, prompts in KNOWN_PROMPTS:
        if key in low:
            return dict(prompts)
    return {}


def default_variant(variant: str | None = None) -> str:
    v = variant or os.environ.get(VARIANT_ENV) or DEFAULT_VARIANT
    if v not in VARIANTS:
        raise ModelError(f"unknown default-model variant {v!r} (from ${VARIANT_ENV}); "
                         f"choose one of {', '.join(VARIANTS)}")
    return v


def recorded_variant(manifest: dict) -> str | None:
    """The default model's variant an index's vectors were made with (its manifest's `backend`), so that queries
    run on the same one; None for other models and for older indexes that record none."""
    if manifest.get("model") != DEFAULT_MODEL_ID:
        return None
    v = (manifest.get("backend") or {}).get("variant")
    return v if v in VARIANTS else None


def expected_backend(spec: str | None = None, variant: str | None = None) -> dict:
    """What `load_embedder(spec, variant).backend` will be, without loading anything (the manifest's `backend`)."""
    if requested_model(spec) == DEFAULT_MODEL_ID and (v := default_variant(variant)) != "torch":
        return {"backend": "onnxruntime", "variant": v}
    return {"backend": "sentence-transformers", "variant": "torch"}


def load_embedder(spec: str | None = None, variant: str | None = None, warm: str = "query") -> Embedder:
    """The embedder for a model name. The offline default runs on onnxruntime unless the variant is `torch`;
    torch (and sentence-transformers) is imported only on the torch path. `warm`: which onnxruntime session
    starts loading now, "query" (serving) or "passage" (ingest)."""
    name = requested_model(spec)
    backend = expected_backend(name, variant)
    if backend["backend"] == "onnxruntime":
        from ..defaultmodel import ONNX_FP32, ONNX_INT8, PROMPTS, SPM_FILE, ensure_default_model
        from .onnx import OnnxEmbedder

        v = backend["variant"]
        folder = ensure_default_model()
        return OnnxEmbedder(name, folder, ONNX_INT8 if v == "int8" else ONNX_FP32, PROMPTS, variant=v, warm=warm,
                            spm_file=SPM_FILE)
    from .sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(name)
