"""Dense retrieval: FAISS inner product over normalized vectors, exact below a size threshold, HNSW above."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

EXACT_MAX = 100_000  # exact flat search up to here; HNSW above (recall@10 1.000 at 100k, 5x faster: bench/scale.py)


class DenseIndex:
    def __init__(self, index):
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, exact_max: int = EXACT_MAX) -> "DenseIndex":
        import faiss

        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core (per calling thread)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if n <= exact_max:
            index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 128
        index.add(vectors)
        return cls(index)

    @property
    def kind(self) -> str:
        return "flat" if type(self.index).__name__ == "IndexFlatIP" else "hnsw"

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return (row ids, cosine scores) of the k nearest rows, best first; only `allowed` rows when given."""
        k = max(0, min(k, self.count if allowed is None else len(allowed)))
        if k == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        import faiss

        # one OpenMP thread per search (the setting is per calling thread): a single query gains nothing from
        # a second thread, and with concurrent searches on 2 cores the spinning threads made flat search ~3x
        # slower (bench/scale.py)
        faiss.omp_set_num_threads(1)
        params = None
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = (faiss.SearchParametersHNSW(sel=sel, efSearch=self.index.hnsw.efSearch)
                      if self.kind == "hnsw" else faiss.SearchParameters(sel=sel))
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k,
                                        params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        import faiss

        return cls(faiss.read_index(str(path)))
