"""Dense retrieval: FAISS inner product over normalized vectors, exact below a size threshold, IVF above."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

EXACT_MAX = 200_000  # exact flat search up to here, IVF above: IVF recall@10 0.97 at 100k, >= 0.999 from 200k (bench/scale.py)
NPROBE = 32  # IVF lists searched per query (recall@10 vs exact: bench/scale.py's sweep)
SUBSET_EXACT = 50_000  # a filtered search over at most this many rows is exact, whatever the index


class DenseIndex:
    def __init__(self, index):
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, exact_max: int = EXACT_MAX, nprobe: int = NPROBE) -> "DenseIndex":
        """Exact (flat) up to `exact_max` rows; above, IVF: `4·√n` lists from 10 rounds of k-means on a sample of
        40 vectors a list, `nprobe` of them searched per query. IVF builds far faster than HNSW (bench/scale.py),
        so adding a report to a large library stays cheap."""
        import faiss

        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building uses every core (per calling thread)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if n <= exact_max:
            index = faiss.IndexFlatIP(dim)
            index.add(vectors)
            return cls(index)
        nlist = int(4 * np.sqrt(n))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = 10  # k-means iterations (faiss's 25 triple the training time for little recall)
        sample = np.random.default_rng(0).choice(n, size=min(n, 40 * nlist), replace=False)
        index.train(vectors[np.sort(sample)])
        index.add(vectors)
        index.make_direct_map()  # vectors by row: reused by the embedding cache, and exact filtered search
        index.nprobe = min(nprobe, nlist)
        return cls(index)

    @property
    def kind(self) -> str:
        return {"IndexFlatIP": "flat", "IndexIVFFlat": "ivf"}.get(type(self.index).__name__, "hnsw")

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
        if allowed is not None and self.kind != "flat" and len(allowed) <= SUBSET_EXACT:
            return self._subset_search(query, k, np.asarray(allowed, dtype=np.int64))
        if allowed is not None:
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = {"hnsw": lambda: faiss.SearchParametersHNSW(sel=sel, efSearch=self.index.hnsw.efSearch),
                      "ivf": lambda: faiss.SearchParametersIVF(sel=sel, nprobe=self.index.nprobe),
                      "flat": lambda: faiss.SearchParameters(sel=sel)}[self.kind]()
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k,
                                        params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def _subset_search(self, query: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact top k among `rows`: an ANN index probing near the query may find fewer than k of a small
        allowed set (one report of a large library), so those rows' vectors are compared one by one."""
        scores = self.index.reconstruct_batch(rows) @ np.asarray(query, dtype=np.float32).reshape(-1)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
        top = top[np.lexsort((rows[top], -scores[top]))]
        return rows[top], scores[top].astype(np.float32)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        import faiss

        return cls(faiss.read_index(str(path)))
