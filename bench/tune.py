"""Compare ranking and ingest variants on the `dev` split of eval/questions.jsonl; prints a Markdown table.

    python bench/tune.py [--questions eval/questions.jsonl] [--quick]

Tuning reads `dev` only, never `test`: the test split is what the README and the gate report, and the dev − test
gap shows whether a setting was fitted to dev. The low-confidence thresholds are tuned here too.

Ranking variants reuse one loaded index; ingest variants (embedding input, tokenizer, passage size) build
temporary indexes with the same model. Figures feed models.md; defaults live in EngineConfig and ingest.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportsearch.embedding import load_embedder  # noqa: E402
from reportsearch.engine import SearchEngine  # noqa: E402
from reportsearch.evaluation import load_questions, run  # noqa: E402
from reportsearch.ingest import build_index  # noqa: E402


def row(name: str, report: dict, mode: str = "hybrid") -> str:
    m = report["modes"][mode]
    return (f"| {name} | {mode} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['mrr@10']:.3f} | {m['ndcg@10']:.3f} "
            f"| {m['unanswerable_flag_accuracy']} | {m['false_low_confidence_rate']} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", default="eval/questions.jsonl")
    ap.add_argument("--quick", action="store_true", help="ranking variants only")
    args = ap.parse_args()
    qs = load_questions(args.questions, split="dev")
    print(f"{len(qs)} dev questions of {args.questions} (the test split is never read here)\n")
    emb = load_embedder()
    print("| variant | mode | hit@1 | hit@5 | mrr@10 | ndcg@10 | unans. flagged | false flags |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = Path(tmp) / "base"
        build_index(index_dir=base_dir, embedder=emb, progress=False)
        base = SearchEngine.load(base_dir, embedder=emb)
        rep = run(base, qs)
        for mode in ("semantic", "keyword", "hybrid"):
            print(row("default", rep, mode), flush=True)
        variants = [("weighted a=%.1f" % a, dict(fusion="weighted", alpha=a)) for a in (0.3, 0.4, 0.6, 0.7)]
        variants += [("rrf k=60", dict(fusion="rrf", alpha=0.5)), ("rrf k=20", dict(fusion="rrf", alpha=0.5, rrf_k=20)),
                     ("glossary off", dict(glossary=False))]
        for name, cfg in variants:
            print(row(name, run(base.with_config(**cfg), qs, modes=("hybrid",))), flush=True)
        print(row("glossary off", run(base.with_config(glossary=False), qs, modes=("keyword",)), "keyword"))
        for cov in (0.2, 0.25, 0.35, 0.4):
            print(row(f"low-confidence coverage < {cov}", run(base.with_config(low_conf_coverage=cov), qs,
                                                              modes=("hybrid",))), flush=True)
        for strong in (0.86, 0.88, 0.92):
            print(row(f"low-confidence dense strong {strong}", run(base.with_config(low_conf_dense_strong=strong), qs,
                                                                  modes=("hybrid",))), flush=True)
        if args.quick:
            return
        ingest_variants = [("embed input: text only", dict(embed_input="text")),
                           ("tokenizer: bigram", dict(scheme="bigram")),
                           ("tokenizer: word", dict(scheme="word")),
                           ("unlabeled passages <=300 chars", dict(body_chars=300)),
                           ("unlabeled passages <=80 chars", dict(body_chars=80))]
        for i, (name, kw) in enumerate(ingest_variants):
            d = Path(tmp) / f"v{i}"
            build_index(index_dir=d, embedder=emb, progress=False, **kw)
            eng = SearchEngine.load(d, embedder=emb)
            modes = ("semantic", "hybrid") if "embed" in name or "passages" in name else ("keyword", "hybrid")
            rep = run(eng, qs, modes=modes)
            for mode in modes:
                print(row(name, rep, mode), flush=True)


if __name__ == "__main__":
    main()
