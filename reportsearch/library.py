"""The report library: add, replace and remove reports in an index, embedding only texts it has not seen before."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .answer import sentence_spans
from .background import in_background
from .defaultmodel import folder_lock
from .dense import DenseIndex
from .embedders import Embedder, encode_spans_alone
from .errors import IndexMismatchError, IndexMissingError, InputError
from .keyword import KeywordIndex
from .records import Passage
from .store import (IndexStore, check_index_dir, ingest_command, keeping_command, load_index, recorded_reports,
                    shown_path, write_index)

log = logging.getLogger(__name__)

EMBED_INPUTS = ("text", "titles+text")
DEFAULT_EMBED_INPUT = "titles+text"  # chosen on the dev questions, see models.md
# How vectors are made, beyond the model: raised when that changes, so the cache of an older index is not reused
# (2: passages one per model run, sentence vectors pooled from them; 3: late sentence keys by their place in the
# embedding text, so a key of 2 may name another sentence; 4: the default model's graph without
# SkipLayerNormalization, builder 5, whose int8 vectors differ from builder 4's at cosine >= 0.998; one number
# for every model, so every older index is re-embedded once, on its next write that adds a report).
EMBEDDING_PROCEDURE = 4


@dataclass
class PreparedReport:
    """One report read, parsed and cut into passages, ready to go into the index."""

    doc: str
    info: dict  # its documents.json entry: path, meta, outline
    passages: list[Passage]
    sha256: str  # of the source file
    source: str  # project-relative path or file name
    path: str = ""  # the file read, for messages (`source` may be its name alone)


@dataclass
class UpdateResult:
    """What an ingest command did, for its one-line summary and for tests."""

    manifest: dict
    embedded: int = 0  # texts the model ran on
    pooled: int = 0  # sentence vectors taken from those runs (late chunking)
    reused: int = 0  # distinct vectors taken from the current index (not the rows of the new one that use them)
    shared: int = 0  # passages and sentences of the new index that repeat another one's text (and use its vector)
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return int(self.manifest["count"])

    def vectors(self) -> str:
        """`embedded nothing new; reused the vectors of 579 passages and sentences already embedded; 579 more passages
        and sentences repeat one of those texts` (a second year's copy of a report added): what the model ran on,
        what the current index already held (each vector once, however many passages now use it), and the passages
        and sentences whose text another one has, so they share its vector."""
        if self.pooled:
            made = f"{_count(self.embedded, 'new passage')} (+{self.pooled:,} sentence vectors from the same run)"
        else:
            made = f"{self.embedded:,} new passages and sentences" if self.embedded else "nothing new"
        out = f"embedded {made}; reused the vectors of {self.reused:,} passages and sentences already embedded"
        if self.shared:
            out += f"; {self.shared:,} more passages and sentences repeat one of those texts"
        return out

    def summary(self) -> str:
        parts = [f"{what} {', '.join(docs)}" for what, docs in (("added", self.added), ("replaced", self.replaced),
                 ("unchanged", self.unchanged), ("removed", self.removed)) if docs]
        return (f"{'; '.join(parts) or 'no change'}: {self.vectors()}; "
                f"index version {self.manifest.get('version')} holds {len(self.manifest.get('reports', []))} "
                f"report(s), {self.count:,} passages ({self.seconds:.1f} s)")


def _count(n: int, noun: str) -> str:
    """`1 new passage`, `169 new passages`"""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def newest_first(reports: Sequence[dict]) -> list[dict]:
    """Manifest `reports` entries newest year first, then by doc id (one year's regions together), no year last:
    the order of `ingest.py list`, as of the page's report choices and 按年份对比."""
    return sorted(reports, key=lambda r: (-(r.get("year") or 0), r["doc"]))


def embedding_text(p: Passage, how: str = DEFAULT_EMBED_INPUT) -> str:
    """What the model sees for a passage: its text, optionally led by L3/L4 titles it does not already start with."""
    if how == "text":
        return p.text
    titles = [t for t in p.section[2:] if not p.text.startswith(t)]
    return ("".join(t + "。" for t in titles) + p.text) if titles else p.text


def sentence_table(passages: Sequence[Passage]) -> tuple[list[str], np.ndarray]:
    """Every sentence of every passage, with its (passage row, start, end)."""
    texts, rows = [], []
    for i, p in enumerate(passages):
        for a, b in sentence_spans(p.text):
            texts.append(p.text[a:b])
            rows.append((i, a, b))
    return texts, np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def cache_keys(texts: Sequence[str], model: str) -> np.ndarray:
    """The embedding cache's keys: SHA-1 of (model, text), so one model never reuses another's vectors."""
    prefix = (model + "\x1f").encode("utf-8")
    return np.array([hashlib.sha1(prefix + t.encode("utf-8")).digest() for t in texts], dtype="S20")


def _cached_vectors(store: IndexStore | None) -> dict[bytes, np.ndarray]:
    """key -> vector for everything the current index already embedded."""
    if store is None or store.passage_keys is None:
        return {}
    cache: dict[bytes, np.ndarray] = {}
    try:
        dense_vecs = store.dense.index.reconstruct_n(0, store.count) if store.count else np.zeros((0, 0))
    except RuntimeError:  # an index type that cannot give its vectors back: nothing reused from it
        dense_vecs = np.zeros((0, 0))
    for k, v in zip(store.passage_keys, dense_vecs):
        if k:
            cache[bytes(k)] = v
    for k, v in zip(store.sentence_keys, store.sentence_vectors):
        if k:
            cache[bytes(k)] = v
    return cache


def _existing(index_dir: Path, rebuild: bool) -> tuple[IndexStore | None, str]:
    """The current index, whose vectors can be reused, and "" or why it does not load. A rebuild replaces it, so
    an index that no longer loads (damaged, or an older schema) is no error there (the caller says what it does
    instead); adding to or removing from it needs it intact."""
    try:
        return load_index(index_dir, check_source_hashes=False), ""
    except IndexMissingError:
        return None, ""
    except IndexMismatchError as e:
        if not rebuild:
            raise
        return None, str(getattr(e, "problem", e))  # not its hint: that asks for the rebuild that is running


def _refuse_to_drop(index_dir: Path, current: IndexStore | None, add: Sequence[PreparedReport]) -> None:
    """A rebuild writes only the reports it is given: refuse one that would silently drop others the index
    holds (added with `ingest.py add`, say). A report counts as given by its doc id or by the SHA-256 of its file
    (the same file under another doc id, after --year or --region). The manifest is read leniently (an older
    schema, a damaged checksum); when it does not read at all, which reports it held cannot be known: logged."""
    held = current.manifest.get("reports", []) if current else recorded_reports(index_dir)
    if held is None:
        if (index_dir / "manifest.json").exists():
            log.warning("the manifest in %s/ does not read: which reports the index held cannot be told, and the "
                        "rebuild keeps only the reports it is given", index_dir)
        return
    docs, shas = {r.doc for r in add}, {r.sha256 for r in add}
    dropped = [r for r in held if r["doc"] not in docs and r.get("sha256") not in shas]
    if dropped:
        dropped = newest_first(dropped)
        given = list(dict.fromkeys(Path(r.path) for r in add if r.path))
        keep, lost = keeping_command(index_dir, given, dropped)  # their files as the manifest recorded them
        keep += f", {lost}" if lost else ""
        without = " ".join(shown_path(p) for p in given) or "[PATH ...]"
        raise InputError(f"{index_dir}/ also holds {', '.join(r['doc'] for r in dropped)}, which a "
                         f"rebuild from these files would drop: give their files too ({keep}), use "
                         f"{ingest_command(index_dir, 'add PATH')} to add reports to the library, or rebuild "
                         f"without them on purpose with --drop-others "
                         f"({ingest_command(index_dir, without + ' --drop-others')})")


def _refuse_one_doc_twice(index_dir: Path, add: Sequence[PreparedReport]) -> None:
    """Two files that give one doc id: an InputError naming both, and how to tell them apart if they differ."""
    seen: dict[str, PreparedReport] = {}
    for r in add:
        first = seen.setdefault(r.doc, r)
        if first is r:
            continue
        meta = r.info.get("meta", {})
        missing = [k for k in ("region", "year") if not meta.get(k)]
        if missing:  # the id came from the file name, or a region without a year
            why = f"no {' or '.join(missing)} found in them"
            how = (f"if they are different reports, add them one at a time, each with its own "
                   f"{' or '.join(f'--{k}' for k in missing)} ({ingest_command(index_dir, 'add FILE')}), or rename "
                   f"one of the files{' to include its year' if missing == ['year'] else ''}")
        else:
            why, how = "the same region and year", "give one version of a report at a time"
        raise InputError(f"{first.path or first.source} and {r.path or r.source} both give the doc id {r.doc!r} "
                         f"({why}): {how}")


def update_index(index_dir: str | Path, add: Sequence[PreparedReport] = (), remove: Sequence[str] = (), *,
                 rebuild: bool = False, embedder_factory: Callable[[], Embedder], model_name: str,
                 embed_input: str = DEFAULT_EMBED_INPUT, scheme: str, chunking: dict,
                 progress: bool = True, sentence_vectors: str | None = None,
                 drop_others: bool = False) -> UpdateResult:
    """Write the next version of the index: the current reports (none when `rebuild`), minus `remove`, with `add`
    added or replacing the report of the same doc id. A rebuild that would drop reports of the current index
    that `add` does not give again is refused (InputError) unless `drop_others`. Vectors already in the current
    index are reused; the model is loaded only when there is something new to embed, and when it runs on another
    runtime than the one that made them (the manifest's `backend`: int8, fp32, torch) everything is embedded
    again. Nothing is written unless every step succeeds.

    Answer sentences get vectors `late` (pooled from their passage's run: one model pass, needs an embedder with
    `encode_passages_and_spans`) or `separate` (each sentence embedded on its own). None: the current index's
    kind when it is kept (its vectors are reused), else late where the embedder can.
    """
    if sentence_vectors not in (None, "late", "separate"):
        raise InputError(f"sentence vectors are `late` or `separate`, not {sentence_vectors!r}")
    remove = list(dict.fromkeys(remove))  # `remove a a` removes a once
    index_dir = Path(index_dir)
    check_index_dir(index_dir)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(index_dir):  # one writer at a time: two `add`s must not both write version N + 1
        return _update(index_dir, add, remove, rebuild, embedder_factory, model_name, embed_input, scheme,
                       sentence_vectors, chunking, progress, drop_others)


def _update(index_dir: Path, add, remove, rebuild, embedder_factory, model_name, embed_input, scheme,
            sentence_vectors, chunking, progress, drop_others=False) -> UpdateResult:
    t0 = time.perf_counter()
    current, unreadable = _existing(index_dir, rebuild)
    if current is not None and not rebuild and current.manifest.get("model") != model_name:
        raise IndexMismatchError(f"the index in {index_dir}/ was built with {current.manifest.get('model')!r}, "
                                 f"not {model_name!r}; rebuild it with "
                                 f"{ingest_command(index_dir, f'--model {model_name}')}")
    if (remove or not add) and not rebuild and current is None:
        raise IndexMissingError(f"no index in {index_dir}/: run {ingest_command(index_dir)} first")
    if rebuild and not drop_others:
        _refuse_to_drop(index_dir, current, add)
    if unreadable:  # once the rebuild is sure to go ahead
        log.warning("the index in %s/ does not load (%s): this rebuild replaces it and reuses none of its vectors",
                    index_dir, unreadable)
    old_reports = {r["doc"]: r for r in (current.manifest.get("reports", []) if current else [])}
    known = list(dict.fromkeys(p.doc for p in current.passages)) if current else []
    unknown = [d for d in remove if d not in known]
    if unknown:  # listed as the search errors list them (engine.reports): newest year first, then by doc id
        listed = [r["doc"] for r in newest_first(current.manifest.get("reports", [])) if r["doc"] in known]
        listed += [d for d in known if d not in listed]
        raise InputError(f"no report {', '.join(map(repr, unknown))} in the index; known: "
                         f"{', '.join(listed) or 'none'}")
    _refuse_one_doc_twice(index_dir, add)

    result = UpdateResult(manifest={})
    new_by_doc = {r.doc: r for r in add}
    order = [] if rebuild else [d for d in known if d not in remove]
    order += [d for d in new_by_doc if d not in order]
    docs_info, passages, reports = {}, [], []
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for doc in order:
        if doc in new_by_doc:
            r = new_by_doc[doc]
            ps, info = r.passages, r.info
            before = old_reports.get(doc)
            same = before is not None and before.get("sha256") == r.sha256
            (result.unchanged if same else result.replaced if doc in known else result.added).append(doc)
            meta = info.get("meta", {})
            title = meta.get("doc_title") or meta.get("title") or doc  # `沁水县2023年政府工作报告`
            reports.append({"doc": doc, "title": title, "year": meta.get("year"), "region": meta.get("region"), "passages": len(ps), "sha256": r.sha256,
                            "source": r.source, "added": before["added"] if same else now})
        else:
            ps = [p for p in current.passages if p.doc == doc]
            info = current.documents.get(doc, {})
            reports.append(old_reports.get(doc) or {"doc": doc, "title": doc, "passages": len(ps), "added": now})
        docs_info[doc] = info
        passages.extend(ps)
    result.removed = list(remove)
    if not passages:
        raise InputError(f"the index would hold no reports; add one with {ingest_command(index_dir, 'add PATH')}")
    same_settings = current is not None and current.manifest.get("keyword", {}).get("scheme") == scheme \
        and current.manifest.get("chunking", {}).get("embed_input") == embed_input
    if (same_settings and not rebuild and not remove and len(result.unchanged) == len(add)
            and all(r.passages == [p for p in current.passages if p.doc == r.doc] for r in add)):
        result.manifest = current.manifest  # nothing changed: no new version, nothing written
        keys = (current.passage_keys, current.sentence_keys)
        _count_reused(result, {bytes(k) for ks in keys if ks is not None for k in ks}, *keys)  # all of them
        result.seconds = time.perf_counter() - t0
        return result

    # an older index's vectors are reused only to drop reports from it (nothing new is embedded beside them)
    procedure = EMBEDDING_PROCEDURE if add or current is None else current.manifest.get("embedding")
    reusable = (current is not None and current.manifest.get("model") == model_name
                and current.manifest.get("embedding") == procedure)
    cache = _cached_vectors(current) if reusable else {}
    loaded: list[Embedder] = []

    def embedder() -> Embedder:
        if not loaded:
            loaded.append(embedder_factory())
        return loaded[0]

    def vectors_for(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        keys = cache_keys(texts, model_name)
        missing = list({bytes(k): i for i, k in enumerate(keys) if bytes(k) not in cache}.values())  # each once
        if missing:
            log.info("embedding %s new texts with %s", f"{len(missing):,}", embedder().name)
            fresh = embedder().encode_passages([texts[i] for i in missing], progress=progress)
            for i, v in zip(missing, fresh):
                cache[bytes(keys[i])] = v
        result.embedded += len(missing)
        return _stack(cache, keys, loaded), keys

    ptexts = [embedding_text(p, embed_input) for p in passages]
    sent_texts, sent_rows = sentence_table(passages)
    can_pool = lambda: hasattr(embedder(), "encode_passages_and_spans")  # noqa: E731 - loads the model
    if sentence_vectors is None:
        if not rebuild and current is not None and current.manifest.get("model") == model_name:
            sentence_vectors = current.manifest.get("sentence_vectors", "separate")  # kept: its vectors are reused
        else:
            sentence_vectors = "late" if can_pool() else "separate"
    elif sentence_vectors == "late" and not can_pool():
        raise InputError(f"late sentence vectors need a model run on onnxruntime (the default model); "
                         f"{model_name!r} runs on sentence-transformers: use --sentence-vectors separate")
    late = sentence_vectors == "late"
    # the keyword index is built (Python, mostly) while the model runs (onnxruntime, without the GIL)
    keyword_job = in_background(KeywordIndex.build, [p.text for p in passages], scheme,
                                known=_known_tokens(current, scheme), name="keyword-index")
    # one index, one runtime (int8, fp32, torch): the model that runs must be the one that made the cached vectors.
    # It runs when a text is new, and on a rebuild; otherwise nothing is embedded beside the cached vectors, and
    # the manifest keeps saying what made them. Indexes written before `backend` ran on torch and predate
    # `embedding`, so only a removal reuses their vectors; a recorded None is an embedder that reports no backend.
    if cache and (rebuild or loaded or any(bytes(k) not in cache for k in _index_keys(
            passages, ptexts, sent_texts, sent_rows, model_name, late))):
        runs, made = getattr(embedder(), "backend", None), current.manifest.get("backend")
        if runs != made:
            log.info("the index was embedded with %s; re-embedding everything with %s", _runtime(made), _runtime(runs))
            cache.clear()
    held = set(cache)  # what the current index gives: `reused` counts those the new index keeps
    if late:
        vectors, pkeys, sent_vecs, skeys = _late_vectors(passages, ptexts, sent_rows, cache, model_name, embedder,
                                                         result, progress)
    else:
        vectors, pkeys = vectors_for(ptexts)
        sent_vecs, skeys = vectors_for(sent_texts)
    _count_reused(result, held, pkeys, skeys)
    if loaded:
        prompts, backend = getattr(loaded[0], "prompts", {}), getattr(loaded[0], "backend", None)
    else:
        prompts, backend = current.manifest.get("prompts", {}), current.manifest.get("backend")
    manifest = {
        "model": model_name, "dim": int(vectors.shape[1]), "prompts": prompts, "reports": reports,
        "sources": [{"path": r["source"], "sha256": r["sha256"]} for r in reports if r.get("source")],
        "chunking": dict(chunking, embed_input=embed_input), "keyword": {"scheme": scheme},
        "sentence_vectors": "late" if late else "separate",
    }
    if procedure is not None:
        manifest["embedding"] = procedure
    if backend:
        manifest["backend"] = backend
    dense = DenseIndex.build(vectors)
    manifest["dense"] = {"kind": dense.kind}
    keyword = keyword_job.result()
    result.manifest = write_index(index_dir, manifest, passages, dense, keyword, sent_vecs, sent_rows, docs_info,
                                  passage_keys=pkeys, sentence_keys=skeys)
    result.seconds = time.perf_counter() - t0
    return result


def _count_reused(result: UpdateResult, held: set[bytes], pkeys, skeys) -> None:
    """`reused`: the distinct vectors of the new index taken from the current one (`held`, by cache key), each
    once however many passages and sentences use it; `shared`: the rows of the new index beyond the first to use
    each vector (a text repeated in one report or across reports)."""
    keys = [bytes(k) for k in (*pkeys, *skeys) if k] if pkeys is not None else []
    distinct = set(keys)
    result.reused = len(distinct & held)
    result.shared = len(keys) - len(distinct)


def _known_tokens(store: IndexStore | None, scheme: str) -> dict[str, list[str]]:
    """Passage text -> tokens from the current index, when it used the same tokenizer scheme."""
    if store is None or store.keyword.scheme != scheme:
        return {}
    tokens = KeywordIndex.load_tokens(store.folder / "keyword")
    if tokens is None or len(tokens) != store.count:
        return {}
    return {p.text: toks for p, toks in zip(store.passages, tokens)}


def _runtime(backend: dict | None) -> str:
    """`onnxruntime int8`: a manifest's `backend`, for a log line."""
    return f"{backend.get('backend')} {backend.get('variant')}" if backend else "an unrecorded runtime"


def _index_keys(passages, ptexts, sent_texts, sent_rows, model_name, late) -> np.ndarray:
    """The cache keys of every passage and sentence vector the index will hold."""
    if late:
        skeys = span_keys(ptexts, _embedding_spans(passages, ptexts, sent_rows), model_name)
    else:
        skeys = cache_keys(sent_texts, model_name)
    return np.concatenate([cache_keys(ptexts, model_name), skeys])


def _stack(cache: dict, keys: np.ndarray, loaded: list) -> np.ndarray:
    if not len(keys):
        return np.zeros((0, len(next(iter(cache.values()))) if cache else int(loaded[0].dim)), np.float32)
    return np.stack([cache[bytes(k)] for k in keys]).astype(np.float32)


def span_keys(ptexts: Sequence[str], spans: Sequence[tuple[int, int, int]], model: str) -> np.ndarray:
    """Cache keys of late-chunked sentence vectors: SHA-1 of (model, the span in its passage's embedding text,
    that text). Such a vector depends on the whole text it was pooled from, so the same sentence in another
    passage is another key. `spans`: (passage row, start, end), start and end in the embedding text."""
    prefix = (model + "\x1flate\x1f").encode("utf-8")
    return np.array([hashlib.sha1(prefix + f"{a}:{b}\x1f{ptexts[i]}".encode("utf-8")).digest()
                     for i, a, b in spans], dtype="S20")


def _embedding_spans(passages, ptexts, sent_rows) -> list[tuple[int, int, int]]:
    """The sentence rows' (passage row, start, end) with start and end in the passage's embedding text."""
    offs = [len(t) - len(p.text) for t, p in zip(ptexts, passages)]  # the embedding text ends with the passage text
    return [(i, offs[i] + a, offs[i] + b) for i, a, b in sent_rows.tolist()]


def _late_vectors(passages, ptexts, sent_rows, cache, model_name, embedder, result, progress):
    """Passage and sentence vectors from one model run per distinct embedding text (see
    OnnxEmbedder.encode_passages_and_spans): a text runs again when its own vector or any of its sentences'
    is not in the cache. Passages that share an embedding text share its run, with the union of their spans."""
    spans = _embedding_spans(passages, ptexts, sent_rows)
    pkeys, skeys = cache_keys(ptexts, model_name), span_keys(ptexts, spans, model_name)
    wanted: dict[bytes, dict[tuple[int, int], bytes]] = {}  # text key -> its spans still to pool -> span key
    first: dict[bytes, int] = {}  # text key -> a passage row with that text
    for i, k in enumerate(pkeys):
        first.setdefault(bytes(k), i)
        wanted.setdefault(bytes(k), {})
    for s, (i, a, b) in enumerate(spans):
        if bytes(skeys[s]) not in cache:
            wanted[bytes(pkeys[i])][(a, b)] = bytes(skeys[s])
    runs = [k for k in wanted if wanted[k] or k not in cache]
    pooled = sum(len(wanted[k]) for k in runs)
    if runs:
        log.info("embedding %s new passages with %s; their sentence vectors come from the same run",
                 f"{len(runs):,}", embedder().name)
        texts = [ptexts[first[k]] for k in runs]
        span_lists = [list(wanted[k]) for k in runs]
        emb = embedder()
        if hasattr(emb, "encode_passages_and_spans"):
            vecs, span_vecs = emb.encode_passages_and_spans(texts, span_lists, progress=progress)
        else:  # a late index extended by an embedder that cannot pool (the default model's torch variant)
            log.warning("%s cannot pool sentence vectors from its passage runs; embedding %s passages' sentences "
                        "on their own", emb.name, f"{len(runs):,}")
            vecs = emb.encode_passages(texts, progress=progress)
            span_vecs = encode_spans_alone(emb, texts, span_lists)
        for k, v, sp, svs in zip(runs, vecs, span_lists, span_vecs):
            cache[k] = v
            for ab, sv in zip(sp, svs):
                cache[wanted[k][ab]] = sv
    result.embedded += len(runs)
    result.pooled += pooled
    loaded = [embedder()] if not cache else []
    return _stack(cache, pkeys, loaded), pkeys, _stack(cache, skeys, loaded), skeys
