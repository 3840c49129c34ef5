"""jieba's word frequencies in a compact file that loads in milliseconds, segmenting exactly as jieba does."""

from __future__ import annotations

import hashlib
import io
import logging
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from .cache import cache_dir, write_atomic

log = logging.getLogger(__name__)

FORMAT = 1
_UNKNOWN = object()
MEMO_SIZE = 200_000  # remembered lookups (~27 MB at most), then forgotten all at once
RECENT_CUTS = 8  # texts whose cut each thread keeps: a search's query runs, not earlier searches' (see segment)


def _key(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


class WordFreq:
    """jieba's prefix dictionary (every word with its count, every prefix of a word with 0) as sorted arrays.

    jieba's own cache is a marshalled dict of 498,113 strings: 1.2 s to load and ~65 MB of objects in every process
    that tokenizes. Segmenting one text only ever looks up substrings of that text, so `segment` gathers exactly the
    entries of those substrings (`subset`) into a small dict and runs jieba's own algorithm on it: same words,
    same order. Lookups go by a 64-bit hash and are then checked against the stored word, so a hash collision can
    never make up a word.
    """

    def __init__(self, keys: np.ndarray, freqs: np.ndarray, offsets: np.ndarray, blob: bytes, total: int):
        self.keys, self.freqs, self.offsets, self.blob, self.total = keys, freqs, offsets, blob, int(total)
        self.max_len = 0
        self._tls = threading.local()
        self._memo: dict[str, int | None] = {}  # substring -> lookup; most are single characters and bigrams

    @classmethod
    def from_freq(cls, freq: dict[str, int], total: int) -> "WordFreq":
        words = list(freq)
        keys = np.fromiter((_key(w) for w in words), dtype=np.uint64, count=len(words))
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        if len(keys) > 1 and not np.all(keys[1:] != keys[:-1]):
            raise ValueError("two dictionary words share a 64-bit hash")  # never seen; fail rather than guess
        encoded = [words[i].encode("utf-8") for i in order]
        offsets = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        wf = cls(keys, np.asarray([freq[words[i]] for i in order], dtype=np.int64), offsets, b"".join(encoded), total)
        wf.max_len = max(map(len, words), default=0)
        return wf

    def save(self, path: Path) -> None:
        """Write atomically: a reader sees the old file or the whole new one."""
        buf = io.BytesIO()
        np.savez(buf, keys=self.keys, freqs=self.freqs, offsets=self.offsets,
                 blob=np.frombuffer(self.blob, dtype=np.uint8),
                 meta=np.asarray([FORMAT, self.total, self.max_len], dtype=np.int64))
        write_atomic(path, buf.getvalue())

    @classmethod
    def load(cls, path: Path) -> "WordFreq":
        """Raises ValueError (or OSError) for a file that is not a whole, current one; zip CRCs catch damage."""
        with np.load(path, allow_pickle=False) as z:
            fmt, total, max_len = (int(x) for x in z["meta"])
            if fmt != FORMAT:
                raise ValueError(f"format {fmt}, expected {FORMAT}")
            wf = cls(z["keys"], z["freqs"], z["offsets"], z["blob"].tobytes(), total)
        n = len(wf.keys)
        if not (len(wf.freqs) == n and len(wf.offsets) == n + 1 and wf.offsets[-1] == len(wf.blob) and total > 0):
            raise ValueError("arrays of different lengths")
        wf.max_len = max_len
        return wf

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, words: list[str]) -> list[int | None]:
        """Each word's count (0 for a prefix that is no word by itself), None when absent."""
        memo = self._memo  # shared by the search threads: read once, never after another thread may clear it
        found = {w: memo.get(w, _UNKNOWN) for w in words}
        todo = [w for w, f in found.items() if f is _UNKNOWN]
        if todo:
            fresh = dict(zip(todo, self._lookup(todo)))
            if len(memo) > MEMO_SIZE:
                memo.clear()
            memo.update(fresh)
            found.update(fresh)
        return [found[w] for w in words]

    def _lookup(self, words: list[str]) -> list[int | None]:
        if not words:
            return []
        keys = np.fromiter((_key(w) for w in words), dtype=np.uint64, count=len(words))
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = self.keys[pos] == keys
        out: list[int | None] = [None] * len(words)
        off, blob = self.offsets, self.blob
        for i in np.flatnonzero(hit).tolist():
            p = int(pos[i])
            if blob[off[p]:off[p + 1]] == words[i].encode("utf-8"):
                out[i] = int(self.freqs[p])
        return out

    def subset(self, text: str) -> dict[str, int]:
        """Every dictionary entry that is a substring of `text`: all that jieba looks up to segment it.

        Walks from each position as jieba's DAG does: a longer substring can only be an entry if its prefix is one
        (the dictionary holds every prefix of every word)."""
        found: dict[str, int] = {}
        alive = list(range(len(text)))
        n = 1
        while alive and n <= self.max_len:
            starts = [k for k in alive if k + n <= len(text)]
            cands = [text[k:k + n] for k in starts]
            alive = []
            for k, w, f in zip(starts, cands, self.lookup(cands)):
                if f is not None:
                    found[w] = f
                    alive.append(k)
            n += 1
        return found

    def segment(self, text: str, search: bool = True) -> list[str]:
        """`jieba.lcut_for_search(text, HMM=False)` (`search=False`: `jieba.lcut(text, HMM=False)`) with the full
        dictionary, without loading it.

        The search form is jieba's own `cut_for_search` over the plain cut: each word longer than 2 characters
        is preceded by its 2-character substrings that are dictionary words, and one longer than 3 also by its
        3-character ones. The plain cut of the last few texts is kept per thread (`RECENT_CUTS`): one search
        cuts its query twice, for the keyword index and for the confidence check."""
        words, freq = self._cut(text)
        if not search:
            return list(words)
        out: list[str] = []
        for w in words:
            n = len(w)
            if n > 2:
                out.extend(g for g in (w[i:i + 2] for i in range(n - 1)) if freq.get(g))
                if n > 3:
                    out.extend(g for g in (w[i:i + 3] for i in range(n - 2)) if freq.get(g))
            out.append(w)
        return out

    def _cut(self, text: str) -> tuple[list[str], dict[str, int]]:
        """(`jieba.lcut(text, HMM=False)`, the dictionary entries of `text`'s substrings)."""
        tls = self._tls
        recent = getattr(tls, "recent", None)
        if recent is None:  # one jieba tokenizer per thread, its FREQ swapped per text
            import jieba

            tk = tls.tk = jieba.Tokenizer()
            tk.initialized = True
            tk.total = self.total
            recent = tls.recent = {}
        got = recent.get(text)
        if got is None:
            freq = self.subset(text)
            tls.tk.FREQ = freq
            got = (tls.tk.lcut(text, HMM=False), freq)
            if len(recent) >= RECENT_CUTS:
                del recent[next(iter(recent))]  # the oldest
            recent[text] = got
        return got


