"""How close a query's model run is to the floor of onnxruntime's int8 kernels on one core, and what else was tried.

    python bench/model_floor.py [--rounds 9] [--skip-overlap]

Part 1 times chains of 32 `DynamicQuantizeMatMul` nodes (the default model's matrix products, int8 weights per
column) of each of the model's three shapes at 1 to 48 tokens: µs a node, µs a token (row) and multiply-adds a
second. Part 2 runs the shipped int8 file: onnxruntime's own profile at 12 tokens (the time in the matrix
products, `DynamicQuantizeMatMul` and `QAttention`, against the rest), and the CPU of one run at 4 to 48 tokens
with a straight line fitted through them. Part 3 counts the tokens of the 196 eval questions and how many of them
every query carries (`<s>`, the prompt `query: `, `</s>`). Part 4 runs one query on one onnxruntime thread, on
two, and on two that spin between operators. Part 5 starts each hybrid search's model run on another thread, so
that the search's own work before the run (the keyword side, the question's time and measure) happens meanwhile,
and compares it with the search as shipped: the same answers, wall time a search, alternating rounds.

Times are medians over `--rounds` rounds; CPU times are the calling thread's clock (a query runs on one thread),
except in part 4, which gives the whole process's. Model runs use the embedder's own session settings and run
options.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from common import ROOT, med

SHAPES = ((384, 1152, "attention's q, k, v (inside QAttention)"), (384, 384, "attention output"),
          (384, 1536, "feed-forward in"), (1536, 384, "feed-forward out"))
TOKENS = (1, 4, 12, 24, 48)


def _session(model, threads: int = 1, spin: bool = False, profile: str | None = None):
    import onnxruntime as ort

    from reportsearch.embedders.onnx import DISABLED_OPTIMIZERS

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    if profile:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(DISABLED_OPTIMIZERS))


def matmul_chain(k: int, n: int, nodes: int = 32) -> bytes:
    """`nodes` DynamicQuantizeMatMul nodes side by side on one input (k) with int8 weights (k, n), as the
    quantizer writes them: a scale per output column, zero points 0, a bias."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits, graph_nodes, outs = [], [], []
    for i in range(nodes):
        inits += [numpy_helper.from_array(rng.integers(-127, 128, (k, n), dtype=np.int8), f"w{i}"),
                  numpy_helper.from_array(rng.random(n, dtype=np.float32) * 0.01, f"s{i}"),
                  numpy_helper.from_array(np.zeros(n, dtype=np.int8), f"z{i}"),
                  numpy_helper.from_array(rng.random(n, dtype=np.float32), f"b{i}")]
        graph_nodes.append(helper.make_node("DynamicQuantizeMatMul", ["x", f"w{i}", f"s{i}", f"z{i}", f"b{i}"],
                                            [f"y{i}"], domain="com.microsoft"))
        outs.append(helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, ["m", n]))
    graph = helper.make_graph(graph_nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", k])],
                              outs, inits)
    model = helper.make_model(graph, ir_version=9, opset_imports=[helper.make_opsetid("", 17),
                                                                  helper.make_opsetid("com.microsoft", 1)])
    return model.SerializeToString()


def _run_options():
    """The run options every query runs with (the embedder's: the arena given back after each run)."""
    from reportsearch.embedders.onnx import _shrinking_run

    return _shrinking_run()


def cpu_ms(fn, repeat: int) -> float:
    t = time.thread_time()
    for _ in range(repeat):
        fn()
    return (time.thread_time() - t) / repeat * 1000


def part_kernels(rounds: int) -> None:
    print("1. DynamicQuantizeMatMul alone, one thread (32 nodes a run; median of rounds)")
    print("| weights | tokens | µs a node | µs a token | multiply-adds a second |")
    print("|---|---|---|---|---|")
    for k, n, what in SHAPES:
        sess = _session(matmul_chain(k, n))
        for m in TOKENS:
            x = np.random.default_rng(m).standard_normal((m, k)).astype(np.float32)
            sess.run(None, {"x": x})
            us = med([cpu_ms(lambda: sess.run(None, {"x": x}), 20) for _ in range(rounds)]) * 1000 / 32
            print(f"| {k}×{n} ({what}) | {m} | {us:.1f} | {us / m:.2f} | {k * n * m / us / 1e3:.1f} G |")


def query_feeds(embedder, queries: list[str]) -> list[dict]:
    prompt = embedder.prompts.get("query", "")
    ids = [np.array(embedder.token_ids([prompt + q]), dtype=np.int64) for q in queries]
    return [{"input_ids": x, "attention_mask": np.ones_like(x)} for x in ids]


