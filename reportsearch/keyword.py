"""Keyword retrieval: BM25 (bm25s) over the Chinese tokenizer, saved as plain .npy/.json files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from .tokenize import DEFAULT_SCHEME, tokenize


class KeywordIndex:
    def __init__(self, bm25, scheme: str, count: int):
        self.bm25 = bm25
        self.scheme = scheme
        self.count = count
        self.vocab: dict[str, int] = bm25.vocab_dict

    @classmethod
    def build(cls, texts: Sequence[str], scheme: str = DEFAULT_SCHEME, k1: float = 1.2, b: float = 0.75):
        return cls.from_tokens([tokenize(t, scheme) for t in texts], scheme, k1, b)

    @classmethod
    def from_tokens(cls, corpus: Sequence[Sequence[str]], scheme: str = DEFAULT_SCHEME, k1: float = 1.2,
                    b: float = 0.75) -> "KeywordIndex":
        import bm25s

        corpus = [list(toks) or ["\u2205"] for toks in corpus]  # an empty passage still occupies its row
        bm25 = bm25s.BM25(k1=k1, b=b)
        bm25.index(corpus, show_progress=False)
        return cls(bm25, scheme, len(corpus))

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage for these query tokens (unknown tokens are ignored)."""
        ids = [self.vocab[t] for t in tokens if t in self.vocab]
        if not ids:
            return np.zeros(self.count, dtype=np.float32)
        return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)

    def query_scores(self, query: str) -> np.ndarray:
        return self.scores(tokenize(query, self.scheme))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.bm25.save(str(folder), show_progress=False)
        (folder / "tokenizer.json").write_text(json.dumps({"scheme": self.scheme, "count": self.count}),
                                               encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        import bm25s

        meta = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(folder), load_corpus=False, mmap=False)
        return cls(bm25, meta["scheme"], int(meta["count"]))
