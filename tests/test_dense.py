"""The dense index: exact up to its switch point, IVF above; saved and loaded whole; filters exact on small sets."""

import numpy as np

from reportsearch.dense import DenseIndex


def _vectors(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, dim)).astype(np.float32)
    v = centres[rng.integers(0, 50, n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_ivf_above_the_switch_point_finds_what_exact_finds(tmp_path):
    vecs, queries = _vectors(4000), _vectors(30, seed=1)
    exact = DenseIndex.build(vecs, exact_max=10_000)
    ivf = DenseIndex.build(vecs, exact_max=1000)
    assert (exact.kind, ivf.kind) == ("flat", "ivf") and ivf.count == 4000 and ivf.dim == 64
    recall = np.mean([len(set(exact.search(q, 10)[0]) & set(ivf.search(q, 10)[0])) / 10 for q in queries])
    assert recall >= 0.95, recall
    ivf.save(tmp_path / "dense.faiss")
    back = DenseIndex.load(tmp_path / "dense.faiss")
    assert back.kind == "ivf" and back.index.nprobe == ivf.index.nprobe
    assert np.allclose(back.index.reconstruct_n(0, back.count), vecs, atol=1e-6)  # the embedding cache reads these
    ids, scores = back.search(queries[0], 10)
    assert list(ids) == list(ivf.search(queries[0], 10)[0]) and np.all(np.diff(scores) <= 1e-6)


def test_a_filter_to_a_small_set_is_exact_on_an_ann_index():
    """One report of a large library: the rows an IVF index probes near the query may hold few of them, so a
    filtered search over a small set compares that set's vectors one by one and returns exactly its top k."""
    vecs, q = _vectors(4000), _vectors(1, seed=2)[0]
    ivf = DenseIndex.build(vecs, exact_max=1000)
    ivf.index.nprobe = 1  # the least it could probe
    allowed = np.arange(3, 4000, 97)  # 42 rows scattered over every cluster
    ids, scores = ivf.search(q, 10, allowed=allowed)
    want = allowed[np.argsort(-(vecs[allowed] @ q), kind="stable")[:10]]
    assert list(ids) == list(want) and np.allclose(scores, vecs[want] @ q, atol=1e-5)
    assert len(ivf.search(q, 100, allowed=allowed)[0]) == len(allowed)  # k larger than the set: all of it