def part_model(model: str, rounds: int) -> None:
    print(f"\n2. The shipped int8 model ({os.path.relpath(model, ROOT)}), one thread")
    rng = np.random.default_rng(0)

    def feed(n: int) -> dict:
        ids = rng.integers(5, 200_000, (1, n)).astype(np.int64)
        ids[0, 0], ids[0, -1] = 0, 2
        return {"input_ids": ids, "attention_mask": np.ones_like(ids)}

    with tempfile.TemporaryDirectory() as tmp:
        sess = _session(model, profile=os.path.join(tmp, "p"))
        f12 = feed(12)
        for _ in range(100):
            sess.run(None, f12, _run_options())
        with open(sess.end_profiling(), encoding="utf-8") as f:
            events = json.load(f)
    by_op: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            by_op[e["args"]["op_name"]] = by_op.get(e["args"]["op_name"], 0.0) + e["dur"]
    runs = [e["dur"] for e in events if e.get("name") == "model_run"]
    total = sum(by_op.values())
    mm = by_op.get("DynamicQuantizeMatMul", 0) + by_op.get("QAttention", 0)
    print(f"profile at 12 tokens (100 runs, profiling on): a run {med(runs) / 1000:.2f} ms; of its operators' time, "
          f"{100 * mm / total:.0f}% in DynamicQuantizeMatMul + QAttention "
          f"({', '.join(f'{k} {100 * v / total:.1f}%' for k, v in sorted(by_op.items(), key=lambda x: -x[1])[:6])})")
    sess = _session(model)
    lengths = (4, 8, 12, 16, 24, 48)
    feeds = {n: feed(n) for n in lengths}
    for f in feeds.values():
        sess.run(None, f, _run_options())
    cpu = {n: [] for n in lengths}
    for r in range(rounds):
        for n in (lengths if r % 2 == 0 else lengths[::-1]):
            cpu[n].append(cpu_ms(lambda: sess.run(None, feeds[n], _run_options()), 20))
    ms = [med(cpu[n]) for n in lengths]
    slope, icpt = np.polyfit(lengths, ms, 1)
    print("| tokens | " + " | ".join(map(str, lengths)) + " |")
    print("|---|" + "---|" * len(lengths))
    print("| CPU a run (ms) | " + " | ".join(f"{x:.2f}" for x in ms) + " |")
    print(f"a straight line through them: {icpt:.2f} ms + {slope:.3f} ms a token")


def part_tokens(embedder, queries: list[str]) -> None:
    prompt = embedder.prompts.get("query", "")
    n = [len(x) for x in embedder.token_ids([prompt + q for q in queries])]
    fixed = len(embedder.token_ids([prompt.rstrip()])[0])
    print(f"\n3. The {len(queries)} eval questions: {np.mean(n):.1f} tokens on average (median {med(n)}), of which "
          f"{fixed} in every query (<s>, the prompt's pieces, </s>), and one more '▁' before a question that "
          f"starts with Chinese")


def part_threads(model: str, embedder, queries: list[str], rounds: int) -> None:
    print(f"\n4. One query run (the {len(queries)} eval questions), one onnxruntime thread against two")
    feeds = query_feeds(embedder, queries)
    variants = {"1 thread": _session(model), "2 threads, workers sleep between operators": _session(model, 2),
                "2 threads, workers spin": _session(model, 2, spin=True)}
    wall = {k: [] for k in variants}
    cpu = {k: [] for k in variants}
    names = list(variants)
    for r in range(rounds):
        for k in names[r % 3:] + names[:r % 3]:
            sess = variants[k]
            c, w = time.process_time(), time.perf_counter()
            for f in feeds:
                sess.run(None, f, _run_options())
            cpu[k].append((time.process_time() - c) / len(feeds) * 1000)
            wall[k].append((time.perf_counter() - w) / len(feeds) * 1000)
    for k in names:
        print(f"{k}: {med(wall[k]):.2f} ms wall, {med(cpu[k]):.2f} ms CPU (all threads) a query")


def part_overlap(rounds: int) -> None:
    from reportsearch.engine import SearchEngine, normalize_query
    from reportsearch.evaluation import load_questions

    print("\n5. A hybrid search as shipped against one whose model run starts first, on another thread")
    queries = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")]
    engine = SearchEngine.load(ROOT / "index").with_config(query_cache=0)  # never builds or writes an index
    over = engine.with_config(query_cache=0)
    pool = ThreadPoolExecutor(1, thread_name_prefix="model-run")

    def overlapped(q: str):
        fut = pool.submit(engine.embedder.encode_queries, [normalize_query(q)[0]])
        over.embed_query = lambda _q: fut.result()[0]  # the search's own work runs while the model does
        return over.search(q)

    same = all(engine.search(q).to_dict() == overlapped(q).to_dict() for q in queries)
    part = queries[::4]
    times = {"as shipped": [], "model run started first": []}
    for r in range(rounds * 2):
        for k in (("as shipped", "model run started first") if r % 2 == 0 else
                  ("model run started first", "as shipped")):
            fn = engine.search if k == "as shipped" else overlapped
            t = time.perf_counter()
            for q in part:
                fn(q)
            times[k].append((time.perf_counter() - t) / len(part) * 1000)
    a, b = np.array(times["as shipped"]), np.array(times["model run started first"])
    print(f"same answers: {'yes' if same else 'NO'}; wall a search: as shipped {np.median(a):.2f} ms, model run "
          f"first {np.median(b):.2f} ms; paired {np.median(b / a):.3f}, faster in {(b < a).sum()}/{len(a)} rounds")
    pool.shutdown()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--skip-overlap", action="store_true", help="leave out part 5 (it loads the index)")
    args = ap.parse_args()
    from reportsearch.defaultmodel import ONNX_INT8, ensure_default_model
    from reportsearch.embedders import load_embedder
    from reportsearch.evaluation import load_questions

    folder = ensure_default_model()
    model = str(folder / ONNX_INT8)
    embedder = load_embedder(None)
    queries = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")]
    part_kernels(args.rounds)
    part_model(model, args.rounds)
    part_tokens(embedder, queries)
    part_threads(model, embedder, queries, args.rounds)
    if not args.skip_overlap:
        part_overlap(args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
