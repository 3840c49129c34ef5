"""The ingest pipeline: find reports, parse, chunk, embed and write the index folder atomically."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .answer import sentence_spans
from .chunking import BODY_CHARS, MAX_CHARS, chunk
from .defaultmodel import sha256_file
from .dense import DenseIndex
from .embedding import Embedder, load_embedder
from .errors import InputError
from .keyword import KeywordIndex
from .parsing import parse_file
from .records import Passage
from .store import check_index_dir, portable_path, write_index
from .tokenize import DEFAULT_SCHEME

log = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parent.parent / "data"
DEFAULT_INDEX = Path(__file__).resolve().parent.parent / "index"
EMBED_INPUTS = ("text", "titles+text")
DEFAULT_EMBED_INPUT = "titles+text"  # chosen on eval/questions.jsonl, see models.md


def find_sources(paths: Sequence[str | Path] = ()) -> list[Path]:
    """Expand files and folders into the .txt/.md reports to ingest (default: everything under data/)."""
    roots = [Path(p) for p in paths] or [DEFAULT_DATA]
    out: list[Path] = []
    for root in roots:
        if not root.exists():
            raise InputError(f"{root}: no such file or folder")
        if root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".md"))
            if not found:
                raise InputError(f"{root}: no .txt or .md reports in this folder")
            out.extend(found)
        else:
            out.append(root)
    return list(dict.fromkeys(p.resolve() for p in out))


def embedding_text(p: Passage, how: str = DEFAULT_EMBED_INPUT) -> str:
    """What the model sees for a passage: its text, optionally led by L3/L4 titles it does not already start with."""
    if how == "text":
        return p.text
    titles = [t for t in p.section[2:] if not p.text.startswith(t)]
    return ("".join(t + "。" for t in titles) + p.text) if titles else p.text


def _sentences(passages: Sequence[Passage]) -> tuple[list[str], np.ndarray]:
    texts, rows = [], []
    for i, p in enumerate(passages):
        for a, b in sentence_spans(p.text):
            texts.append(p.text[a:b])
            rows.append((i, a, b))
    return texts, np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def build_index(paths: Iterable[str | Path] = (), index_dir: str | Path = DEFAULT_INDEX,
                model: str | None = None, embedder: Embedder | None = None,
                embed_input: str = DEFAULT_EMBED_INPUT, scheme: str = DEFAULT_SCHEME,
                max_chars: int = MAX_CHARS, body_chars: int = BODY_CHARS, progress: bool = True) -> dict:
    """Build the whole index; return its manifest. Nothing is written unless every step succeeds."""
    t0 = time.perf_counter()
    check_index_dir(Path(index_dir))  # fail before any work, and before touching anything
    sources = find_sources(list(paths))
    documents, passages = {}, []
    for src in sources:
        d = parse_file(src)
        if d.doc in documents:
            raise InputError(f"{src}: two reports are named {d.doc!r}; rename one")
        ps = chunk(d, max_chars=max_chars, body_chars=body_chars)
        if not ps:
            raise InputError(f"{src}: no passages could be cut from this report")
        documents[d.doc] = {"path": portable_path(src), "meta": d.meta, "outline": [list(o) for o in d.outline]}
        passages.extend(ps)
    embedder = embedder or load_embedder(model)
    log.info("embedding %d passages from %d report(s) with %s", len(passages), len(sources), embedder.name)
    vectors = embedder.encode_passages([embedding_text(p, embed_input) for p in passages], progress=progress)
    sent_texts, sent_rows = _sentences(passages)
    sent_vecs = embedder.encode_passages(sent_texts, progress=progress)
    manifest = {
        "model": embedder.name, "dim": int(vectors.shape[1]), "prompts": getattr(embedder, "prompts", {}),
        "sources": [{"path": portable_path(s), "sha256": sha256_file(s)} for s in sources],
        "chunking": {"max_chars": max_chars, "body_chars": body_chars, "embed_input": embed_input},
        "keyword": {"scheme": scheme},
    }
    dense = DenseIndex.build(vectors)
    manifest["dense"] = {"kind": dense.kind}
    keyword = KeywordIndex.build([p.text for p in passages], scheme=scheme)
    write_index(Path(index_dir), manifest, passages, dense, keyword, sent_vecs, sent_rows, documents)
    log.info("wrote %d passages to %s in %.1f s", len(passages), index_dir, time.perf_counter() - t0)
    return dict(manifest, count=len(passages))