def _jieba_dict() -> tuple[bytes, str]:
    import jieba

    with jieba.dt.get_dict_file() as f:
        raw = f.read()
    return raw, hashlib.sha256(raw).hexdigest()[:16]


def _build(raw: bytes) -> WordFreq:
    import jieba

    freq, total = jieba.Tokenizer.gen_pfdict(io.BytesIO(raw))
    return WordFreq.from_freq(freq, total)


_DEFAULT_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def default() -> WordFreq:
    """jieba's default dictionary, from the cache file named after the dictionary's SHA-256; built when missing or
    damaged (about 4 s, once), kept in memory when the cache folder cannot be written. One thread at a time
    loads or builds it: a search that arrives meanwhile waits, then reads the file just written (it builds
    again only when the cache folder cannot be written)."""
    with _DEFAULT_LOCK:
        return _load_default()


def _load_default() -> WordFreq:
    raw, digest = _jieba_dict()
    path = cache_dir() / f"jieba-{digest}-v{FORMAT}.npz"
    try:
        return WordFreq.load(path)
    except FileNotFoundError:
        pass
    except Exception as e:  # damaged or stale: a cache, so rebuild it
        log.warning("rebuilding the word-frequency cache %s: %s", path, str(e)[:200])
    wf = _build(raw)
    try:
        wf.save(path)
    except OSError as e:
        log.warning("cannot write the word-frequency cache %s (%s); it will be rebuilt next start", path, e)
    return wf
