"""The ONNX Runtime embedder for the built default model: its tokenizer, mean pooling, normalization, prompts."""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from itertools import islice
from pathlib import Path
from types import SimpleNamespace
from typing import Sequence

import numpy as np

from ..background import in_background
from ..errors import ModelError
from .base import encode_spans_alone

THREADS_ENV = "REPORTSEARCH_ORT_THREADS"
# onnxruntime's graph optimizer would fuse the model's Add + LayerNormalization back into SkipLayerNormalization,
# whose CPU kernel is slower here (defaultmodel.unfuse_skip_layer_norm)
DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)
MAX_TOKENS = 512


def _cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS tells it), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _threads(default: int) -> int:
    raw = os.environ.get(THREADS_ENV, "")
    try:
        return max(1, int(raw)) if raw else default
    except ValueError:
        raise ModelError(f"{THREADS_ENV} must be a whole number of threads, got {raw!r}") from None


class OnnxEmbedder:
    """One exported sentence-transformers folder (`onnx/<file>` beside `tokenizer.json`), run by onnxruntime.

    The tokenizer is the folder's sentencepiece copy when given (`spm_file`; same pieces and ids, a fraction of
    the memory), else its fast `tokenizer.json`.

    Queries run on one intra-op thread: under load each concurrent search then keeps one core busy instead of
    several searches fighting over the same cores (see bench/search.py). `$REPORTSEARCH_ORT_THREADS` overrides
    the query setting. Passages (ingest) use every core: one passage per core at a time (`passage_runs`), each
    run on one thread (`passage_threads`), which is faster than one run at a time on every core's threads and
    gives the same vectors (bench/batches.py); with the default query setting they share the query session.

    Passages run one at a time by default (`batch_size=1`): int8 activations are quantized per run, so in a
    batch a text's vector moves with its batch partners and their padding (cosine ~0.998). Alone, a passage
    gets the same vector in a full build as in an `add`, just as a query is always embedded alone; on two
    cores that is no slower than batches of 32 (models.md).
    """

    def __init__(self, name: str, folder: str | Path, onnx_file: str, prompts: dict[str, str],
                 variant: str = "", batch_size: int = 1, query_threads: int | None = None,
                 spm_file: str | None = None, warm: str = "query"):
        self.name = name
        self.folder = Path(folder)
        self.path = self.folder / onnx_file
        self.variant = variant or onnx_file
        self.prompts = dict(prompts)
        self.batch_size = batch_size
        self.query_threads = query_threads or _threads(1)
        self.passage_threads = 1  # intra-op threads of one passage run …
        self.passage_runs = _cores()  # … and passage runs at once
        self._sessions: dict[tuple[int, bool], Future] = {}
        self._lock = threading.Lock()
        if not self.path.is_file():
            raise ModelError(f"cannot load embedding model {name!r}: {self.path} is missing")
        # onnxruntime builds its session, and sentencepiece loads its model, mostly without holding the GIL: both
        # start now, in the background, while the caller loads the index (or reads reports); the first encode
        # waits for them
        self._future(warm)
        use_spm = bool(spm_file) and (self.folder / spm_file).is_file()
        if not use_spm and not (self.folder / "tokenizer.json").is_file():
            raise ModelError(f"cannot load the tokenizer of {name!r}: {self.folder}/tokenizer.json is missing")
        self._tok = in_background(self._load_tokenizer, str(self.folder / spm_file) if use_spm else None,
                                name="tokenizer-load")
        self.dim = _hidden_size(self.folder) or int(self.encode_queries(["x"]).shape[1])

    def _load_tokenizer(self, spm_path: str | None) -> SimpleNamespace:
        try:
            if spm_path:
                import sentencepiece

                spm = sentencepiece.SentencePieceProcessor(model_file=spm_path)
                return SimpleNamespace(spm=spm, tokenizer=None, bos=spm.bos_id(), eos=spm.eos_id(),
                                       pad_id=spm.pad_id())
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            tok.no_padding()
            tok.enable_truncation(MAX_TOKENS)
            pad = tok.token_to_id("<pad>")
            return SimpleNamespace(spm=None, tokenizer=tok, bos=None, eos=None, pad_id=1 if pad is None else pad)
        except Exception as e:
            raise ModelError(f"cannot load the tokenizer of {self.name!r} from {self.folder}: {e}") from e

    def ready(self) -> None:
        """Wait for the background loads (tokenizer, query session); raises their ModelError, if any."""
        self._tok.result()
        self._session("query")

    # the tokenizer's parts; each waits for the background load (and raises its ModelError)
    spm = property(lambda self: self._tok.result().spm, doc="the sentencepiece copy of the pieces, or None")
    tokenizer = property(lambda self: self._tok.result().tokenizer, doc="the fast tokenizer when no spm copy")
    bos = property(lambda self: self._tok.result().bos)
    eos = property(lambda self: self._tok.result().eos)
    pad_id = property(lambda self: self._tok.result().pad_id)

    @property
    def backend(self) -> dict:
        """What the index manifest records about how its vectors were made."""
        return {"backend": "onnxruntime", "variant": self.variant}

    def _future(self, kind: str) -> Future:
        """The session for "query" (`query_threads`, workers that sleep between runs) or "passage"
        (`passage_threads`; its workers spin, if it has any: ingest runs back to back). Sessions with the same
        settings are one session."""
        threads = self.query_threads if kind == "query" else self.passage_threads
        spin = kind == "passage" and threads > 1
        with self._lock:
            fut = self._sessions.get((threads, spin))
            if fut is None:
                fut = self._sessions[(threads, spin)] = in_background(
                    self._new_session, threads, spin, name=f"onnxruntime-session-{kind}")
            return fut

    def _new_session(self, threads: int, spin: bool):
        try:
            import onnxruntime as ort
        except ImportError as e:  # pragma: no cover - guarded by requirements.txt
            raise ModelError("the default model runs on onnxruntime: pip install onnxruntime==1.31.1") from e
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not spin:  # a spinning worker after a query takes the core another search needs (bench/search.py)
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"],
                                        disabled_optimizers=list(DISABLED_OPTIMIZERS))
        except Exception as e:
            raise ModelError(f"cannot load {self.path} with onnxruntime: {str(e)[:200]}") from e

    def _session(self, kind: str):
        return self._future(kind).result()

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with `<s> … </s>`, truncated to the model's 512 positions."""
        tok = self._tok.result()  # once, not per property
        if tok.spm is not None:
            # one text (a query) as a str: a list, even of one, goes through sentencepiece's thread pool, which
            # starts threads on every call (0.16 ms against 0.01 ms for a query)
            pieces = [tok.spm.encode(texts[0], out_type=int)] if len(texts) == 1 else \
                tok.spm.encode(list(texts), out_type=int)
            return [[tok.bos, *ids[:MAX_TOKENS - 2], tok.eos] for ids in pieces]
        return [e.ids for e in tok.tokenizer.encode_batch(list(texts), add_special_tokens=True)]

    def _run(self, sess, encs: list[list[int]], run_options=None) -> tuple[np.ndarray, np.ndarray]:
        """Token states (batch, tokens, dim) and the attention mask of one padded batch."""
        n = max(len(e) for e in encs)
        ids = np.full((len(encs), n), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encs), n), dtype=np.int64)
        for r, e in enumerate(encs):
            ids[r, :len(e)] = e
            mask[r, :len(e)] = 1
        return sess.run(None, {"input_ids": ids, "attention_mask": mask}, run_options)[0], mask

    def _batches(self, encs: list[list[int]], kind: str, progress: bool = False, run_options=None,
                 lengths: Sequence[int] | None = None):
        """(rows, token states, mask) per batch, in order; similar `lengths` (default: token counts) share a
        batch. Passage batches run `passage_runs` at a time (onnxruntime runs them without the GIL)."""
        sess = self._session(kind)
        order = np.argsort([-n for n in (lengths or [len(e) for e in encs])], kind="stable")
        starts = range(0, len(encs), self.batch_size)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            # counted in texts (one model run each at the default batch_size=1), not in batches
            bar = tqdm(total=len(encs), desc="embedding", unit="passage" if kind == "passage" else "text")

        def one(s: int):
            rows = order[s:s + self.batch_size]
            hidden, mask = self._run(sess, [encs[i] for i in rows], run_options)
            return rows, hidden, mask

        try:
            runs = self.passage_runs if kind == "passage" else 1
            if runs <= 1 or len(starts) <= 1:
                for s in starts:
                    done = one(s)
                    yield done
                    if bar is not None:
                        bar.update(len(done[0]))
                return
            pool = ThreadPoolExecutor(runs, thread_name_prefix="onnxruntime-passages")
            try:
                todo = iter(starts)
                ahead = deque(pool.submit(one, s) for s in islice(todo, 2 * runs))  # a bounded window
                while ahead:
                    done = ahead.popleft().result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        ahead.append(pool.submit(one, nxt))
                    yield done
                    if bar is not None:
                        bar.update(len(done[0]))
            finally:  # an error, Ctrl-C or a consumer that stops early: the runs not started yet never start
                pool.shutdown(wait=True, cancel_futures=True)
        finally:
            if bar is not None:
                bar.close()

    def _encode(self, texts: Sequence[str], kind: str, progress: bool = False,
                run_options=None) -> np.ndarray:
        out = np.zeros((len(texts), getattr(self, "dim", 0)), dtype=np.float32)
        if not texts:
            return out
        prompt = self.prompts.get(kind, "")
        # with batch_size > 1, texts of similar character length share a batch (less padding)
        for rows, hidden, mask in self._batches(self.token_ids([prompt + t for t in texts]), kind, progress,
                                                run_options, lengths=[len(t) for t in texts]):
            if out.shape[1] != hidden.shape[2]:  # the first encode, which finds `dim`
                out = np.zeros((len(texts), hidden.shape[2]), dtype=np.float32)
            out[rows] = _mean_pool(hidden, mask)
        return out

    def encode_passages_and_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                                  progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, from the same run, one vector per (start, end) character span of each passage
        ("late chunking"): the mean of the span's token states, normalized. The model reads each passage once;
        its sentences are not embedded again on their own, and each keeps its passage as context.

        Needs the sentencepiece tokenizer (it gives each token's place in the text); without it, and for a span
        that runs past the 512-token limit, the span's text is embedded on its own.
        """
        dim = self.dim
        if self.spm is None or not texts:
            return self.encode_passages(texts, progress), encode_spans_alone(self, texts, spans)
        prompt = self.prompts.get("passage", "")
        base = len(prompt.encode("utf-8"))
        protos = self.spm.encode([prompt + t for t in texts], return_type="proto")
        encs = [[self.bos, *[x.id for x in pr.pieces[:MAX_TOKENS - 2]], self.eos] for pr in protos]
        vecs = np.zeros((len(texts), dim), dtype=np.float32)
        span_vecs = [np.zeros((len(sp), dim), dtype=np.float32) for sp in spans]
        alone: list[tuple[int, int]] = []  # (text, span) embedded on their own
        for rows, hidden, mask in self._batches(encs, "passage", progress, lengths=[len(t) for t in texts]):
            vecs[rows] = _mean_pool(hidden, mask)
            for r, i in enumerate(rows):
                pieces = [(x.begin, x.end) for x in protos[i].pieces]  # byte offsets into prompt + text
                for j, (a, b) in enumerate(spans[i]):
                    ba = base + len(texts[i][:a].encode("utf-8"))
                    bb = base + len(texts[i][:b].encode("utf-8"))
                    toks = [k + 1 for k, (x, y) in enumerate(pieces) if y > ba and x < bb]  # +1: after <s>
                    if not toks or toks[-1] > MAX_TOKENS - 2:
                        alone.append((i, j))
                        continue
                    v = hidden[r, toks].mean(0)
                    span_vecs[i][j] = v / max(float(np.linalg.norm(v)), 1e-12)
        if alone:
            fresh = encode_spans_alone(self, [texts[i] for i, _ in alone], [[spans[i][j]] for i, j in alone])
            for (i, j), (v,) in zip(alone, fresh):
                span_vecs[i][j] = v
        return vecs, span_vecs

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return self._encode(texts, "query", run_options=_shrinking_run())
        # one query, as every search embeds: the same numbers as `_encode` without its batching machinery (no
        # padding, no ordering, no output buffer), whose numpy calls each cost more right after a run
        ids = np.array(self.token_ids([self.prompts.get("query", "") + texts[0]]), dtype=np.int64)
        hidden = self._session("query").run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)},
                                            _shrinking_run())[0]
        return _mean_pool(hidden)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", progress)


@lru_cache(maxsize=1)
def _shrinking_run():
    """Run options for queries: give the arena back after each run. One 1,000-character query otherwise grows the
    serving process by ~60 MB for good; shrinking costs nothing measurable on short queries (11.4 vs 11.1 ms)."""
    import onnxruntime as ort

    ro = ort.RunOptions()
    ro.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return ro


def _mean_pool(hidden: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean of each row's unmasked token states, L2-normalized; `mask` None: no padding (one query)."""
    if hidden.dtype == np.float32 and (mask is None or mask.all()):  # no padding: the same numbers with fewer
        # numpy calls, each slow right after a run (another dtype would sum in its own precision: the masked formula)
        pooled = hidden.sum(1) / np.float32(hidden.shape[1])
    else:
        m = (np.ones(hidden.shape[:2]) if mask is None else mask)[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    # np.linalg.norm(pooled, axis=1, keepdims=True) computes exactly this, through more calls
    norm = np.sqrt(np.add.reduce(pooled * pooled, axis=1, keepdims=True))
    return pooled / np.maximum(norm, 1e-12)


def _hidden_size(folder: Path) -> int | None:
    try:
        return int(json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return None

