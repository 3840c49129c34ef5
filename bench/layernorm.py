"""SkipLayerNormalization against Add + LayerNormalization on onnxruntime's CPU kernels: the two alone, then the
default model's query and passage runs with the graph as shipped (Add + LayerNormalization) and with onnxruntime
left to fuse them back into SkipLayerNormalization when it loads the same file.

    python bench/layernorm.py [--rounds 9] [--variant int8|fp32]

Part 1 times chains of 24 nodes (as many as the model has) at 10, 40 and 200 tokens of 384 dimensions, per node.
Part 2 runs the default model's own file on one onnxruntime thread, as queries are served: the 196 eval questions
as query runs and the bundled report's 169 passages as passage runs, each variant over all of them in turn, the
order alternating round by round (the machines are noisy). Times are this thread's CPU time (what a search costs
the cores under load) and wall time; medians over rounds. It also gives the cosine between the two sessions'
vectors: the same arithmetic in another order.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import ROOT, med

H = 384


def chain(op: str, nodes: int = 24) -> bytes:
    """An onnx graph of `nodes` residual layer norms in a row, fused (`skip`) or as Add + LayerNormalization."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.random(H, dtype=np.float32), "gamma"),
             numpy_helper.from_array(rng.random(H, dtype=np.float32), "beta"),
             numpy_helper.from_array(rng.random(H, dtype=np.float32), "bias")]
    graph_nodes, prev = [], "x"
    for i in range(nodes):
        if op == "skip":
            graph_nodes.append(helper.make_node("SkipLayerNormalization", [prev, "x", "gamma", "beta", "bias"],
                                                [f"y{i}"], domain="com.microsoft", epsilon=1e-12))
        else:
            graph_nodes += [helper.make_node("Add", [prev, "bias"], [f"b{i}"]),
                            helper.make_node("Add", [f"b{i}", "x"], [f"s{i}"]),
                            helper.make_node("LayerNormalization", [f"s{i}", "gamma", "beta"], [f"y{i}"],
                                             axis=-1, epsilon=1e-12)]
        prev = f"y{i}"
    g = helper.make_graph(graph_nodes, op, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "n", H])],
                          [helper.make_tensor_value_info(prev, TensorProto.FLOAT, None)], inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(g, ir_version=9, opset_imports=opsets).SerializeToString()


def session(model, fuse: bool):
    import onnxruntime as ort

    from reportsearch.embedders.onnx import DISABLED_OPTIMIZERS

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"],
                                disabled_optimizers=None if fuse else list(DISABLED_OPTIMIZERS))


def per_node(rounds: int) -> None:
    sessions = {"SkipLayerNormalization": session(chain("skip"), fuse=True),
                "Add + Add + LayerNormalization": session(chain("add"), fuse=False)}
    print("| tokens | " + " | ".join(f"{k}, µs a node" for k in sessions) + " | ratio |")
    print("|---|---|---|---|")
    for n in (10, 40, 200):
        x = np.random.default_rng(n).random((1, n, H), dtype=np.float32)
        got = {k: [] for k in sessions}
        for r in range(rounds):
            for k in (list(sessions) if r % 2 == 0 else list(sessions)[::-1]):
                s = sessions[k]
                s.run(None, {"x": x})
                t = time.thread_time()
                for _ in range(50):
                    s.run(None, {"x": x})
                got[k].append((time.thread_time() - t) / 50 / 24 * 1e6)
        a, b = (med(v) for v in got.values())
        print(f"| {n} | {a:.1f} | {b:.1f} | {a / b:.1f}x |")


def model_runs(rounds: int, variant: str) -> None:
    from load import questions

    from reportsearch.chunking import chunk
    from reportsearch.defaultmodel import ONNX_FP32, ONNX_INT8, PROMPTS, SPM_FILE, ensure_default_model
    from reportsearch.embedders.onnx import OnnxEmbedder
    from reportsearch.library import embedding_text
    from reportsearch.parsing import parse_file

    folder = ensure_default_model()
    file = ONNX_INT8 if variant == "int8" else ONNX_FP32
    emb = OnnxEmbedder("default", folder, file, PROMPTS, variant=variant, spm_file=SPM_FILE)
    passages = [embedding_text(p) for p in chunk(parse_file(ROOT / "data" / "qinshui-2023-government-work-report.txt"))]
    inputs = {"queries": emb.token_ids([PROMPTS["query"] + q for q in questions()]),
              "passages": emb.token_ids([PROMPTS["passage"] + t for t in passages])}
    sessions = {"as shipped: Add + LayerNormalization": session(str(folder / file), fuse=False),
                "fused back by onnxruntime: SkipLayerNormalization": session(str(folder / file), fuse=True)}

    def run(s, ids: list[int]) -> np.ndarray:
        a = np.array([ids], dtype=np.int64)
        v = s.run(None, {"input_ids": a, "attention_mask": np.ones_like(a)})[0][0].mean(0)
        return v / np.linalg.norm(v)

    vecs = {k: {kind: [run(s, x) for x in xs] for kind, xs in inputs.items()} for k, s in sessions.items()}
    names = list(sessions)
    print(f"\ndefault model, {variant} ({file}), one onnxruntime thread; {len(inputs['queries'])} queries "
          f"(mean {np.mean([len(x) for x in inputs['queries']]):.0f} tokens), {len(passages)} passages "
          f"(mean {np.mean([len(x) for x in inputs['passages']]):.0f} tokens); median of {rounds} rounds")
    print("| graph | query CPU ms | query wall ms | passage CPU ms | passage wall ms |")
    print("|---|---|---|---|---|")
    cpu = {k: {kind: [] for kind in inputs} for k in names}
    wall = {k: {kind: [] for kind in inputs} for k in names}
    for r in range(rounds):
        for k in (names if r % 2 == 0 else names[::-1]):
            for kind, xs in inputs.items():
                t, c = time.perf_counter(), time.thread_time()
                for x in xs:
                    run(sessions[k], x)
                cpu[k][kind].append((time.thread_time() - c) / len(xs) * 1000)
                wall[k][kind].append((time.perf_counter() - t) / len(xs) * 1000)
    for k in names:
        print(f"| {k} | {med(cpu[k]['queries']):.2f} | {med(wall[k]['queries']):.2f} | "
              f"{med(cpu[k]['passages']):.1f} | {med(wall[k]['passages']):.1f} |")
    a, b = (cpu[k] for k in names)
    print(f"ratio shipped / fused back, CPU: queries {med(a['queries']) / med(b['queries']):.2f}x, "
          f"passages {med(a['passages']) / med(b['passages']):.2f}x")
    for kind in inputs:
        cos = [float(x @ y) for x, y in zip(vecs[names[0]][kind], vecs[names[1]][kind])]
        print(f"cosine between the two graphs' {kind}: min {min(cos):.5f}, mean {np.mean(cos):.5f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--variant", choices=("int8", "fp32"), default="int8")
    args = ap.parse_args()
    per_node(args.rounds)
    model_runs(args.rounds, args.variant)


if __name__ == "__main__":
    main()
