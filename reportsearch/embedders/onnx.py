"""The ONNX Runtime embedder for the built default model: its tokenizer, mean pooling, normalization, prompts."""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import Future
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ModelError

THREADS_ENV = "REPORTSEARCH_ORT_THREADS"
MAX_TOKENS = 512


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
    several searches fighting over the same cores (see bench/search.py). Passages (ingest) use every core.
    `$REPORTSEARCH_ORT_THREADS` overrides the query setting.
    """

    def __init__(self, name: str, folder: str | Path, onnx_file: str, prompts: dict[str, str],
                 variant: str = "", batch_size: int = 32, query_threads: int | None = None,
                 spm_file: str | None = None):
        self.name = name
        self.folder = Path(folder)
        self.path = self.folder / onnx_file
        self.variant = variant or onnx_file
        self.prompts = dict(prompts)
        self.batch_size = batch_size
        self.query_threads = query_threads or _threads(1)
        self._sessions: dict[int, Future] = {}
        self._lock = threading.Lock()
        if not self.path.is_file():
            raise ModelError(f"cannot load embedding model {name!r}: {self.path} is missing")
        # onnxruntime builds its session without holding the GIL: start it now, in the background, while this
        # thread loads the tokenizer (and the caller the index); the first encode waits for it
        self._future(self.query_threads)
        self.spm = self.tokenizer = None
        try:
            if spm_file and (self.folder / spm_file).is_file():
                import sentencepiece

                self.spm = sentencepiece.SentencePieceProcessor(model_file=str(self.folder / spm_file))
                self.bos, self.eos, self.pad_id = self.spm.bos_id(), self.spm.eos_id(), self.spm.pad_id()
            else:
                from tokenizers import Tokenizer

                self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                self.tokenizer.no_padding()
                self.tokenizer.enable_truncation(MAX_TOKENS)
                pad = self.tokenizer.token_to_id("<pad>")
                self.pad_id = 1 if pad is None else pad
        except Exception as e:
            raise ModelError(f"cannot load the tokenizer of {name!r} from {self.folder}: {e}") from e
        self.dim = _hidden_size(self.folder) or int(self.encode_queries(["x"]).shape[1])

    @property
    def backend(self) -> dict:
        """What the index manifest records about how its vectors were made."""
        return {"backend": "onnxruntime", "variant": self.variant}

    def _future(self, threads: int) -> Future:
        with self._lock:
            fut = self._sessions.get(threads)
            if fut is None:
                fut = self._sessions[threads] = Future()
                threading.Thread(target=self._create, args=(threads, fut), daemon=True,
                                 name=f"onnxruntime-session-{threads}").start()
            return fut

    def _create(self, threads: int, fut: Future) -> None:
        try:
            fut.set_result(self._new_session(threads))
        except BaseException as e:  # handed to whoever waits for the session
            fut.set_exception(e)

    def _new_session(self, threads: int):
        try:
            import onnxruntime as ort
        except ImportError as e:  # pragma: no cover - guarded by requirements.txt
            raise ModelError("the default model runs on onnxruntime: pip install onnxruntime==1.31.1") from e
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads == 1:
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as e:
            raise ModelError(f"cannot load {self.path} with onnxruntime: {str(e)[:200]}") from e

    def _session(self, threads: int):
        return self._future(threads).result()

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with `<s> … </s>`, truncated to the model's 512 positions."""
        if self.spm is not None:
            return [[self.bos, *ids[:MAX_TOKENS - 2], self.eos] for ids in self.spm.encode(list(texts), out_type=int)]
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=True)]

    def _batch(self, sess, texts: list[str], run_options=None) -> np.ndarray:
        encs = self.token_ids(texts)
        n = max(len(e) for e in encs)
        ids = np.full((len(encs), n), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encs), n), dtype=np.int64)
        for r, e in enumerate(encs):
            ids[r, :len(e)] = e
            mask[r, :len(e)] = 1
        hidden = sess.run(None, {"input_ids": ids, "attention_mask": mask}, run_options)[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _encode(self, texts: Sequence[str], kind: str, threads: int, progress: bool = False,
                run_options=None) -> np.ndarray:
        prompt = self.prompts.get(kind, "")
        texts = [prompt + t for t in texts]
        dim = getattr(self, "dim", 0)
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        sess = self._session(threads)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch: less padding
        out = [None] * len(texts)
        starts = range(0, len(texts), self.batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch")
        for s in starts:
            rows = order[s:s + self.batch_size]
            vecs = self._batch(sess, [texts[i] for i in rows], run_options)
            for i, v in zip(rows, vecs):
                out[i] = v
        return np.asarray(out, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query", self.query_threads, run_options=_shrinking_run())

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", os.cpu_count() or 1, progress)


@lru_cache(maxsize=1)
def _shrinking_run():
    """Run options for queries: give the arena back after each run. One 1,000-character query otherwise grows the
    serving process by ~60 MB for good; shrinking costs nothing measurable on short queries (11.4 vs 11.1 ms)."""
    import onnxruntime as ort

    ro = ort.RunOptions()
    ro.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return ro


def _hidden_size(folder: Path) -> int | None:
    try:
        return int(json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return None

