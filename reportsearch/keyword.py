"""Keyword retrieval: BM25 (bm25s) over the Chinese tokenizer, saved as plain .npy/.json files."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from .tokenize import DEFAULT_SCHEME, tokenize


def _bm25s():
    """bm25s, imported on first use; it sets its logger to DEBUG when imported, which printed its
    "Building index from tokens" on every ingest: its notes stay out of the log unless they are warnings."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


class KeywordIndex:
    def __init__(self, bm25, scheme: str, count: int, tokens: list[list[str]] | None = None):
        self.bm25 = bm25
        self.scheme = scheme
        self.count = count
        self.tokens = tokens  # each passage's tokens, kept at ingest so a library update re-tokenizes only new text
        self.vocab: dict[str, int] = bm25.vocab_dict
        self._df: np.ndarray | None = None

    @property
    def doc_freq(self) -> np.ndarray:
        """Passages containing each token id, read off the postings built at ingest (once per load)."""
        if self._df is None:
            self._df = np.diff(np.asarray(self.bm25.scores["indptr"])).astype(np.int64)
        return self._df

    def df(self, token: str) -> int:
        i = self.vocab.get(token)
        return 0 if i is None else int(self.doc_freq[i])

    @classmethod
    def build(cls, texts: Sequence[str], scheme: str = DEFAULT_SCHEME, k1: float = 1.2, b: float = 0.75,
              known: dict[str, list[str]] | None = None):
        """Tokenize and index; `known` maps texts already tokenized (by this scheme) to their tokens."""
        known = {} if known is None else dict(known)
        corpus = []
        for t in texts:
            if t not in known:
                known[t] = tokenize(t, scheme)
            corpus.append(known[t])
        return cls.from_tokens(corpus, scheme, k1, b)

    @classmethod
    def from_tokens(cls, corpus: Sequence[Sequence[str]], scheme: str = DEFAULT_SCHEME, k1: float = 1.2,
                    b: float = 0.75) -> "KeywordIndex":
        bm25s = _bm25s()
        corpus = [list(toks) or ["\u2205"] for toks in corpus]  # an empty passage still occupies its row
        bm25 = bm25s.BM25(k1=k1, b=b)
        bm25.index(corpus, show_progress=False)
        return cls(bm25, scheme, len(corpus), corpus)

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
        if self.tokens is not None:
            with open(folder / "tokens.txt", "w", encoding="utf-8") as f:
                f.writelines(" ".join(toks) + "\n" for toks in self.tokens)

    @staticmethod
    def load_tokens(folder: Path) -> list[list[str]] | None:
        """Each passage's tokens as saved at ingest (None for an index written without them)."""
        try:
            with open(folder / "tokens.txt", encoding="utf-8") as f:
                return [line.split() for line in f.read().splitlines()]
        except OSError:
            return None

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        bm25s = _bm25s()
        meta = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(folder), load_corpus=False, mmap=False)
        return cls(bm25, meta["scheme"], int(meta["count"]))


def top_k(scores: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
    """The k largest positive scores as (row, score), best first, ties broken by row (as a stable full sort
    would), in O(n) with argpartition instead of sorting every passage."""
    if rows is not None:
        sub = scores[rows]
        return [(int(rows[i]), s) for i, s in top_k(sub, k)]
    pos = np.flatnonzero(scores > 0)
    if len(pos) > k:
        vals = scores[pos]
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]  # the k-th largest value
        above, tied = pos[vals > kth], pos[vals == kth]
        pos = np.concatenate([above, tied[:k - len(above)]])  # pos is ascending, so ties keep the lowest rows
    pos = pos[np.lexsort((pos, -scores[pos]))]
    return list(zip(pos.tolist(), scores[pos].tolist()))
